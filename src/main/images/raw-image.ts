/**
 * @file Decoded 8-bit RGB images for training, and Ultralytics' `load_image`: decode, then resize so
 * the long side is `imgsz`, keeping the aspect ratio.
 *
 * Decoding is sharp's (EXIF orientation applied, alpha dropped, grey expanded, like cv2.imread);
 * resizing is ours, in JS, so the pixels do not depend on libvips' kernels:
 * - `linear`: OpenCV's INTER_LINEAR, bit-exact (the shared `resizeLinearCv` of ../images/letterbox);
 * - `area`: OpenCV's INTER_AREA semantics (each output pixel is the area-weighted mean of the source
 *   pixels it covers), computed in floating point, so a tie may round differently from OpenCV.
 */
import { decodeImage, resizeLinearCv } from './letterbox';

/** 8-bit RGB pixels, row-major HWC (3 channels). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** An RGB triple, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

export type Interpolation = 'linear' | 'area';

/** A blank image filled with one colour (Ultralytics' grey 114 by default). */
export function createRawImage(width: number, height: number, fill: Rgb | number = 114): RawImage {
  const data = new Uint8Array(width * height * 3);
  if (typeof fill === 'number') data.fill(fill);
  else fillRect({ data, width, height }, 0, 0, width, height, fill);
  return { data, width, height };
}

/**
 * Paints the pixels [x1, x2) x [y1, y2) (clipped to the image) with one colour, in place.
 * @example fillRect(img, 10, 20, 30, 40, [255, 0, 0]) // a 20x20 red square, box (10, 20, 30, 40)
 */
export function fillRect(img: RawImage, x1: number, y1: number, x2: number, y2: number, rgb: Rgb): void {
  const xa = Math.max(0, Math.floor(x1));
  const ya = Math.max(0, Math.floor(y1));
  const xb = Math.min(img.width, Math.ceil(x2));
  const yb = Math.min(img.height, Math.ceil(y2));
  if (xa >= xb || ya >= yb) return;
  const row = new Uint8Array((xb - xa) * 3);
  for (let i = 0; i < row.length; i += 3) {
    row[i] = rgb[0];
    row[i + 1] = rgb[1];
    row[i + 2] = rgb[2];
  }
  for (let y = ya; y < yb; y++) img.data.set(row, (y * img.width + xa) * 3);
}

/** Decodes a file (or encoded bytes) to RGB the way cv2.imread(IMREAD_COLOR) does, EXIF-rotated. */
export function decodeRawImage(file: string | Buffer): Promise<RawImage> {
  return decodeImage(file);
}

/**
 * Size after Ultralytics' load_image resize: the long side becomes `imgsz`, the other side
 * `min(ceil(side * r), imgsz)` with r = imgsz / long side (Python floats, same rounding as here).
 * @example resizedSize(640, 427, 320) // => { width: 320, height: 214, ratio: 0.5 }
 */
export function resizedSize(width: number, height: number, imgsz: number): { width: number; height: number; ratio: number } {
  const r = imgsz / Math.max(width, height);
  if (r === 1) return { width, height, ratio: 1 };
  return { width: Math.min(Math.ceil(width * r), imgsz), height: Math.min(Math.ceil(height * r), imgsz), ratio: r };
}

/** Resizes to exactly `width` x `height` with OpenCV's INTER_LINEAR or INTER_AREA semantics. */
export function resizeImage(img: RawImage, width: number, height: number, interpolation: Interpolation): RawImage {
  if (width === img.width && height === img.height) return { data: img.data.slice(), width, height };
  // INTER_AREA only means "area" when shrinking; OpenCV falls back to a bilinear-like kernel to enlarge.
  const area = interpolation === 'area' && width <= img.width && height <= img.height;
  const data = area
    ? resizeArea(img.data, img.width, img.height, width, height)
    : resizeLinearCv(img.data, img.width, img.height, 3, width, height);
  return { data, width, height };
}

/**
 * Area-weighted downscale (OpenCV INTER_AREA): separable, each output pixel averages the source
 * pixels its footprint covers, partial pixels weighted by the covered fraction.
 */
