/**
 * v8DetectionLoss on hand-made outputs whose loss has a closed form: no targets (only the class
 * term, BCE against zeros), one target predicted exactly by two-bin distributions (box ~0, DFL = the
 * entropy of the two bins, class term = N * nc * ln 2 / tss), a target larger than the image; both
 * class-loss paths, gradients, and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerGradients } from '../../../../src/main/model/gradients';
import { makeAnchors } from '../../../../src/main/model/modules/head';
import { bbox2dist, V8DetectionLoss, type DetectionTargets } from '../../../../src/main/train/loss/detection-loss';

const RM = 16;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** Raw NHWC levels [B, h, w, 4*16 + nc] with values fill(b, level, y, x, channel). */
function rawLevels(B: number, sizes: number[], nc: number, fill: (b: number, l: number, y: number, x: number, c: number) => number): tf.Tensor4D[] {
  const no = 4 * RM + nc;
  return sizes.map((n, l) => {
    const v = new Float32Array(B * n * n * no);
    for (let b = 0; b < B; b++) for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) for (let c = 0; c < no; c++) v[(((b * n + y) * n + x) * no) + c] = fill(b, l, y, x, c);
    return tf.tensor4d(v, [B, n, n, no]);
  });
}

/** A seeded uniform in [lo, hi). */
function rng(seed: number) {
  let s = seed >>> 0;
  return (lo: number, hi: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 4294967296;
  };
}

const noTargets: DetectionTargets = { batchIdx: [], cls: [], bboxes: [] };

beforeAll(async () => {
  await tf.setBackend('cpu');
  await registerGradients();
});

describe('makeAnchors / bbox2dist', () => {
  it('anchors are cell centres, row-major per level, with their strides', () => {
    const { anchorPoints, strideTensor } = makeAnchors(
      [
        [2, 3],
        [1, 1],
      ],
      [8, 16],
    );
    expect(Array.from(anchorPoints)).toEqual([0.5, 0.5, 1.5, 0.5, 2.5, 0.5, 0.5, 1.5, 1.5, 1.5, 2.5, 1.5, 0.5, 0.5]);
    expect(Array.from(strideTensor)).toEqual([8, 8, 8, 8, 8, 8, 16]);
  });

  it('bbox2dist clamps distances to [0, reg_max - 0.01]', () => {
    const out = new Float32Array(4);
    bbox2dist(0.5, 0.5, [-100, -2, 3.25, 100], 0, 15, out, 0);
    expect(Array.from(out)).toEqual([Math.fround(14.99), 2.5, 2.75, Math.fround(14.99)]);
    bbox2dist(5, 5, [6, 6, 7, 7], 0, 15, out, 0); // anchor outside the box: negative distances clamp to 0
    expect(Array.from(out)).toEqual([0, 0, 2, 2]);
  });
});

