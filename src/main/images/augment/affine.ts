/**
 * @file Ultralytics' RandomPerspective: a random M = T @ S @ R @ P @ C (centre, perspective,
 * rotation+scale, shear, translation, applied right to left), the image warped by M into an output
 * of (w + 2 * border) x (h + 2 * border) with grey 114 outside, boxes mapped through their four
 * corners, clipped, and filtered by box_candidates against the original boxes times the scale.
 *
 * The warp follows cv2.warpAffine / cv2.warpPerspective with INTER_LINEAR and BORDER_CONSTANT:
 * each output pixel maps back through M^-1 (pixel centres on integer coordinates), the source
 * position is quantised to 1/32 pixel and the four neighbours are blended with 15-bit fixed-point
 * weights; neighbours outside the image read as the border value.
 */
import type { Rng } from '../../util/rng';
import type { RawImage } from '../raw-image';
import { boxCandidates, clipBoxesInPlace, selectLabels, type BoxCandidateThresholds } from './boxes';
import type { LabeledImage } from './types';

/** Row-major 3x3 matrix. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export interface PerspectiveParams {
  /** Rotation range, +/- degrees. */
  degrees: number;
  /** Translation, +/- fraction of the output size (around the centre). */
  translate: number;
  /** Scale drawn from [1 - scale, 1 + scale]. */
  scale: number;
  /** Shear, +/- degrees on each axis. */
  shear: number;
  /** Perspective, +/- on each axis. */
  perspective: number;
}

export const DEFAULT_PERSPECTIVE: Readonly<PerspectiveParams> = Object.freeze({
  degrees: 0,
  translate: 0.1,
  scale: 0.5,
  shear: 0,
  perspective: 0,
});

export function matMul(a: Mat3, b: Mat3): Mat3 {
  const out = new Array<number>(9) as Mat3;
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[r * 3 + c] = a[r * 3]! * b[c]! + a[r * 3 + 1]! * b[3 + c]! + a[r * 3 + 2]! * b[6 + c]!;
    }
  }
  return out;
}

export const IDENTITY: Readonly<Mat3> = Object.freeze([1, 0, 0, 0, 1, 0, 0, 0, 1]) as Readonly<Mat3>;

export function isIdentity(m: Readonly<Mat3>): boolean {
  return m.every((v, i) => v === IDENTITY[i]);
}

/** A random matrix drawn in RandomPerspective.affine_transform's order, and its scale. */
export interface RandomMatrix {
  M: Mat3;
  /** The random scale s (for box_candidates). */
  scale: number;
}

/**
 * Draws M = T @ S @ R @ P @ C for an input of `inW` x `inH` and an output of `outW` x `outH`.
 * Draw order (as Ultralytics): perspective x, y; angle; scale; shear x, y; translation x, y.
 */
export function randomPerspectiveMatrix(
  inW: number,
  inH: number,
  outW: number,
  outH: number,
  p: PerspectiveParams,
  rng: Rng,
): RandomMatrix {
  const C: Mat3 = [1, 0, -inW / 2, 0, 1, -inH / 2, 0, 0, 1];
  const P: Mat3 = [1, 0, 0, 0, 1, 0, rng.uniform(-p.perspective, p.perspective), rng.uniform(-p.perspective, p.perspective), 1];
  const a = rng.uniform(-p.degrees, p.degrees);
  const s = rng.uniform(1 - p.scale, 1 + p.scale);
  // cv2.getRotationMatrix2D(angle=a, center=(0, 0), scale=s): counter-clockwise for positive a.
  const rad = (a * Math.PI) / 180;
  const alpha = s * Math.cos(rad);
  const beta = s * Math.sin(rad);
  const R: Mat3 = [alpha, beta, 0, -beta, alpha, 0, 0, 0, 1];
  const shx = Math.tan((rng.uniform(-p.shear, p.shear) * Math.PI) / 180);
  const shy = Math.tan((rng.uniform(-p.shear, p.shear) * Math.PI) / 180);
  const S: Mat3 = [1, shx, 0, shy, 1, 0, 0, 0, 1];
  const tx = rng.uniform(0.5 - p.translate, 0.5 + p.translate) * outW;
  const ty = rng.uniform(0.5 - p.translate, 0.5 + p.translate) * outH;
  const T: Mat3 = [1, 0, tx, 0, 1, ty, 0, 0, 1];
  return { M: matMul(T, matMul(S, matMul(R, matMul(P, C)))), scale: s };
}

