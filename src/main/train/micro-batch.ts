/**
 * @file Runs one training batch as several smaller forward/backward passes when the backend cannot
 * hold the whole batch's activations, and combines their gradients into exactly the full batch's.
 *
 * Why: tfjs-backend-wasm addresses its heap with signed 32-bit offsets, so a step whose tape needs
 * more than 2 GiB fails with "memory access out of bounds" (yolo11n at imgsz 320 uses ~1.3 GiB
 * for 4 images). Ultralytics' loss of a batch is B * sum(parts) / tss, where tss is the target-score
 * sum over the whole batch (clamped to >= 1), so pass j's gradients are weighted by
 * B/b_j * tss_j / tss, tss_j being the pass's own (clamped) divisor.
 * What still differs from one big pass: BatchNorm sees each micro-batch's statistics (as Ultralytics'
 * multi-GPU training without SyncBN does), and its running stats are updated once per micro-batch
 * with the momentum lowered to keep the per-batch decay the same.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../model/backend';
import type { YoloModel } from '../model/yolo';
import type { Batch } from './data/loader';
import type { V8DetectionLoss } from './loss/detection-loss';

/** Pixels one wasm pass may hold: 4 images at 320x320 peak at ~1.3 GiB of the 2 GiB heap. */
const WASM_PIXELS_PER_PASS = 4 * 320 * 320;

/** Most images per forward/backward pass on this backend at this image size (Infinity: no limit). */
export function maxImagesPerPass(backend: BackendName, height: number, width: number): number {
  if (backend !== 'wasm') return Infinity;
  return Math.max(1, Math.floor(WASM_PIXELS_PER_PASS / (height * width)));
}

/** Images [from, to) of a batch, its boxes re-indexed from 0. */
export function sliceBatch(b: Batch, from: number, to: number): Batch {
  const px = b.height * b.width * 3;
  const keep: number[] = [];
  for (let k = 0; k < b.batchIdx.length; k++) if (b.batchIdx[k]! >= from && b.batchIdx[k]! < to) keep.push(k);
  const boxes = new Float32Array(keep.length * 4);
  keep.forEach((k, j) => boxes.set(b.boxes.subarray(k * 4, k * 4 + 4), j * 4));
  return {
    ...b,
    count: to - from,
    images: b.images.subarray(from * px, to * px),
    batchIdx: Int32Array.from(keep, (k) => b.batchIdx[k]! - from),
    cls: Int32Array.from(keep, (k) => b.cls[k]!),
    boxes,
    indices: b.indices.subarray(from, to),
    originalSizes: b.originalSizes.subarray(from * 2, to * 2),
    ratioPad: b.ratioPad.subarray(from * 4, to * 4),
  };
}

export interface BatchGradients {
  /** d(loss of the whole batch)/d(param), by parameter name. */
  grads: Map<string, tf.Tensor>;
  /** [box, cls, dfl] of the whole batch, as one pass would report them. */
  items: [number, number, number];
  passes: number;
}

/**
 * Gradients of Ultralytics' loss of batch `b` with respect to `vars`, in passes of at most
 * `perPass` images. `nameOf` maps tfjs variable names to parameter names.
 */
export function batchGradients(
  model: YoloModel,
  loss: V8DetectionLoss,
  b: Batch,
  vars: tf.Variable[],
  nameOf: ReadonlyMap<string, string>,
  perPass: number,
): BatchGradients {
  const passes = Math.ceil(b.count / Math.max(1, perPass));
  if (passes <= 1) {
    const r = onePass(model, loss, b, vars, nameOf);
    return { grads: r.grads, items: r.items, passes: 1 };
  }
  const size = Math.ceil(b.count / passes);
  const restore = scaleBatchNormMomentum(model, passes);
  const parts: (PassResult & { count: number })[] = [];
  try {
    for (let from = 0; from < b.count; from += size) {
      const sub = sliceBatch(b, from, Math.min(b.count, from + size));
      parts.push({ ...onePass(model, loss, sub, vars, nameOf), count: sub.count });
    }
  } catch (e) {
    for (const p of parts) tf.dispose([...p.grads.values()]);
    throw e;
  } finally {
    restore();
  }
  // The whole batch's divisor: its clamp applies to the sum, not to each pass's part of it.
  const tss = Math.max(1, parts.reduce((s, p) => s + p.rawScoreSum, 0));
  const items: [number, number, number] = [0, 0, 0];
  for (const p of parts) for (let k = 0; k < 3; k++) items[k]! += (p.items[k]! * p.tss) / tss;
  const grads = new Map<string, tf.Tensor>();
  for (const p of parts) {
    const w = ((b.count / p.count) * p.tss) / tss;
    for (const [name, g] of p.grads) {
      const prev = grads.get(name);
      const scaled = tf.mul(g, w);
      g.dispose();
      if (prev) {
        grads.set(name, tf.add(prev, scaled));
        prev.dispose();
        scaled.dispose();
      } else grads.set(name, scaled);
    }
  }
  return { grads, items, passes };
}

interface PassResult {
  grads: Map<string, tf.Tensor>;
  items: [number, number, number];
  /** The pass's own divisor, max(score sum, 1), and the score sum itself. */
  tss: number;
  rawScoreSum: number;
}

function onePass(
  model: YoloModel,
  loss: V8DetectionLoss,
  b: Batch,
  vars: tf.Variable[],
  nameOf: ReadonlyMap<string, string>,
): PassResult {
  const x = tf.tensor4d(b.images, [b.count, b.height, b.width, 3]);
  let items: [number, number, number] = [0, 0, 0];
  try {
    const { value, grads } = tf.variableGrads(() => {
      const out = loss.compute(model.forward(x, { training: true }), { batchIdx: b.batchIdx, cls: b.cls, bboxes: b.boxes }, { imgsz: [b.height, b.width] });
      items = out.items;
      return out.total;
    }, vars);
    value.dispose();
    const byName = new Map<string, tf.Tensor>();
    for (const [varName, g] of Object.entries(grads)) byName.set(nameOf.get(varName) ?? varName, g);
    return { grads: byName, items, tss: loss.last?.targetScoresSum ?? 1, rawScoreSum: loss.last?.rawScoreSum ?? 0 };
  } finally {
    x.dispose();
  }
}

/** Sets every BatchNorm's momentum to 1 - (1 - m)^(1/k), so k updates decay as one; returns the undo. */
function scaleBatchNormMomentum(model: YoloModel, k: number): () => void {
  const saved = [...model.store.batchNorms.values()].map((bn) => [bn, bn.momentum] as const);
  for (const [bn, m] of saved) bn.momentum = 1 - Math.pow(1 - m, 1 / k);
  return () => {
    for (const [bn, m] of saved) bn.momentum = m;
  };
}
