/**
 * @file Box IoU for xyxy boxes packed in typed arrays (`[n*4]`: x1, y1, x2, y2 per box), as
 * Ultralytics' `box_iou`: inter / (area1 + area2 - inter + 1e-7). Results are float32, like the
 * torch tensors Ultralytics compares against its thresholds.
 */

/** Boxes as a flat array, four numbers per box: x1, y1, x2, y2. */
export type XyxyArray = Float32Array | Float64Array;

/** Ultralytics' eps in box_iou. */
export const IOU_EPS = 1e-7;

/**
 * Pairwise IoU matrix, row-major `[na, nb]`: `out[i * nb + j]` = IoU(a_i, b_j).
 * `out` may be passed to reuse a buffer (at least na * nb long).
 */
export function boxIou(a: XyxyArray, b: XyxyArray, out?: Float32Array): Float32Array {
  const na = a.length >> 2;
  const nb = b.length >> 2;
  const res = out && out.length >= na * nb ? out : new Float32Array(na * nb);
  const areaB = new Float64Array(nb);
  for (let j = 0; j < nb; j++) areaB[j] = (b[4 * j + 2]! - b[4 * j]!) * (b[4 * j + 3]! - b[4 * j + 1]!);
  for (let i = 0; i < na; i++) {
    const ax1 = a[4 * i]!;
    const ay1 = a[4 * i + 1]!;
    const ax2 = a[4 * i + 2]!;
    const ay2 = a[4 * i + 3]!;
    const areaA = (ax2 - ax1) * (ay2 - ay1);
    const row = i * nb;
    for (let j = 0; j < nb; j++) {
      const w = Math.min(ax2, b[4 * j + 2]!) - Math.max(ax1, b[4 * j]!);
      const h = Math.min(ay2, b[4 * j + 3]!) - Math.max(ay1, b[4 * j + 1]!);
      const inter = w > 0 && h > 0 ? w * h : 0;
      res[row + j] = inter / (areaA + areaB[j]! - inter + IOU_EPS);
    }
  }
  return res;
}

/** IoU of two single boxes given as [x1, y1, x2, y2]. */
export function iouOne(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  const inter = w > 0 && h > 0 ? w * h : 0;
  const areaA = (a[2]! - a[0]!) * (a[3]! - a[1]!);
  const areaB = (b[2]! - b[0]!) * (b[3]! - b[1]!);
  return inter / (areaA + areaB - inter + IOU_EPS);
}

/** Centre-format boxes (cx, cy, w, h) to xyxy, into a new Float32Array. */
export function xywhToXyxy(xywh: ArrayLike<number>): Float32Array {
  const n = xywh.length >> 2;
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const cx = xywh[4 * i]!;
    const cy = xywh[4 * i + 1]!;
    const hw = xywh[4 * i + 2]! / 2;
    const hh = xywh[4 * i + 3]! / 2;
    out[4 * i] = cx - hw;
    out[4 * i + 1] = cy - hh;
    out[4 * i + 2] = cx + hw;
    out[4 * i + 3] = cy + hh;
  }
  return out;
}