/** Inverse of a 3x3 matrix (zeros when singular, as OpenCV's invert with DECOMP_LU does). */
export function invert3(m: Readonly<Mat3>): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const Cc = d * h - e * g;
  const det = a * A + b * B + c * Cc;
  if (det === 0) return [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const k = 1 / det;
  return [
    A * k, -(b * i - c * h) * k, (b * f - c * e) * k,
    B * k, (a * i - c * g) * k, -(a * f - c * d) * k,
    Cc * k, -(a * h - b * g) * k, (a * e - b * d) * k,
  ];
}

/** C's lrint / cv::saturate_cast<int>(double): nearest, halves to even. */
function cvRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

const INTER_BITS = 5;
const INTER_TAB = 1 << INTER_BITS; // 32 sub-pixel positions
const AB_BITS = 10;
const AB_SCALE = 1 << AB_BITS;

/**
 * cv2.warpAffine(img, M[:2], (outW, outH), INTER_LINEAR, BORDER_CONSTANT, border) on RGB pixels;
 * with `perspective` true, cv2.warpPerspective(img, M, ...). M maps source to destination pixels.
 */
export function warp(img: RawImage, M: Readonly<Mat3>, outW: number, outH: number, perspective: boolean, border = 114): RawImage {
  const out = new Uint8Array(outW * outH * 3).fill(border);
  const iM = invert3(perspective ? M : ([M[0], M[1], M[2], M[3], M[4], M[5], 0, 0, 1] as Mat3));
  const sw = img.width;
  const sh = img.height;
  const src = img.data;
  const Xs = new Int32Array(outW);
  const Ys = new Int32Array(outW);
  let adelta: Int32Array | undefined;
  let bdelta: Int32Array | undefined;
  if (!perspective) {
    adelta = new Int32Array(outW);
    bdelta = new Int32Array(outW);
    for (let x = 0; x < outW; x++) {
      adelta[x] = cvRound(iM[0] * x * AB_SCALE);
      bdelta[x] = cvRound(iM[3] * x * AB_SCALE);
    }
  }
  const roundDelta = AB_SCALE / INTER_TAB / 2;
  for (let y = 0; y < outH; y++) {
    // Source positions of this row in 1/32 pixels.
    if (adelta && bdelta) {
      const X0 = cvRound((iM[1] * y + iM[2]) * AB_SCALE) + roundDelta;
      const Y0 = cvRound((iM[4] * y + iM[5]) * AB_SCALE) + roundDelta;
      for (let x = 0; x < outW; x++) {
        Xs[x] = (X0 + adelta[x]!) >> (AB_BITS - INTER_BITS);
        Ys[x] = (Y0 + bdelta[x]!) >> (AB_BITS - INTER_BITS);
      }
    } else {
      for (let x = 0; x < outW; x++) {
        let W = iM[6] * x + iM[7] * y + iM[8];
        W = W ? INTER_TAB / W : 0;
        const fX = Math.max(-2147483648, Math.min(2147483647, (iM[0] * x + iM[1] * y + iM[2]) * W));
        const fY = Math.max(-2147483648, Math.min(2147483647, (iM[3] * x + iM[4] * y + iM[5]) * W));
        Xs[x] = cvRound(fX);
        Ys[x] = cvRound(fY);
      }
    }
    let o = y * outW * 3;
    for (let x = 0; x < outW; x++, o += 3) {
      const X = Xs[x]!;
      const Y = Ys[x]!;
      const sx = X >> INTER_BITS;
      const sy = Y >> INTER_BITS;
      const fx = X & (INTER_TAB - 1);
      const fy = Y & (INTER_TAB - 1);
      // Fixed-point bilinear weights summing to 1 << 15.
      const w00 = (INTER_TAB - fx) * (INTER_TAB - fy) * 32;
      const w01 = fx * (INTER_TAB - fy) * 32;
      const w10 = (INTER_TAB - fx) * fy * 32;
      const w11 = fx * fy * 32;
      if (sx >= 0 && sx < sw - 1 && sy >= 0 && sy < sh - 1) {
        const p = (sy * sw + sx) * 3;
        const q = p + sw * 3;
        out[o] = (src[p]! * w00 + src[p + 3]! * w01 + src[q]! * w10 + src[q + 3]! * w11 + 16384) >> 15;
        out[o + 1] = (src[p + 1]! * w00 + src[p + 4]! * w01 + src[q + 1]! * w10 + src[q + 4]! * w11 + 16384) >> 15;
        out[o + 2] = (src[p + 2]! * w00 + src[p + 5]! * w01 + src[q + 2]! * w10 + src[q + 5]! * w11 + 16384) >> 15;
      } else if (sx >= sw || sx + 1 < 0 || sy >= sh || sy + 1 < 0) {
        // Entirely outside: the border value is already there.
      } else {
        const in0x = sx >= 0 && sx < sw;
        const in1x = sx + 1 >= 0 && sx + 1 < sw;
        const in0y = sy >= 0 && sy < sh;
        const in1y = sy + 1 >= 0 && sy + 1 < sh;
        for (let c = 0; c < 3; c++) {
          const v00 = in0x && in0y ? src[(sy * sw + sx) * 3 + c]! : border;
          const v01 = in1x && in0y ? src[(sy * sw + sx + 1) * 3 + c]! : border;
          const v10 = in0x && in1y ? src[((sy + 1) * sw + sx) * 3 + c]! : border;
          const v11 = in1x && in1y ? src[((sy + 1) * sw + sx + 1) * 3 + c]! : border;
          out[o + c] = (v00 * w00 + v01 * w01 + v10 * w10 + v11 * w11 + 16384) >> 15;
        }
      }
    }
  }
  return { data: out, width: outW, height: outH };
}

