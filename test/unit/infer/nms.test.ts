import { describe, expect, it } from 'vitest';
import { nmsImage, nonMaxSuppression } from '../../../src/main/infer/nms';

interface Anchor {
  /** cx, cy, w, h */
  box: [number, number, number, number];
  scores: number[];
}

/** A raw `[4 + nc, N]` output, channel-major as the model writes it. */
function rawOutput(nc: number, anchors: Anchor[]): Float32Array {
  const n = anchors.length;
  const out = new Float32Array((4 + nc) * n);
  anchors.forEach((a, i) => {
    for (let k = 0; k < 4; k++) out[k * n + i] = a.box[k]!;
    for (let c = 0; c < nc; c++) out[(4 + c) * n + i] = a.scores[c] ?? 0;
  });
  return out;
}

describe('nmsImage', () => {
  it('converts xywh to xyxy and keeps the more confident of two overlapping boxes', () => {
    const raw = rawOutput(2, [
      { box: [50, 50, 20, 20], scores: [0.6, 0] },
      { box: [52, 50, 20, 20], scores: [0.9, 0] },
      { box: [200, 200, 10, 10], scores: [0.3, 0] },
    ]);
    const d = nmsImage(raw, 6, 3, { conf: 0.25, iou: 0.45 });
    expect(d.count).toBe(2);
    expect([...d.scores]).toEqual([Math.fround(0.9), Math.fround(0.3)]);
    expect([...d.anchors]).toEqual([1, 2]);
    expect([...d.boxes.subarray(0, 4)]).toEqual([42, 40, 62, 60]);
  });

  it('filters by conf strictly and cuts to maxDet, most confident first', () => {
    const anchors: Anchor[] = [0.1, 0.5, 0.4, 0.7, 0.2].map((s, i) => ({ box: [i * 100 + 10, 10, 10, 10], scores: [s] }));
    const d = nmsImage(rawOutput(1, anchors), 5, 5, { conf: 0.2, maxDet: 2 });
    expect([...d.anchors]).toEqual([3, 1]);
    expect(nmsImage(rawOutput(1, anchors), 5, 5, { conf: 0.2 }).count).toBe(3); // 0.2 itself does not pass
  });

  it('offsets classes so they never suppress each other, unless agnostic', () => {
    const raw = rawOutput(2, [
      { box: [50, 50, 20, 20], scores: [0.9, 0] },
      { box: [50, 50, 20, 20], scores: [0, 0.8] },
    ]);
    expect(nmsImage(raw, 6, 2).count).toBe(2);
    const agnostic = nmsImage(raw, 6, 2, { agnostic: true });
    expect(agnostic.count).toBe(1);
    expect(agnostic.classes[0]).toBe(0);
  });

  it('reproduces the offset trick literally when boxes span more than maxWh', () => {
    // with maxWh 1 the class-1 copy is shifted by one pixel only and overlaps class 0 (IoU 0.82)
    const raw = rawOutput(2, [
      { box: [10, 10, 20, 20], scores: [0.9, 0] },
      { box: [10, 10, 20, 20], scores: [0, 0.8] },
    ]);
    expect(nmsImage(raw, 6, 2, { maxWh: 1 }).count).toBe(1);
    expect(nmsImage(raw, 6, 2, { maxWh: 1000 }).count).toBe(2);
  });

  it('gives one row per class above conf with multiLabel, the best class only without', () => {
    const raw = rawOutput(3, [{ box: [50, 50, 20, 20], scores: [0.3, 0.6, 0.01] }]);
    const multi = nmsImage(raw, 7, 1, { conf: 0.05, multiLabel: true });
    expect([...multi.classes]).toEqual([1, 0]);
    expect([...multi.anchors]).toEqual([0, 0]);
    const single = nmsImage(raw, 7, 1, { conf: 0.05 });
    expect([...single.classes]).toEqual([1]);
    // the class filter runs after the best-class pick, as in Ultralytics
    expect(nmsImage(raw, 7, 1, { conf: 0.05, classes: [0] }).count).toBe(0);
    expect([...nmsImage(raw, 7, 1, { conf: 0.05, classes: [0], multiLabel: true }).classes]).toEqual([0]);
  });

  it('drops a box only when IoU is strictly above the threshold', () => {
    // [0,0,10,10] and [0,0,10,5]: IoU exactly 0.5
    const raw = rawOutput(1, [
      { box: [5, 5, 10, 10], scores: [0.9] },
      { box: [5, 2.5, 10, 5], scores: [0.8] },
    ]);
    expect(nmsImage(raw, 5, 2, { iou: 0.5 }).count).toBe(2);
    expect(nmsImage(raw, 5, 2, { iou: 0.49 }).count).toBe(1);
  });

  it('caps the boxes entering NMS at maxNms, keeping the most confident', () => {
    const anchors: Anchor[] = Array.from({ length: 10 }, (_, i) => ({ box: [i * 50 + 10, 10, 10, 10], scores: [0.3 + i * 0.05] }));
    const d = nmsImage(rawOutput(1, anchors), 5, 10, { maxNms: 3 });
    expect([...d.anchors]).toEqual([9, 8, 7]);
  });

  it('validates thresholds and shapes', () => {
    expect(() => nmsImage(new Float32Array(5), 5, 1, { conf: 2 })).toThrow(/confidence/);
    expect(() => nonMaxSuppression(new Float32Array(5), [5, 1])).toThrow(/batch/);
  });
});

describe('nonMaxSuppression', () => {
  it('runs per image of a batch', () => {
    const a = rawOutput(1, [{ box: [10, 10, 4, 4], scores: [0.9] }]);
    const b = rawOutput(1, [{ box: [10, 10, 4, 4], scores: [0.1] }]);
    const both = new Float32Array(10);
    both.set(a, 0);
    both.set(b, 5);
    const res = nonMaxSuppression(both, [2, 5, 1]);
    expect(res.map((d) => d.count)).toEqual([1, 0]);
  });

  it('passes end-to-end outputs [B, N, 6] through the conf filter', () => {
    const e2e = Float32Array.of(0, 0, 10, 10, 0.9, 3, 5, 5, 8, 8, 0.1, 1);
    const [d] = nonMaxSuppression(e2e, [1, 2, 6], { conf: 0.25 });
    expect(d!.count).toBe(1);
    expect(d!.classes[0]).toBe(3);
    expect([...d!.boxes]).toEqual([0, 0, 10, 10]);
  });
});
