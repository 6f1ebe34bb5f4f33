/**
 * @file Ultralytics' RandomHSV with OpenCV's 8-bit HSV (H in 0..179, S and V in 0..255):
 * gains r drawn from uniform(-1, 1) * (hgain, sgain, vgain), then per-channel lookup tables
 *   hue: (x + r_h * 180) mod 180   (Ultralytics >= 8.3.79; older versions multiplied: x * (1 + r_h))
 *   sat: clip(x * (1 + r_s), 0, 255)
 *   val: clip(x * (1 + r_v), 0, 255)
 * truncated to integers like numpy's astype(uint8). RGB -> HSV is OpenCV's integer RGB2HSV_b;
 * HSV -> RGB is OpenCV's HSV2RGB_b (float sector formula, rounded).
 */
import type { Rng } from '../../util/rng';
import type { RawImage } from '../raw-image';

const HSV_SHIFT = 12;
const HSV_ROUND = 1 << (HSV_SHIFT - 1);
/** OpenCV's sdiv_table / hdiv_table180: (255 << 12) / v and (180 << 12) / (6 * diff), rounded. */
const SDIV = new Int32Array(256);
const HDIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = Math.round((255 << HSV_SHIFT) / i);
  HDIV[i] = Math.round((180 << HSV_SHIFT) / (6 * i));
}

/**
 * One RGB pixel to OpenCV 8-bit HSV.
 * @example rgbToHsv(255, 0, 0) // => [0, 255, 255]; rgbToHsv(0, 0, 255) // => [120, 255, 255]
 */
export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const v = Math.max(r, g, b);
  const diff = v - Math.min(r, g, b);
  const s = (diff * SDIV[v]! + HSV_ROUND) >> HSV_SHIFT;
  let h: number;
  if (v === r) h = g - b;
  else if (v === g) h = b - r + 2 * diff;
  else h = r - g + 4 * diff;
  h = (h * HDIV[diff]! + HSV_ROUND) >> HSV_SHIFT;
  if (h < 0) h += 180;
  return [h, s, v];
}

/** Sector table of OpenCV's HSV2RGB: which of (v, p, q, t) feeds b, g, r. */
const SECTOR = [
  [1, 3, 0],
  [1, 0, 2],
  [3, 0, 1],
  [0, 2, 1],
  [0, 1, 3],
  [2, 1, 0],
] as const;

/** One OpenCV 8-bit HSV pixel back to RGB, written to out[o..o+2]. */
export function hsvToRgbInto(h: number, s8: number, v8: number, out: Uint8Array, o: number): void {
  const s = s8 / 255;
  const v = v8 / 255;
  let r: number;
  let g: number;
  let b: number;
  if (s === 0) {
    r = g = b = v;
  } else {
    let hh = h * (6 / 180);
    while (hh < 0) hh += 6;
    while (hh >= 6) hh -= 6;
    let sector = Math.floor(hh);
    hh -= sector;
    if (sector < 0 || sector >= 6) {
      sector = 0;
      hh = 0;
    }
    const tab = [v, v * (1 - s), v * (1 - s * hh), v * (1 - s * (1 - hh))];
    const sec = SECTOR[sector]!;
    b = tab[sec[0]]!;
    g = tab[sec[1]]!;
    r = tab[sec[2]]!;
  }
  out[o] = clamp255(Math.round(r * 255));
  out[o + 1] = clamp255(Math.round(g * 255));
  out[o + 2] = clamp255(Math.round(b * 255));
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** The three 256-entry tables for gains r (already drawn; 0 means unchanged). */
export function hsvLuts(rh: number, rs: number, rv: number): { hue: Uint8Array; sat: Uint8Array; val: Uint8Array } {
  const hue = new Uint8Array(256);
  const sat = new Uint8Array(256);
  const val = new Uint8Array(256);
  for (let x = 0; x < 256; x++) {
    hue[x] = Math.trunc((((x + rh * 180) % 180) + 180) % 180);
    sat[x] = Math.trunc(Math.min(Math.max(x * (rs + 1), 0), 255));
    val[x] = Math.trunc(Math.min(Math.max(x * (rv + 1), 0), 255));
  }
  sat[0] = 0;
  return { hue, sat, val };
}

/** RGB -> HSV -> tables -> RGB for every pixel; a new image. */
export function applyHsvLuts(img: RawImage, luts: { hue: Uint8Array; sat: Uint8Array; val: Uint8Array }): RawImage {
  const src = img.data;
  const out = new Uint8Array(src.length);
  const { hue, sat, val } = luts;
  const tab = new Float64Array(4);
  for (let i = 0; i < src.length; i += 3) {
    // RGB2HSV_b, inlined (this loop runs for every pixel of every training image).
    const r = src[i]!;
    const g = src[i + 1]!;
    const b = src[i + 2]!;
    const v = r > g ? (r > b ? r : b) : g > b ? g : b;
    const diff = v - (r < g ? (r < b ? r : b) : g < b ? g : b);
    const s = (diff * SDIV[v]! + HSV_ROUND) >> HSV_SHIFT;
    let h = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
    h = (h * HDIV[diff]! + HSV_ROUND) >> HSV_SHIFT;
    if (h < 0) h += 180;
    // Tables, then HSV2RGB_b.
    const hh0 = hue[h]!;
    const sf = sat[s]! / 255;
    const vf = val[v]! / 255;
    // Every tab value lies in [0, v] with v <= 1, so x * 255 + 0.5 truncated is Math.round, unclamped.
    if (sf === 0) {
      const c = (vf * 255 + 0.5) | 0;
      out[i] = c;
      out[i + 1] = c;
      out[i + 2] = c;
      continue;
    }
    let hh = hh0 * (6 / 180);
    if (hh >= 6) hh -= 6;
    const sector = Math.floor(hh);
    hh -= sector;
    tab[0] = vf;
    tab[1] = vf * (1 - sf);
    tab[2] = vf * (1 - sf * hh);
    tab[3] = vf * (1 - sf * (1 - hh));
    const sec = SECTOR[sector]!;
    out[i + 2] = (tab[sec[0]]! * 255 + 0.5) | 0;
    out[i + 1] = (tab[sec[1]]! * 255 + 0.5) | 0;
    out[i] = (tab[sec[2]]! * 255 + 0.5) | 0;
  }
  return { data: out, width: img.width, height: img.height };
}

export interface HsvGains {
  hsv_h: number;
  hsv_s: number;
  hsv_v: number;
}

/**
 * Ultralytics' RandomHSV: with all gains 0 the image is returned unchanged (and no random number
 * is drawn); otherwise three uniforms in [-1, 1) scale the gains.
 */
export function randomHsv(img: RawImage, rng: Rng, gains: HsvGains): RawImage {
  if (!gains.hsv_h && !gains.hsv_s && !gains.hsv_v) return img;
  const rh = rng.uniform(-1, 1) * gains.hsv_h;
  const rs = rng.uniform(-1, 1) * gains.hsv_s;
  const rv = rng.uniform(-1, 1) * gains.hsv_v;
  return applyHsvLuts(img, hsvLuts(rh, rs, rv));
}