/**
 * Maps xyxy boxes through M by their four corners and takes the enclosing box (RandomPerspective.
 * apply_bboxes). Not clipped.
 */
export function transformBoxes(boxes: Float32Array, M: Readonly<Mat3>, perspective: boolean): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    const xs = [boxes[i]!, boxes[i + 2]!, boxes[i]!, boxes[i + 2]!];
    const ys = [boxes[i + 1]!, boxes[i + 3]!, boxes[i + 3]!, boxes[i + 1]!];
    let x1 = Infinity;
    let y1 = Infinity;
    let x2 = -Infinity;
    let y2 = -Infinity;
    for (let k = 0; k < 4; k++) {
      const x = xs[k]!;
      const y = ys[k]!;
      let u = M[0] * x + M[1] * y + M[2];
      let v = M[3] * x + M[4] * y + M[5];
      if (perspective) {
        const w = M[6] * x + M[7] * y + M[8];
        u /= w;
        v /= w;
      }
      x1 = Math.min(x1, u);
      y1 = Math.min(y1, v);
      x2 = Math.max(x2, u);
      y2 = Math.max(y2, v);
    }
    out[i] = x1;
    out[i + 1] = y1;
    out[i + 2] = x2;
    out[i + 3] = y2;
  }
  return out;
}

export interface PerspectiveResult extends LabeledImage {
  M: Mat3;
  scale: number;
}

/**
 * Ultralytics' RandomPerspective.__call__ (without its pre_transform): output size is
 * (w + 2 * border) x (h + 2 * border); after a mosaic border is -s/2, so the 2s canvas becomes s.
 * The warp is skipped when border is 0 and M is the identity.
 */
export function randomPerspective(
  input: LabeledImage,
  rng: Rng,
  params: PerspectiveParams = DEFAULT_PERSPECTIVE,
  border = 0,
  thresholds: BoxCandidateThresholds = {},
): PerspectiveResult {
  const { image } = input;
  const outW = image.width + border * 2;
  const outH = image.height + border * 2;
  const { M, scale } = randomPerspectiveMatrix(image.width, image.height, outW, outH, params, rng);
  const perspective = params.perspective !== 0;
  const warped = border !== 0 || !isIdentity(M) ? warp(image, M, outW, outH, perspective) : image;
  const moved = clipBoxesInPlace(transformBoxes(input.boxes, M, perspective), outW, outH);
  const before = new Float32Array(input.boxes.length);
  for (let i = 0; i < before.length; i++) before[i] = input.boxes[i]! * scale;
  const kept = selectLabels({ cls: input.cls, boxes: moved }, boxCandidates(before, moved, thresholds));
  return { image: warped, cls: kept.cls, boxes: kept.boxes, M, scale };
}
