/**
 * @file Ultralytics' LetterBox (data/augment.py) for model input, bit-exact with what Ultralytics
 * feeds its models: the image decoded like cv2.imread (8-bit, EXIF-oriented, colour), resized with
 * OpenCV's INTER_LINEAR fixed-point arithmetic (reimplemented here, since sharp/libvips round
 * differently), padded with 114, then scaled to 0..1. Sizes use Python's round (half to even):
 * a 481 px side at r = 0.5 becomes 240, not 241.
 *
 * Pixels are RGB, HWC (NHWC for a batch of one), what the tfjs model takes.
 */
import sharp from 'sharp';

/** 8-bit RGB pixels, row-major HWC. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface LetterboxOptions {
  /** Target size: a square side, or [height, width]. */
  newShape: number | [number, number];
  /** Pad only up to a multiple of `stride` (minimum rectangle) instead of the full shape. Default false. */
  auto?: boolean;
  stride?: number;
  /** Allow enlarging small images. Default true (inference); Ultralytics' val/train loaders use false. */
  scaleup?: boolean;
  /** Split the padding between both sides. Default true. */
  center?: boolean;
  /** Border value for every channel. Default 114. */
  padValue?: number;
}

/** A letterboxed image and how to map coordinates back to the source image. */
export interface Letterboxed extends RgbImage {
  /** Resize gain r (source px * r = letterboxed px), the same on both axes. */
  ratio: number;
  /** Border sizes in pixels. */
  pad: { top: number; bottom: number; left: number; right: number };
  /** Size of the resized image inside the border. */
  resized: { width: number; height: number };
  /** Size of the source image. */
  source: { width: number; height: number };
}

/** Python 3 round(): halves go to the even neighbour. */
function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** C's lrint / OpenCV's cvRound: nearest, halves to even. */
const cvRound = pyRound;

/**
 * Decodes an image file the way cv2.imread(path, IMREAD_COLOR) does: EXIF orientation applied,
 * alpha dropped, greyscale expanded, 8 bits per channel. Returns RGB.
 */
