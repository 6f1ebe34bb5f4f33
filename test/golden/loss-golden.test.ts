/**
 * v8DetectionLoss against Ultralytics 8.3.186 (../shared/golden/yolo11n-coco, see golden.json):
 * the raw train-mode head outputs of the two-image loss batch (loss_raw_p3/p4/p5, NCHW) and its
 * 10 targets (loss_targets: batch_idx, cls, x, y, w, h normalised) must give loss_items within 1e-3
 * relative; the gradient w.r.t. the raw outputs must be finite, reach every level, agree with its
 * closed form on class logits and with central differences on box-distribution logits; the loss
 * must not leak tensors.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerGradients } from '../../src/main/model/gradients';
import { V8DetectionLoss, type DetectionTargets } from '../../src/main/train/loss/detection-loss';
import { useModelTestBackend } from '../helpers/model-fixtures';

const repoRoot = path.resolve(__dirname, '../..');
const GOLDEN = path.resolve(repoRoot, '../shared/golden/yolo11n-coco');

interface GoldenJson {
  arrays: Record<string, { shape: number[] }>;
  loss: { values: { box: number; cls: number; dfl: number; batch_size: number; 'backprop_total=(loss_items*bs).sum()': number } };
}
const golden = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'golden.json'), 'utf8')) as GoldenJson;
const readF32 = (name: string): Float32Array => {
  const b = fs.readFileSync(path.join(GOLDEN, `${name}.bin`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** loss_targets [T, 6] -> collate form. */
export function goldenTargets(): DetectionTargets {
  const t = readF32('loss_targets');
  const n = golden.arrays.loss_targets!.shape[0]!;
  const batchIdx = new Int32Array(n);
  const cls = new Float32Array(n);
  const bboxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    batchIdx[i] = t[6 * i]!;
    cls[i] = t[6 * i + 1]!;
    bboxes.set(t.subarray(6 * i + 2, 6 * i + 6), 4 * i);
  }
  return { batchIdx, cls, bboxes };
}

