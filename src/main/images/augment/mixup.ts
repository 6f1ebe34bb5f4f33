/**
 * @file Ultralytics' MixUp: blend two augmented images with r ~ Beta(32, 32) (so r stays near 0.5)
 * and keep the labels of both. Off by default (mixup 0).
 */
import type { Rng } from '../../util/rng';
import { concatLabels } from './boxes';
import type { LabeledImage } from './types';

/** Gamma(k, 1) for k >= 1 (Marsaglia and Tsang). */
function gamma(k: number, rng: Rng): number {
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A draw from Beta(a, b) for a, b >= 1. */
export function beta(a: number, b: number, rng: Rng): number {
  const x = gamma(a, rng);
  const y = gamma(b, rng);
  return x / (x + y);
}

/** img = trunc(img1 * r + img2 * (1 - r)) (numpy's astype(uint8)); labels of both. Same size required. */
export function mixup(a: LabeledImage, b: LabeledImage, r: number): LabeledImage {
  if (a.image.width !== b.image.width || a.image.height !== b.image.height) {
    throw new RangeError(`mixup needs images of one size, got ${a.image.width}x${a.image.height} and ${b.image.width}x${b.image.height}`);
  }
  const out = new Uint8Array(a.image.data.length);
  const da = a.image.data;
  const db = b.image.data;
  for (let i = 0; i < out.length; i++) out[i] = Math.trunc(da[i]! * r + db[i]! * (1 - r));
  const labels = concatLabels([a, b]);
  return { image: { data: out, width: a.image.width, height: a.image.height }, ...labels };
}
