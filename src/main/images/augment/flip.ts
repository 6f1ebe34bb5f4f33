/**
 * @file Ultralytics' RandomFlip: mirror the image and its boxes left-right (fliplr, default p 0.5)
 * or up-down (flipud, default p 0). Boxes follow exactly: x' = w - x for pixel edges.
 */
import type { Rng } from '../../util/rng';
import type { RawImage } from '../raw-image';
import type { LabeledImage } from './types';

/** Mirrors image and boxes left-right. A new image. */
export function flipHorizontal(input: LabeledImage): LabeledImage {
  const { width: w, height: h, data } = input.image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    for (let x = 0; x < w; x++) {
      const s = row + x * 3;
      const d = row + (w - 1 - x) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  const boxes = new Float32Array(input.boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = w - input.boxes[i + 2]!;
    boxes[i + 1] = input.boxes[i + 1]!;
    boxes[i + 2] = w - input.boxes[i]!;
    boxes[i + 3] = input.boxes[i + 3]!;
  }
  return { image: { data: out, width: w, height: h }, cls: input.cls.slice(), boxes };
}

/** Mirrors image and boxes up-down. A new image. */
export function flipVertical(input: LabeledImage): LabeledImage {
  const { width: w, height: h, data } = input.image;
  const out = new Uint8Array(data.length);
  const len = w * 3;
  for (let y = 0; y < h; y++) out.set(data.subarray(y * len, (y + 1) * len), (h - 1 - y) * len);
  const boxes = new Float32Array(input.boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = input.boxes[i]!;
    boxes[i + 1] = h - input.boxes[i + 3]!;
    boxes[i + 2] = input.boxes[i + 2]!;
    boxes[i + 3] = h - input.boxes[i + 1]!;
  }
  const image: RawImage = { data: out, width: w, height: h };
  return { image, cls: input.cls.slice(), boxes };
}

/**
 * RandomFlip(direction, p): one uniform draw, flip when it is below p (Ultralytics draws even
 * when p is 0, so the random stream does not depend on p).
 */
export function randomFlip(input: LabeledImage, rng: Rng, direction: 'horizontal' | 'vertical', p: number): LabeledImage {
  if (!(rng.next() < p)) return input;
  return direction === 'horizontal' ? flipHorizontal(input) : flipVertical(input);
}