/** NCHW golden level -> NHWC tensor. */
function rawLevel(name: string): tf.Tensor4D {
  const shape = golden.arrays[name]!.shape as [number, number, number, number];
  return tf.tidy(() => tf.transpose(tf.tensor4d(readF32(name), shape), [0, 2, 3, 1]));
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('v8DetectionLoss golden (yolo11n-coco, Ultralytics 8.3.186)', () => {
  let raw: tf.Tensor4D[];
  const targets = goldenTargets();

  beforeAll(async () => {
    await useModelTestBackend();
    await registerGradients();
    raw = ['loss_raw_p3', 'loss_raw_p4', 'loss_raw_p5'].map(rawLevel);
  });
  afterAll(() => tf.dispose(raw));

  it('the targets are the 10 boxes of the two images', () => {
    expect(Array.from(targets.batchIdx)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(raw.map((r) => r.shape)).toEqual([
      [2, 40, 40, 144],
      [2, 20, 20, 144],
      [2, 10, 10, 144],
    ]);
  });

  it.each(['js', 'device'] as const)('matches loss_items within 1e-3 relative (class loss in %s)', (clsLossOn) => {
    const ref = Array.from(readF32('loss_items'));
    const { values } = golden.loss;
    expect(ref[0]).toBeCloseTo(values.box, 5);
    const crit = new V8DetectionLoss({ nc: 80, stride: [8, 16, 32], clsLossOn });
    const { total, items } = crit.compute(raw, targets, { imgsz: [320, 320] });
    const errs = items.map((v, i) => relErr(v, ref[i]!));
    const t = total.dataSync()[0]!;
    console.log(
      `[${clsLossOn}] loss items box/cls/dfl ${items.map((v) => v.toFixed(5)).join(' / ')} vs ${ref.map((v) => v.toFixed(5)).join(' / ')}; ` +
        `relative errors ${errs.map((e) => e.toExponential(2)).join(' / ')}; total ${t.toFixed(5)} vs ${values['backprop_total=(loss_items*bs).sum()'].toFixed(5)}; ` +
        `${crit.last!.numFg} foreground anchors, target score sum ${crit.last!.targetScoresSum.toFixed(4)}`,
    );
    for (const e of errs) expect(e).toBeLessThan(1e-3);
    expect(relErr(t, values['backprop_total=(loss_items*bs).sum()'])).toBeLessThan(1e-3);
    total.dispose();
  });

  it.each(['js', 'device'] as const)('gives finite gradients w.r.t. the raw outputs that agree with the closed form and with finite differences (class loss in %s)', (clsLossOn) => {
    const criterion = new V8DetectionLoss({ nc: 80, stride: [8, 16, 32], clsLossOn });
    const lossOf = (xs: tf.Tensor[]) => criterion.compute(xs as tf.Tensor4D[], targets).total;
    const g = tf.grads((...xs: tf.Tensor[]) => lossOf(xs));
    const grads = g(raw) as tf.Tensor4D[];
    const gd = grads.map((t) => t.dataSync());
    for (const d of gd) expect(d.every(Number.isFinite)).toBe(true);
    // every level gets gradient on both the box and the class channels
    const B = 2;
    const tss = criterion.last!.targetScoresSum;
    const assign = criterion.last!.assign;
    const norms = gd.map((d) => {
      let box = 0;
      let cls = 0;
      for (let i = 0; i < d.length; i++) (i % 144 < 64 ? (box += d[i]! ** 2) : (cls += d[i]! ** 2));
      return [Math.sqrt(box), Math.sqrt(cls)];
    });
    console.log(`|dL/draw| box/cls per level: ${norms.map(([a, b]) => `${a!.toExponential(2)}/${b!.toExponential(2)}`).join(', ')}`);
    for (const [box, cls] of norms) {
      expect(box).toBeGreaterThan(0);
      expect(cls).toBeGreaterThan(0);
    }

    // Class logits: d total / dx = B * gain_cls * (sigmoid(x) - target) / tss, everywhere.
    const rd = raw.map((r) => r.dataSync());
    const N = [1600, 400, 100];
    let worst = 0;
    for (let lvl = 0; lvl < 3; lvl++) {
      const off = N.slice(0, lvl).reduce((a, b) => a + b, 0);
      for (let b = 0; b < B; b++) {
        for (let a = 0; a < N[lvl]!; a++) {
          const anchor = b * 2100 + off + a;
          for (let c = 0; c < 80; c++) {
            const i = (b * N[lvl]! + a) * 144 + 64 + c;
            const y = assign.fgMask[anchor] && assign.targetLabels[anchor] === c ? assign.targetScore[anchor]! : 0;
            const want = (B * 0.5 * (1 / (1 + Math.exp(-rd[lvl]![i]!)) - y)) / tss;
            worst = Math.max(worst, Math.abs(gd[lvl]![i]! - want));
          }
        }
      }
    }
    expect(worst).toBeLessThan(1e-6);

    // Box-distribution logits of foreground anchors: central differences with the assignment held
    // fixed (the assigner sees detached predictions, so the tape ignores how targets move with them).
    const assignment = assign;
    const fg: number[] = [];
    for (let i = 0; i < assign.fgMask.length; i++) if (assign.fgMask[i]) fg.push(i);
    // the three anchors with the largest target scores, and one with a small one
    fg.sort((p, q) => assign.targetScore[q]! - assign.targetScore[p]!);
    const picks = [fg[0]!, fg[1]!, fg[2]!, fg[Math.floor(fg.length * 0.75)]!];
    const h = 2e-2;
    let fdErr = 0;
    for (const anchor of picks) {
      const b = Math.floor(anchor / 2100);
      let a = anchor % 2100;
      let lvl = 0;
      while (a >= N[lvl]!) a -= N[lvl++]!;
      // per side, the bin with the largest gradient
      const row = (b * N[lvl]! + a) * 144;
      const channels = [0, 1, 2, 3].map((side) => {
        let best = side * 16;
        for (let j = side * 16; j < side * 16 + 16; j++) if (Math.abs(gd[lvl]![row + j]!) > Math.abs(gd[lvl]![row + best]!)) best = j;
        return best;
      });
      for (const ch of channels) {
        const i = row + ch;
        const at = (delta: number) =>
          tf.tidy(() => {
            const v = rd[lvl]!.slice() as Float32Array;
            v[i] = v[i]! + delta;
            const xs = raw.map((r, k) => (k === lvl ? tf.tensor4d(v, r.shape) : r));
            // the class loss does not depend on box logits once the assignment is fixed: leave it
            // out of the difference (smaller values, finer float32 resolution)
            const { total, items } = criterion.compute(xs as tf.Tensor4D[], targets, { assignment });
            total.dispose();
            return (items[0] + items[2]) * B;
          });
        const numeric = (at(h) - at(-h)) / (2 * h);
        const tape = gd[lvl]![i]!;
        if (Math.abs(tape) > 1e-3) fdErr = Math.max(fdErr, Math.abs(numeric - tape) / Math.abs(tape));
        expect(Math.abs(numeric - tape), `anchor ${anchor} channel ${ch}: numeric ${numeric} vs tape ${tape}`).toBeLessThan(0.01 * Math.abs(tape) + 5e-5);
      }
    }
    console.log(`[${clsLossOn}] class-logit gradient vs closed form: max abs error ${worst.toExponential(2)}; box logits vs central differences: max relative error (|g| > 1e-3) ${fdErr.toExponential(2)}`);
    tf.dispose(grads);
  });

  it.each(['js', 'device'] as const)('leaks no tensors across repeated loss + backward (class loss in %s)', (clsLossOn) => {
    const criterion = new V8DetectionLoss({ nc: 80, stride: [8, 16, 32], clsLossOn });
    const step = () => {
      const { value, grads } = tf.tidy(() => {
        const xs = raw.map((r) => tf.variable(r));
        const out = tf.variableGrads(() => criterion.compute(xs, targets).total, xs);
        tf.dispose(xs);
        return out;
      });
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) step();
    expect(tf.memory().numTensors).toBe(before);
  });
});
