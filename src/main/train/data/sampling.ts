/**
 * @file Which images go where, as pure functions of the seed: the epoch's order (shuffled every
 * epoch in training, as Ultralytics' RandomSampler), each sample's random seed, mosaic partners,
 * close_mosaic, and the rect batch shapes of validation.
 *
 * Every sample is addressed by a *ticket*: epoch * n + position in that epoch's order. A sample's
 * augmentation depends only on (seed, ticket), so batches come out identical whichever worker
 * builds them and however many workers there are.
 */
import { Rng } from '../../util/rng';

/** A 32-bit hash of a few integers (murmur3's finaliser over a running mix). */
export function mix32(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    let k = Math.imul(v | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    // Fold in the high bits of values beyond 32 bits (tickets of very long runs).
    h ^= Math.floor(v / 4294967296) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Image indexes in the order epoch `epoch` visits them: shuffled with (seed, epoch), or 0..n-1. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = Array.from({ length: n }, (_, i) => i);
  if (shuffle) new Rng(mix32(seed, epoch, 0x5eed)).shuffle(order);
  return Int32Array.from(order);
}

/** The random stream of one sample. */
export function sampleRng(seed: number, ticket: number): Rng {
  return new Rng(mix32(seed, ticket, 0xa9));
}

/** Ultralytics' mosaic buffer length: min(n, 8 * batch, 1000) images (0 without augmentation). */
export function bufferLength(n: number, batchSize: number): number {
  return Math.max(1, Math.min(n, batchSize * 8, 1000));
}

/**
 * Tickets of `count` mosaic partners for ticket `t`: drawn uniformly from the last `length` tickets
 * up to and including t (never before ticket 0), the images Ultralytics' buffer would hold.
 */
export function partnerTickets(t: number, length: number, count: number, rng: Rng): number[] {
  const span = Math.min(length, t + 1);
  return Array.from({ length: count }, () => t - rng.int(span));
}

/**
 * Mosaic on for this epoch? Ultralytics closes it at epoch == epochs - close_mosaic (0-based) and
 * never reopens it; with close_mosaic > epochs that epoch never comes, so mosaic stays on.
 */
export function mosaicForEpoch(epoch: number, epochs: number, closeMosaic: number, mosaic: number): boolean {
  if (!(mosaic > 0)) return false;
  const closeAt = epochs - closeMosaic;
  return !(closeMosaic > 0 && closeAt >= 0 && epoch >= closeAt);
}

export interface RectBatches {
  /** Image indexes sorted by aspect ratio (h / w). */
  order: Int32Array;
  /** [nb, 2] height, width of each batch, multiples of the stride. */
  shapes: Int32Array;
}

/**
 * Ultralytics' set_rectangle: images sorted by aspect ratio h/w, and per batch the smallest
 * stride-multiple shape that holds the batch's images with the long side at imgsz, plus `pad`
 * strides (0.5 for validation).
 */
export function rectBatches(
  sizes: readonly { width: number; height: number }[],
  batchSize: number,
  imgsz: number,
  stride = 32,
  pad = 0.5,
): RectBatches {
  const n = sizes.length;
  const ar = sizes.map((s) => s.height / s.width);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ar[a]! - ar[b]! || a - b);
  const nb = Math.ceil(n / batchSize);
  const shapes = new Int32Array(nb * 2);
  for (let b = 0; b < nb; b++) {
    let mini = Infinity;
    let maxi = -Infinity;
    for (let k = b * batchSize; k < Math.min(n, (b + 1) * batchSize); k++) {
      const r = ar[order[k]!]!;
      mini = Math.min(mini, r);
      maxi = Math.max(maxi, r);
    }
    let shape: [number, number] = [1, 1];
    if (maxi < 1) shape = [maxi, 1];
    else if (mini > 1) shape = [1, 1 / mini];
    shapes[b * 2] = Math.ceil((shape[0] * imgsz) / stride + pad) * stride;
    shapes[b * 2 + 1] = Math.ceil((shape[1] * imgsz) / stride + pad) * stride;
  }
  return { order: Int32Array.from(order), shapes };
}
