/**
 * @file Box arithmetic on flat xyxy arrays ([N, 4] pixels): the parts of Ultralytics' Instances the
 * augmentations use (scale, add_padding, clip, remove_zero_area_boxes) plus box_candidates.
 */
import type { Labels } from './types';

/** Boxes scaled by (sx, sy) and shifted by (dx, dy): x' = x * sx + dx. A new array. */
export function affineBoxes(boxes: Float32Array, sx: number, sy: number, dx: number, dy: number): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = boxes[i]! * sx + dx;
    out[i + 1] = boxes[i + 1]! * sy + dy;
    out[i + 2] = boxes[i + 2]! * sx + dx;
    out[i + 3] = boxes[i + 3]! * sy + dy;
  }
  return out;
}

/** Clips boxes to [0, w] x [0, h], in place. */
export function clipBoxesInPlace(boxes: Float32Array, w: number, h: number): Float32Array {
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = Math.min(Math.max(boxes[i]!, 0), w);
    boxes[i + 1] = Math.min(Math.max(boxes[i + 1]!, 0), h);
    boxes[i + 2] = Math.min(Math.max(boxes[i + 2]!, 0), w);
    boxes[i + 3] = Math.min(Math.max(boxes[i + 3]!, 0), h);
  }
  return boxes;
}

/** The labels whose `keep[i]` is true, in order. */
export function selectLabels(labels: Labels, keep: ArrayLike<boolean>): Labels {
  const cls: number[] = [];
  let n = 0;
  for (let i = 0; i < labels.cls.length; i++) if (keep[i]) n++;
  const boxes = new Float32Array(n * 4);
  let j = 0;
  for (let i = 0; i < labels.cls.length; i++) {
    if (!keep[i]) continue;
    cls.push(labels.cls[i]!);
    boxes.set(labels.boxes.subarray(i * 4, i * 4 + 4), j * 4);
    j++;
  }
  return { cls, boxes };
}

/** Ultralytics' remove_zero_area_boxes: keeps boxes with positive width and height. */
export function nonZeroArea(boxes: Float32Array): boolean[] {
  const keep: boolean[] = [];
  for (let i = 0; i < boxes.length; i += 4) keep.push(boxes[i + 2]! - boxes[i]! > 0 && boxes[i + 3]! - boxes[i + 1]! > 0);
  return keep;
}

/** Labels of several images joined, in order. */
export function concatLabels(parts: readonly Labels[]): Labels {
  const cls = parts.flatMap((p) => p.cls);
  const boxes = new Float32Array(cls.length * 4);
  let o = 0;
  for (const p of parts) {
    boxes.set(p.boxes, o);
    o += p.boxes.length;
  }
  return { cls, boxes };
}

export interface BoxCandidateThresholds {
  /** Minimum width and height in pixels (exclusive). Default 2. */
  whThr?: number;
  /** Maximum aspect ratio (exclusive). Default 100. */
  arThr?: number;
  /** Minimum area kept, as a fraction of the box before the transform (exclusive). Default 0.1. */
  areaThr?: number;
}

/**
 * Ultralytics' RandomPerspective.box_candidates: which transformed boxes are still worth training
 * on. `before` are the boxes before the transform, already scaled by the transform's scale, `after`
 * the transformed and clipped ones (both [N, 4] xyxy).
 * @example boxCandidates([0,0,100,100], [10,10,90,90]) // => [true]
 */
export function boxCandidates(before: ArrayLike<number>, after: ArrayLike<number>, thr: BoxCandidateThresholds = {}): boolean[] {
  const whThr = thr.whThr ?? 2;
  const arThr = thr.arThr ?? 100;
  const areaThr = thr.areaThr ?? 0.1;
  const eps = 1e-16;
  const keep: boolean[] = [];
  for (let i = 0; i < after.length; i += 4) {
    const w1 = before[i + 2]! - before[i]!;
    const h1 = before[i + 3]! - before[i + 1]!;
    const w2 = after[i + 2]! - after[i]!;
    const h2 = after[i + 3]! - after[i + 1]!;
    const ar = Math.max(w2 / (h2 + eps), h2 / (w2 + eps));
    keep.push(w2 > whThr && h2 > whThr && (w2 * h2) / (w1 * h1 + eps) > areaThr && ar < arThr);
  }
  return keep;
}