describe('V8DetectionLoss', () => {
  it.each(['js', 'device'] as const)('no targets: only the class term, BCE against zeros summed over everything (%s)', (clsLossOn) => {
    const r = rng(1);
    const raw = rawLevels(2, [8, 4, 2], 3, () => r(-6, 2)); // 64 x 64 input, N = 84
    const crit = new V8DetectionLoss({ nc: 3, stride: [8, 16, 32], clsLossOn });
    let sum = 0;
    const data = raw.map((t) => t.dataSync());
    for (const d of data) for (let i = 0; i < d.length; i++) if (i % 67 >= 64) sum += softplus(d[i]!);
    const g = tf.grads((...xs: tf.Tensor[]) => crit.compute(xs as tf.Tensor4D[], noTargets).total);
    const { total, items } = crit.compute(raw, noTargets);
    expect(items[0]).toBe(0);
    expect(items[2]).toBe(0);
    expect(items[1]).toBeCloseTo(0.5 * sum, 3); // target_scores_sum = max(0, 1) = 1
    expect(total.dataSync()[0]).toBeCloseTo(2 * 0.5 * sum, 2);
    expect(crit.last!.numFg).toBe(0);
    // d total / d cls logit = B * 0.5 * sigmoid(x); nothing on the box channels
    const grads = g(raw);
    grads.forEach((gr, l) => {
      const gd = gr.dataSync();
      for (let i = 0; i < gd.length; i++) {
        const want = i % 67 >= 64 ? 2 * 0.5 * sigmoid(data[l]![i]!) : 0;
        expect(Math.abs(gd[i]! - want)).toBeLessThan(1e-6);
      }
    });
    tf.dispose([...raw, total, ...grads]);
  });

  it.each(['js', 'device'] as const)('one target predicted exactly: box ~0, DFL = two-bin entropy, class = N nc ln2 / tss (%s)', (clsLossOn) => {
    // One level, stride 8, 8 x 8 anchors (64 x 64 input), 2 classes. GT class 1 at grid [1.2, 1.2, 5.2, 5.2]
    // (pixels [9.6, 9.6, 41.6, 41.6]; normalised cx, cy, w, h = 0.4, 0.4, 0.5, 0.5): 16 anchors inside.
    // Each side's logits put weight p = floor(t) + 1 - t on bin floor(t) and 1 - p on the next, all else
    // ~0, so the decoded box is the GT box and the DFL of a side is H(p) = -(p ln p + (1-p) ln(1-p)).
    // Left/top distances are k - 0.7 (p = 0.7), right/bottom 4.7 - k (p = 0.3): H(0.7) everywhere.
    // Class logits 0: BCE = ln 2 whatever the target.
    const gt = [1.2, 1.2, 5.2, 5.2];
    const raw = rawLevels(1, [8], 2, (_b, _l, y, x, c) => {
      if (c >= 64) return 0;
      const side = Math.floor(c / RM);
      const bin = c % RM;
      const [ax, ay] = [x + 0.5, y + 0.5];
      const t = Math.min(Math.max([ax - gt[0]!, ay - gt[1]!, gt[2]! - ax, gt[3]! - ay][side]!, 0), 14.99);
      const tl = Math.floor(t);
      const p = tl + 1 - t;
      return bin === tl ? Math.log(p) : bin === tl + 1 ? Math.log(1 - p) : -60;
    });
    const crit = new V8DetectionLoss({ nc: 2, stride: [8], clsLossOn });
    const targets: DetectionTargets = { batchIdx: [0], cls: [1], bboxes: [0.4, 0.4, 0.5, 0.5] };
    const { total, items } = crit.compute(raw, targets, { imgsz: [64, 64] });
    const { assign, numFg, targetScoresSum } = crit.last!;
    expect(numFg).toBe(10); // topk
    for (let a = 0; a < 64; a++) {
      if (!assign.fgMask[a]) continue;
      const [ax, ay] = [(a % 8) + 0.5, Math.floor(a / 8) + 0.5];
      expect(ax > 1.2 && ax < 5.2 && ay > 1.2 && ay < 5.2).toBe(true);
      expect(assign.targetLabels[a]).toBe(1);
      expect(assign.targetScore[a]).toBeCloseTo(1, 5); // equal metrics, CIoU ~1
    }
    expect(targetScoresSum).toBeCloseTo(10, 4);
    const H = -(0.7 * Math.log(0.7) + 0.3 * Math.log(0.3));
    expect(items[0]).toBeLessThan(1e-5);
    expect(items[2]).toBeCloseTo(1.5 * H, 4);
    expect(items[1]).toBeCloseTo((0.5 * 64 * 2 * Math.LN2) / targetScoresSum, 4);
    expect(total.dataSync()[0]).toBeCloseTo(items[0] + items[1] + items[2], 4);
    tf.dispose([...raw, total]);
  });

  it('a target larger than the image, batch of two with one empty image: finite loss, gradients where they belong, both class paths agree', () => {
    const r = rng(7);
    const raw = rawLevels(2, [8, 4, 2], 4, () => r(-4, 4));
    // cx, cy = 0.5, w, h = 3: pixels [-64, -64, 128, 128] on a 64 x 64 input
    const targets: DetectionTargets = { batchIdx: [0], cls: [2], bboxes: [0.5, 0.5, 3, 3] };
    const vars = raw.map((t) => tf.variable(t));
    const results = (['js', 'device'] as const).map((clsLossOn) => {
      const crit = new V8DetectionLoss({ nc: 4, stride: [8, 16, 32], clsLossOn });
      const { value, grads } = tf.variableGrads(() => crit.compute(vars as unknown as tf.Tensor4D[], targets).total, vars);
      const { total, items } = crit.compute(raw, targets);
      expect(total.dataSync()[0]).toBeCloseTo(value.dataSync()[0]!, 4);
      tf.dispose([value, total]);
      return { crit, items, grads: vars.map((v) => grads[v.name]!) };
    });
    const [js, dev] = results;
    expect(js!.crit.last!.numFg).toBe(10);
    const fg = [...js!.crit.last!.assign.fgMask.keys()].filter((i) => js!.crit.last!.assign.fgMask[i]);
    expect(fg.every((i) => i < 84)).toBe(true); // image 0 only
    for (const k of [0, 1, 2]) {
      expect(Number.isFinite(js!.items[k])).toBe(true);
      expect(js!.items[k]).toBeGreaterThan(0);
      expect(Math.abs(js!.items[k]! - dev!.items[k]!)).toBeLessThan(1e-5 * Math.abs(dev!.items[k]!) + 1e-6);
    }
    const gj = js!.grads.map((g) => g.dataSync());
    const gdv = dev!.grads.map((g) => g.dataSync());
    let diff = 0;
    let boxOutsideFg = 0;
    const no = 68;
    const sizes = [64, 16, 4];
    gj.forEach((g, l) => {
      expect(g.every(Number.isFinite)).toBe(true);
      for (let i = 0; i < g.length; i++) {
        diff = Math.max(diff, Math.abs(g[i]! - gdv[l]![i]!));
        const row = Math.floor(i / no);
        const anchor = Math.floor(row / sizes[l]!) * 84 + [0, 64, 80][l]! + (row % sizes[l]!);
        if (i % no < 64 && !fg.includes(anchor)) boxOutsideFg = Math.max(boxOutsideFg, Math.abs(g[i]!));
      }
    });
    expect(diff).toBeLessThan(1e-6);
    expect(boxOutsideFg).toBe(0); // box logits of background anchors get nothing
    // ... and the foreground ones do
    const fgBoxNorm = fg.reduce((acc, anchor) => {
      const l = anchor % 84 < 64 ? 0 : anchor % 84 < 80 ? 1 : 2;
      const row = Math.floor(anchor / 84) * sizes[l]! + (anchor % 84) - [0, 64, 80][l]!;
      let s = 0;
      for (let c = 0; c < 64; c++) s += gj[l]![row * no + c]! ** 2;
      return acc + s;
    }, 0);
    expect(fgBoxNorm).toBeGreaterThan(0);
    for (const res of results) tf.dispose(res.grads);
    tf.dispose([...raw, ...vars]);
  });

  it('leaks no tensors over repeated loss + backward steps', () => {
    const r = rng(3);
    const vars = rawLevels(2, [8, 4, 2], 3, () => r(-4, 4)).map((t) => {
      const v = tf.variable(t);
      t.dispose();
      return v;
    });
    const crit = new V8DetectionLoss({ nc: 3, stride: [8, 16, 32] });
    const targets: DetectionTargets = { batchIdx: [0, 1, 1], cls: [0, 1, 2], bboxes: [0.3, 0.3, 0.2, 0.3, 0.6, 0.5, 0.5, 0.4, 0.5, 0.5, 0.1, 0.1] };
    const step = () => {
      const { value, grads } = tf.variableGrads(() => crit.compute(vars as unknown as tf.Tensor4D[], targets).total, vars);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(vars);
  });

  it('pads images to the most boxes of any image and keeps row order; rejects bad shapes', () => {
    const crit = new V8DetectionLoss({ nc: 3, stride: [8, 16, 32] });
    const p = crit.preprocess({ batchIdx: [1, 0, 1], cls: [2, 1, 0], bboxes: [0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.5, 0.5, 0, 0, 0, 0] }, 2, [64, 128]);
    expect(p.nMaxBoxes).toBe(2);
    expect(Array.from(p.gtLabels)).toEqual([1, 0, 2, 0]);
    expect(Array.from(p.maskGt)).toEqual([1, 0, 1, 0]); // an all-zero box counts as padding, as x1+y1+x2+y2 > 0 decides
    expect(Array.from(p.gtBboxes.subarray(8, 12))).toEqual([32, 24, 96, 40]); // (w, h) = (128, 64)
    expect(() => crit.preprocess({ batchIdx: [0], cls: [3], bboxes: [0.5, 0.5, 0.1, 0.1] }, 1, [64, 64])).toThrow(/class 3 of box 0 is not in 0\.\.2/);
    const bad = tf.zeros([1, 8, 8, 10]) as tf.Tensor4D;
    expect(() => crit.compute([bad, bad, bad], noTargets)).toThrow(/expected \[1, h, w, 67\]/);
    const raw = rawLevels(1, [8, 4, 2], 3, () => 0);
    expect(() => crit.compute(raw, noTargets, { imgsz: [320, 320] })).toThrow(/imply \[64, 64\]/);
    tf.dispose([bad, ...raw]);
  });
});
