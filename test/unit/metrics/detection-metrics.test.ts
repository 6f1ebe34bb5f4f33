import { describe, expect, it } from 'vitest';
import { apPerClass } from '../../../src/main/metrics/ap';
import { DetectionMetrics, fitness } from '../../../src/main/metrics/detection-metrics';

describe('DetectionMetrics', () => {
  it('matches predictions per image and reports Ultralytics\' summary numbers', () => {
    const m = new DetectionMetrics({ nc: 3, names: ['cat', 'dog', 'bird'] });
    // image 1: two cats, found at conf .9 (exact) and .6 (IoU ~0.68); a dog false positive
    m.add({
      predBoxes: Float32Array.of(0, 0, 10, 10, 20, 20, 30, 30, 50, 50, 60, 60),
      predConf: [0.9, 0.6, 0.8],
      predCls: [0, 0, 1],
      gtBoxes: Float32Array.of(0, 0, 10, 10, 20, 20, 30, 32),
      gtCls: [0, 0],
    });
    // image 2: a dog, missed; no predictions
    m.add({ predBoxes: new Float32Array(0), predConf: [], predCls: [], gtBoxes: Float32Array.of(0, 0, 5, 5), gtCls: [1] });
    const r = m.compute();
    expect(r.images).toBe(2);
    expect(r.instances).toBe(3);
    expect(r.perClass.map((c) => c.name)).toEqual(['cat', 'dog']);
    const cat = r.perClass[0]!;
    expect(cat.ap50).toBeCloseTo(0.995, 9); // both cats found, in order, no FP
    // IoU of the second cat: 100 / (100 + 120 - 100) = 0.8333, so it is a TP up to 0.80
    const tpCat = new Uint8Array(20);
    tpCat.fill(1, 0, 10);
    tpCat.fill(1, 10, 17);
    const ref = apPerClass({ tp: tpCat, niou: 10, conf: [0.9, 0.6], predCls: [0, 0], targetCounts: [2] });
    let sum = 0;
    for (let j = 0; j < 10; j++) sum += ref.ap[j]!;
    expect(cat.ap50_95).toBeCloseTo(sum / 10, 12);
    const dog = r.perClass[1]!;
    expect(dog.ap50).toBe(0);
    expect(dog.images).toBe(1);
    expect(r.mAP50).toBeCloseTo((cat.ap50 + 0) / 2, 12);
    expect(r.mAP50_95).toBeCloseTo(cat.ap50_95 / 2, 12);
    expect(r.fitness).toBeCloseTo(fitness(r.mAP50, r.mAP50_95), 12);
    expect(r.maps[2]).toBeCloseTo(r.mAP50_95, 12); // bird has no labels: the overall mAP
    expect(r.confusion?.at(0, 0)).toBe(2);
    expect(r.confusion?.at(1, 3)).toBe(1);
    expect(r.confusion?.at(3, 1)).toBe(1);
  });

  it('is all zeros with no labels', () => {
    const m = new DetectionMetrics({ nc: 2, confusion: false });
    m.add({ predBoxes: Float32Array.of(0, 0, 1, 1), predConf: [0.5], predCls: [0], gtBoxes: new Float32Array(0), gtCls: [] });
    const r = m.compute();
    expect([r.mAP50, r.mAP50_95, r.precision, r.recall]).toEqual([0, 0, 0, 0]);
    expect(r.confusion).toBeNull();
  });

  it('rejects label classes outside the model', () => {
    const m = new DetectionMetrics({ nc: 2 });
    expect(() => m.add({ predBoxes: new Float32Array(0), predConf: [], predCls: [], gtBoxes: Float32Array.of(0, 0, 1, 1), gtCls: [5] })).toThrow(/outside/);
  });

  it('keeps up with COCO val scale (5k images, 300 predictions each)', () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const m = new DetectionMetrics({ nc: 80, confusion: false });
    const t0 = performance.now();
    for (let i = 0; i < 5000; i++) {
      const ng = 7;
      const gt = new Float32Array(ng * 4);
      const gtCls = new Int32Array(ng);
      for (let g = 0; g < ng; g++) {
        const x = rnd() * 500;
        const y = rnd() * 500;
        gt.set([x, y, x + 20 + rnd() * 100, y + 20 + rnd() * 100], 4 * g);
        gtCls[g] = Math.floor(rnd() * 80);
      }
      const np = 300;
      const pb = new Float32Array(np * 4);
      const pc = new Float32Array(np);
      const pcls = new Int32Array(np);
      for (let d = 0; d < np; d++) {
        const g = d % ng;
        const j = rnd() * 10;
        pb.set([gt[4 * g]! + j, gt[4 * g + 1]! + j, gt[4 * g + 2]! + j, gt[4 * g + 3]! - j], 4 * d);
        pc[d] = 1 - d / np;
        pcls[d] = rnd() < 0.5 ? gtCls[g]! : Math.floor(rnd() * 80);
      }
      m.add({ predBoxes: pb, predConf: pc, predCls: pcls, gtBoxes: gt, gtCls });
    }
    const r = m.compute();
    const ms = performance.now() - t0;
    expect(r.images).toBe(5000);
    expect(r.mAP50).toBeGreaterThan(0);
    expect(ms).toBeLessThan(20_000);
  });
});
