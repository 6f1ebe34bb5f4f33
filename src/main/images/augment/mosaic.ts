/**
 * @file Ultralytics' Mosaic (n=4): four images on a 2s x 2s canvas filled with 114, around a random
 * centre (xc, yc) drawn from [s/2, 3s/2). Image 0 goes top-left of the centre, 1 top-right, 2
 * bottom-left, 3 bottom-right, each cropped where it would leave the canvas. Labels are shifted
 * with their image, clipped to the canvas and boxes of zero area dropped. RandomPerspective then
 * crops the canvas back to s x s with border = -s/2 (`MosaicResult.border`).
 */
import type { Rng } from '../../util/rng';
import type { RawImage } from '../raw-image';
import { affineBoxes, clipBoxesInPlace, concatLabels, nonZeroArea, selectLabels } from './boxes';
import type { LabeledImage } from './types';

/** Where one image lands: canvas rectangle (a) and source rectangle (b), both [x1, y1, x2, y2). */
export interface MosaicPlacement {
  a: [number, number, number, number];
  b: [number, number, number, number];
  /** Offset added to the image's labels: x1a - x1b, y1a - y1b. */
  padw: number;
  padh: number;
}

/**
 * The placement arithmetic of Mosaic._mosaic4 for a canvas of 2s, centre (xc, yc) and the four
 * image sizes (already resized so the long side is s).
 */
export function mosaicLayout(s: number, xc: number, yc: number, sizes: readonly { width: number; height: number }[]): MosaicPlacement[] {
  const s2 = s * 2;
  return sizes.slice(0, 4).map(({ width: w, height: h }, i) => {
    let a: [number, number, number, number];
    let b: [number, number, number, number];
    if (i === 0) {
      // top left
      a = [Math.max(xc - w, 0), Math.max(yc - h, 0), xc, yc];
      b = [w - (a[2] - a[0]), h - (a[3] - a[1]), w, h];
    } else if (i === 1) {
      // top right
      a = [xc, Math.max(yc - h, 0), Math.min(xc + w, s2), yc];
      b = [0, h - (a[3] - a[1]), Math.min(w, a[2] - a[0]), h];
    } else if (i === 2) {
      // bottom left
      a = [Math.max(xc - w, 0), yc, xc, Math.min(s2, yc + h)];
      b = [w - (a[2] - a[0]), 0, w, Math.min(a[3] - a[1], h)];
    } else {
      // bottom right
      a = [xc, yc, Math.min(xc + w, s2), Math.min(s2, yc + h)];
      b = [0, 0, Math.min(w, a[2] - a[0]), Math.min(a[3] - a[1], h)];
    }
    return { a, b, padw: a[0] - b[0], padh: a[1] - b[1] };
  });
}

/** Ultralytics' mosaic centre: int(uniform(s/2, 2s - s/2)) on each axis, y drawn first. */
export function mosaicCenter(s: number, rng: Rng): { xc: number; yc: number } {
  const border = -Math.floor(s / 2); // -imgsz // 2
  const yc = Math.trunc(rng.uniform(-border, 2 * s + border));
  const xc = Math.trunc(rng.uniform(-border, 2 * s + border));
  return { xc, yc };
}

export interface MosaicResult extends LabeledImage {
  /** The border RandomPerspective must use to crop the 2s canvas back to s: -s // 2 on both axes. */
  border: number;
}

/**
 * Mosaic of four labelled images (each resized so its long side is `s`) into a 2s x 2s canvas.
 * The centre comes from `rng` unless given.
 */
export function mosaic4(tiles: readonly LabeledImage[], s: number, rng: Rng, center?: { xc: number; yc: number }): MosaicResult {
  if (tiles.length !== 4) throw new RangeError(`mosaic4 takes 4 images, got ${tiles.length}`);
  const { xc, yc } = center ?? mosaicCenter(s, rng);
  const s2 = s * 2;
  const canvas: RawImage = { data: new Uint8Array(s2 * s2 * 3).fill(114), width: s2, height: s2 };
  const layout = mosaicLayout(s, xc, yc, tiles.map((t) => t.image));
  const parts = tiles.map((tile, i) => {
    const { a, b, padw, padh } = layout[i]!;
    copyRect(tile.image, b[0], b[1], canvas, a[0], a[1], a[2] - a[0], a[3] - a[1]);
    return { cls: tile.cls, boxes: affineBoxes(tile.boxes, 1, 1, padw, padh) };
  });
  const joined = concatLabels(parts);
  clipBoxesInPlace(joined.boxes, s2, s2);
  const kept = selectLabels(joined, nonZeroArea(joined.boxes));
  return { image: canvas, cls: kept.cls, boxes: kept.boxes, border: -Math.floor(s / 2) };
}

/** Copies a w x h block from src (sx, sy) to dst (dx, dy), row by row. */
function copyRect(src: RawImage, sx: number, sy: number, dst: RawImage, dx: number, dy: number, w: number, h: number): void {
  if (w <= 0 || h <= 0) return;
  const len = w * 3;
  for (let y = 0; y < h; y++) {
    const s = ((sy + y) * src.width + sx) * 3;
    dst.data.set(src.data.subarray(s, s + len), ((dy + y) * dst.width + dx) * 3);
  }
}