export async function decodeImage(file: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(file)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded image has ${info.channels} channels, expected 3`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS; // INTER_RESIZE_COEF_SCALE

/**
 * cv2.resize(src, (dw, dh), interpolation=INTER_LINEAR) for 8-bit images, bit-exact with OpenCV 4.x
 * on x86: float coordinates rounded to 11-bit fixed-point weights, an exact integer horizontal pass,
 * and the SIMD vertical pass ((S >> 4) * beta >> 16, summed, + 2 >> 2) on every full group of
 * `simdLanes` values per row, OpenCV's scalar rounding on the rest. A 2x integer downscale takes
 * OpenCV's INTER_AREA shortcut, as cv2 does.
 */
export function resizeLinearCv(
  src: Uint8Array,
  sw: number,
  sh: number,
  cn: number,
  dw: number,
  dh: number,
  simdLanes = 8,
): Uint8Array {
  const dst = new Uint8Array(dw * dh * cn);
  if (dw === sw && dh === sh) {
    dst.set(src.subarray(0, dst.length));
    return dst;
  }
  const invScaleX = dw / sw;
  const invScaleY = dh / sh;
  const scaleX = 1 / invScaleX;
  const scaleY = 1 / invScaleY;
  const iscaleX = cvRound(scaleX);
  const iscaleY = cvRound(scaleY);
  const areaFast = Math.abs(scaleX - iscaleX) < Number.EPSILON && Math.abs(scaleY - iscaleY) < Number.EPSILON;
  if (areaFast && iscaleX === 2 && iscaleY === 2) return resizeArea2x(src, sw, cn, dw, dh, dst);

  // Horizontal taps: source offset and two fixed-point weights per destination element.
  const width = dw * cn;
  const xofs = new Int32Array(width);
  const alpha = new Int32Array(width * 2);
  for (let dx = 0; dx < dw; dx++) {
    let fx = Math.fround((dx + 0.5) * scaleX - 0.5);
    let sx = Math.floor(fx);
    fx = Math.fround(fx - sx);
    if (sx < 0) {
      fx = 0;
      sx = 0;
    }
    if (sx >= sw - 1) {
      fx = 0;
      sx = sw - 1;
    }
    const a0 = cvRound(Math.fround(1 - fx) * COEF_SCALE);
    const a1 = cvRound(fx * COEF_SCALE);
    for (let k = 0; k < cn; k++) {
      xofs[dx * cn + k] = sx * cn + k;
      alpha[(dx * cn + k) * 2] = a0;
      alpha[(dx * cn + k) * 2 + 1] = a1;
    }
  }

  // Horizontal pass of one source row, cached since neighbouring output rows share source rows.
  const rowCache = new Map<number, Int32Array>();
  const hrow = (sy: number): Int32Array => {
    let r = rowCache.get(sy);
    if (r) return r;
    r = new Int32Array(width);
    const base = sy * sw * cn;
    for (let x = 0; x < width; x++) {
      const s = base + xofs[x]!;
      const a1 = alpha[2 * x + 1]!;
      r[x] = src[s]! * alpha[2 * x]! + (a1 ? src[s + cn]! * a1 : 0);
    }
    if (rowCache.size > 4) rowCache.clear();
    rowCache.set(sy, r);
    return r;
  };

  const simdEnd = width - (width % simdLanes);
  for (let dy = 0; dy < dh; dy++) {
    let fy = Math.fround((dy + 0.5) * scaleY - 0.5);
    const sy = Math.floor(fy);
    fy = Math.fround(fy - sy);
    const b0 = cvRound(Math.fround(1 - fy) * COEF_SCALE);
    const b1 = cvRound(fy * COEF_SCALE);
    const clip = (y: number) => (y < 0 ? 0 : y >= sh ? sh - 1 : y);
    const s0 = hrow(clip(sy));
    const s1 = hrow(clip(sy + 1));
    const out = dy * width;
    for (let x = 0; x < simdEnd; x++) {
      // v_mul_hi on int16 lanes: (a * b) >> 16, after packing S >> 4 to int16.
      const v = (((s0[x]! >> 4) * b0) >> 16) + (((s1[x]! >> 4) * b1) >> 16);
      const r = (v + 2) >> 2;
      dst[out + x] = r < 0 ? 0 : r > 255 ? 255 : r;
    }
    for (let x = simdEnd; x < width; x++) {
      const r = (s0[x]! * b0 + s1[x]! * b1 + (1 << (2 * COEF_BITS - 1))) >> (2 * COEF_BITS);
      dst[out + x] = r < 0 ? 0 : r > 255 ? 255 : r;
    }
  }
  return dst;
}

/** OpenCV's fast INTER_AREA for an exact 2x downscale: the rounded mean of each 2x2 block. */
function resizeArea2x(src: Uint8Array, sw: number, cn: number, dw: number, dh: number, dst: Uint8Array): Uint8Array {
  const rowStride = sw * cn;
  for (let y = 0; y < dh; y++) {
    const r0 = 2 * y * rowStride;
    const r1 = r0 + rowStride;
    for (let x = 0; x < dw; x++) {
      for (let k = 0; k < cn; k++) {
        const c = 2 * x * cn + k;
        dst[(y * dw + x) * cn + k] = (src[r0 + c]! + src[r0 + c + cn]! + src[r1 + c]! + src[r1 + c + cn]! + 2) >> 2;
      }
    }
  }
  return dst;
}

/** LetterBox(new_shape, auto, scaleup, center, padding_value) on decoded RGB pixels. */
export function letterbox(img: RgbImage, opts: LetterboxOptions): Letterboxed {
  const [nh, nw] = typeof opts.newShape === 'number' ? [opts.newShape, opts.newShape] : opts.newShape;
  const { width: w0, height: h0 } = img;
  let r = Math.min(nh / h0, nw / w0);
  if (opts.scaleup === false) r = Math.min(r, 1.0);
  const uw = Math.trunc(pyRound(w0 * r));
  const uh = Math.trunc(pyRound(h0 * r));
  let dw = nw - uw;
  let dh = nh - uh;
  if (opts.auto) {
    const s = opts.stride ?? 32;
    dw = ((dw % s) + s) % s;
    dh = ((dh % s) + s) % s;
  }
  const center = opts.center ?? true;
  if (center) {
    dw /= 2;
    dh /= 2;
  }
  const resized = uw === w0 && uh === h0 ? img.data : resizeLinearCv(img.data, w0, h0, 3, uw, uh);
  const top = center ? Math.trunc(pyRound(dh - 0.1)) : 0;
  const bottom = Math.trunc(pyRound(dh + 0.1));
  const left = center ? Math.trunc(pyRound(dw - 0.1)) : 0;
  const right = Math.trunc(pyRound(dw + 0.1));
  const W = uw + left + right;
  const H = uh + top + bottom;
  const out = new Uint8Array(W * H * 3).fill(opts.padValue ?? 114);
  for (let y = 0; y < uh; y++) {
    out.set(resized.subarray(y * uw * 3, (y + 1) * uw * 3), ((y + top) * W + left) * 3);
  }
  return {
    data: out,
    width: W,
    height: H,
    ratio: r,
    pad: { top, bottom, left, right },
    resized: { width: uw, height: uh },
    source: { width: w0, height: h0 },
  };
}

/** Decodes and letterboxes an image file. */
export async function letterboxFile(file: string | Buffer, opts: LetterboxOptions): Promise<Letterboxed> {
  return letterbox(await decodeImage(file), opts);
}

/** 8-bit pixels -> float32 in 0..1 (x / 255, as Ultralytics' preprocess). HWC stays HWC. */
export function toUnitFloat(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 255;
  return out;
}

/**
 * Maps an xyxy box from letterboxed pixels back to source pixels (Ultralytics' scale_boxes with the
 * letterbox's own ratio and pad), clipped to the source image.
 */
export function unletterboxBox(lb: Letterboxed, [x1, y1, x2, y2]: [number, number, number, number]): [number, number, number, number] {
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const { width, height } = lb.source;
  return [
    clip((x1 - lb.pad.left) / lb.ratio, width),
    clip((y1 - lb.pad.top) / lb.ratio, height),
    clip((x2 - lb.pad.left) / lb.ratio, width),
    clip((y2 - lb.pad.top) / lb.ratio, height),
  ];
}