export function resizeArea(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Uint8Array {
  const xTab = areaTable(sw, dw);
  const yTab = areaTable(sh, dh);
  // Horizontal pass over every source row: [sh, dw, 3] floats.
  const tmp = new Float32Array(sh * dw * 3);
  for (let y = 0; y < sh; y++) {
    const srow = y * sw * 3;
    const trow = y * dw * 3;
    for (let dx = 0; dx < dw; dx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = xTab.start[dx]!; k < xTab.start[dx + 1]!; k++) {
        const s = srow + xTab.index[k]! * 3;
        const w = xTab.weight[k]!;
        r += src[s]! * w;
        g += src[s + 1]! * w;
        b += src[s + 2]! * w;
      }
      const t = trow + dx * 3;
      tmp[t] = r;
      tmp[t + 1] = g;
      tmp[t + 2] = b;
    }
  }
  // Vertical pass.
  const out = new Uint8Array(dw * dh * 3);
  const rowLen = dw * 3;
  const acc = new Float32Array(rowLen);
  for (let dy = 0; dy < dh; dy++) {
    acc.fill(0);
    for (let k = yTab.start[dy]!; k < yTab.start[dy + 1]!; k++) {
      const t = yTab.index[k]! * rowLen;
      const w = yTab.weight[k]!;
      for (let i = 0; i < rowLen; i++) acc[i]! += tmp[t + i]! * w;
    }
    const o = dy * rowLen;
    for (let i = 0; i < rowLen; i++) {
      const v = Math.round(acc[i]!);
      out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/** OpenCV's computeResizeAreaTab: source index and weight lists per destination index (CSR form). */
function areaTable(ssize: number, dsize: number): { start: Int32Array; index: Int32Array; weight: Float64Array } {
  const scale = ssize / dsize;
  const start = new Int32Array(dsize + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let dx = 0; dx < dsize; dx++) {
    start[dx] = index.length;
    const fsx1 = dx * scale;
    const fsx2 = fsx1 + scale;
    const cell = Math.min(scale, ssize - fsx1);
    let sx1 = Math.ceil(fsx1);
    const sx2 = Math.min(Math.floor(fsx2), ssize - 1);
    sx1 = Math.min(sx1, sx2);
    if (sx1 - fsx1 > 1e-3) {
      index.push(sx1 - 1);
      weight.push((sx1 - fsx1) / cell);
    }
    for (let sx = sx1; sx < sx2; sx++) {
      index.push(sx);
      weight.push(1 / cell);
    }
    if (fsx2 - sx2 > 1e-3) {
      index.push(sx2);
      weight.push(Math.min(Math.min(fsx2 - sx2, 1), cell) / cell);
    }
  }
  start[dsize] = index.length;
  return { start, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/** A training image as Ultralytics' load_image returns it. */
export interface LoadedImage {
  /** Resized so the long side is imgsz. */
  image: RawImage;
  /** Size of the decoded file (EXIF-oriented), before the resize. */
  original: { width: number; height: number };
}

export interface LoadImageOptions {
  /**
   * Training with augmentation (default true). Picks the kernel as Ultralytics' classic load_image
   * did: INTER_LINEAR when augmenting or enlarging, INTER_AREA when shrinking for validation.
   * (Ultralytics 8.1+ uses INTER_LINEAR for both; pass `interpolation: 'linear'` for that.)
   */
  augment?: boolean;
  /** Forces one kernel instead of the rule above. */
  interpolation?: Interpolation;
}

/**
 * Ultralytics' `BaseDataset.load_image(i)` (rect_mode): decode, then resize the long side to `imgsz`
 * keeping the aspect ratio (no padding).
 */
export async function loadTrainImage(file: string | Buffer, imgsz: number, opts: LoadImageOptions = {}): Promise<LoadedImage> {
  const decoded = await decodeRawImage(file);
  const original = { width: decoded.width, height: decoded.height };
  const size = resizedSize(decoded.width, decoded.height, imgsz);
  if (size.ratio === 1) return { image: decoded, original };
  const interpolation = opts.interpolation ?? ((opts.augment ?? true) || size.ratio > 1 ? 'linear' : 'area');
  return { image: resizeImage(decoded, size.width, size.height, interpolation), original };
}
