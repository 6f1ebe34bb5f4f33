/**
 * Fixtures for "draw boxes, augment, check": grey images with filled rectangles, each rectangle
 * in its own saturated hue (its class is its colour index), and a checker that finds every
 * rectangle's visible pixels in an augmented image and compares them with the output boxes.
 *
 * Colours are told apart by OpenCV hue (which HSV augmentation shifts by at most 0.015 * 180 = 2.7
 * and interpolation with the grey background does not change), so the check also holds after the
 * full pipeline. Pixels are classified only when clearly saturated, which leaves out the
 * interpolated one-pixel rims; the tolerances below are in pixels.
 */
import { expect } from 'vitest';
import type { LabeledImage } from '../../src/main/images/augment/types';
import { createRawImage, fillRect, type RawImage, type Rgb } from '../../src/main/images/raw-image';
import { rgbToHsv } from '../../src/main/images/augment/hsv';

/** Number of distinct colours; hue spacing 180 / 12 = 15 OpenCV units. */
export const PALETTE_SIZE = 12;

/** Fully saturated colour with OpenCV hue k * 15. */
export function paletteColour(k: number): Rgb {
  const hue = ((k % PALETTE_SIZE) * 360) / PALETTE_SIZE; // degrees
  const c = (n: number): number => {
    const kk = (n + hue / 60) % 6;
    return Math.round(255 * (1 - Math.max(0, Math.min(kk, 4 - kk, 1))));
  };
  return [c(5), c(3), c(1)];
}

export interface FixtureRect {
  /** Colour index = class id. */
  k: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** A grey (114) image with the rectangles painted, and its labels (class = colour index). */
export function drawFixture(width: number, height: number, rects: readonly FixtureRect[]): LabeledImage {
  const image = createRawImage(width, height, 114);
  const boxes = new Float32Array(rects.length * 4);
  rects.forEach((r, i) => {
    fillRect(image, r.x1, r.y1, r.x2, r.y2, paletteColour(r.k));
    boxes.set([r.x1, r.y1, r.x2, r.y2], i * 4);
  });
  return { image, cls: rects.map((r) => r.k), boxes };
}

/**
 * A few fixture images, every rectangle with its own colour across the set, rectangles 10+ px
 * apart and 10+ px from the edges, so resizing and warping never blend two colours.
 */
export function fixtureSet(): { width: number; height: number; rects: FixtureRect[] }[] {
  return [
    { width: 320, height: 240, rects: [{ k: 0, x1: 20, y1: 20, x2: 120, y2: 100 }, { k: 1, x1: 150, y1: 60, x2: 300, y2: 220 }] },
    { width: 200, height: 300, rects: [{ k: 2, x1: 15, y1: 30, x2: 90, y2: 280 }, { k: 3, x1: 110, y1: 20, x2: 185, y2: 70 }] },
    { width: 256, height: 256, rects: [{ k: 4, x1: 30, y1: 30, x2: 110, y2: 110 }, { k: 5, x1: 140, y1: 140, x2: 236, y2: 236 }, { k: 6, x1: 150, y1: 20, x2: 230, y2: 60 }] },
    { width: 400, height: 160, rects: [{ k: 7, x1: 12, y1: 12, x2: 200, y2: 148 }, { k: 8, x1: 230, y1: 40, x2: 380, y2: 120 }] },
    { width: 180, height: 180, rects: [{ k: 9, x1: 20, y1: 20, x2: 160, y2: 80 }, { k: 10, x1: 20, y1: 100, x2: 70, y2: 160 }, { k: 11, x1: 95, y1: 100, x2: 160, y2: 160 }] },
  ];
}

/** Colour index of a pixel, or -1 for grey / unsaturated / in between. */
export function classifyPixel(r: number, g: number, b: number): number {
  const [h, s, v] = rgbToHsv(r, g, b);
  if (s < 60 || v < 60) return -1;
  const spacing = 180 / PALETTE_SIZE;
  const k = Math.round(h / spacing) % PALETTE_SIZE;
  let d = Math.abs(h - k * spacing);
  d = Math.min(d, 180 - d);
  return d <= 5 ? k : -1;
}

/** Per pixel colour index (-1 for none). */
export function classify(img: RawImage): Int8Array {
  const out = new Int8Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = classifyPixel(img.data[i * 3]!, img.data[i * 3 + 1]!, img.data[i * 3 + 2]!);
  return out;
}

interface Component {
  k: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  count: number;
}

/** 4-connected components of each colour, with their pixel bounding boxes (edges, xyxy). */
export function components(labels: Int8Array, width: number, height: number): Component[] {
  const seen = new Uint8Array(labels.length);
  const out: Component[] = [];
  const stack: number[] = [];
  for (let start = 0; start < labels.length; start++) {
    const k = labels[start]!;
    if (k < 0 || seen[start]) continue;
    const c: Component = { k, x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity, count: 0 };
    seen[start] = 1;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width;
      const y = (p - x) / width;
      c.count++;
      c.x1 = Math.min(c.x1, x);
      c.y1 = Math.min(c.y1, y);
      c.x2 = Math.max(c.x2, x + 1);
      c.y2 = Math.max(c.y2, y + 1);
      const push = (q: number): void => {
        if (!seen[q] && labels[q] === k) {
          seen[q] = 1;
          stack.push(q);
        }
      };
      if (x > 0) push(p - 1);
      if (x < width - 1) push(p + 1);
      if (y > 0) push(p - width);
      if (y < height - 1) push(p + width);
    }
    out.push(c);
  }
  return out;
}

export interface CheckOptions {
  /** Edge tolerance between a box and its rectangle's classified pixels. */
  tol?: number;
  /** Fraction of a box's inner pixels that must be its colour (axis-aligned transforms). */
  fill?: number;
  /** Skip the fill check (rotation and shear turn rectangles into parallelograms). */
  rotated?: boolean;
  /**
   * Largest area (output px) a rectangle may still show without a box: box_candidates drops boxes
   * under 10% of their scaled area, thinner than 2 px or flatter than 1:100.
   */
  maxUnboxedArea?: (k: number) => number;
}

/**
 * The "augmentation keeps boxes consistent with pixels": every output box has a visible
 * rectangle of its colour whose pixel extent matches the box within `tol`, filled to `fill`
 * inside; every visible rectangle of a colour lies in a box of that colour, unless it is small
 * enough that box_candidates would have dropped it. Returns counts for the caller's sanity checks.
 */
export function expectBoxesMatchPixels(out: LabeledImage, opts: CheckOptions = {}): { boxes: number; unboxed: number } {
  const tol = opts.tol ?? 2.5;
  const fill = opts.fill ?? 0.9;
  const { width, height } = out.image;
  const labels = classify(out.image);
  const comps = components(labels, width, height);
  const n = out.cls.length;
  const boxOf = (i: number): [number, number, number, number] => [out.boxes[i * 4]!, out.boxes[i * 4 + 1]!, out.boxes[i * 4 + 2]!, out.boxes[i * 4 + 3]!];
  for (let i = 0; i < n; i++) {
    const [x1, y1, x2, y2] = boxOf(i);
    const k = out.cls[i]!;
    expect(x1, `box ${i} inside the image`).toBeGreaterThanOrEqual(0);
    expect(y1).toBeGreaterThanOrEqual(0);
    expect(x2).toBeLessThanOrEqual(width);
    expect(y2).toBeLessThanOrEqual(height);
    expect(x2 - x1, `box ${i} has width`).toBeGreaterThan(0);
    expect(y2 - y1, `box ${i} has height`).toBeGreaterThan(0);
    if (Math.min(x2 - x1, y2 - y1) < 2 * tol + 2) continue; // too thin to see reliably
    // The rectangle: a component of the box's colour whose extent matches the box. A rotated
    // rectangle cut by the image edge keeps the corner outside in its (clipped) box, as in
    // Ultralytics, so there only the edges away from the image border must be tight.
    const near = (a: number, b: number, border: boolean): boolean => Math.abs(a - b) <= tol || (border && a >= b - tol);
    const onEdge = opts.rotated ? [x1 <= 0.5, y1 <= 0.5, x2 >= width - 0.5, y2 >= height - 0.5] : [false, false, false, false];
    const match = comps.find(
      (c) =>
        c.k === k &&
        near(c.x1, x1, onEdge.some(Boolean)) &&
        near(c.y1, y1, onEdge.some(Boolean)) &&
        near(x2, c.x2, onEdge.some(Boolean)) &&
        near(y2, c.y2, onEdge.some(Boolean)),
    );
    expect(match, `box ${i} (class ${k}) at ${[x1, y1, x2, y2].map((v) => v.toFixed(1))} matches its rectangle's pixels; seen: ${JSON.stringify(comps.filter((c) => c.k === k))}`).toBeDefined();
    if (!opts.rotated) {
      let inside = 0;
      let own = 0;
      for (let y = Math.ceil(y1 + tol); y < Math.floor(y2 - tol); y++) {
        for (let x = Math.ceil(x1 + tol); x < Math.floor(x2 - tol); x++) {
          inside++;
          if (labels[y * width + x] === k) own++;
        }
      }
      if (inside >= 9) expect(own / inside, `box ${i} filled by its colour`).toBeGreaterThanOrEqual(fill);
    }
  }
  // Every visible rectangle is boxed (or small enough to have been dropped).
  let unboxed = 0;
  for (const c of comps) {
    if (c.count < 4) continue; // stray interpolated pixels
    const boxed = Array.from({ length: n }, (_, i) => i).some((i) => {
      const [x1, y1, x2, y2] = boxOf(i);
      return out.cls[i] === c.k && c.x1 >= x1 - tol && c.y1 >= y1 - tol && c.x2 <= x2 + tol && c.y2 <= y2 + tol;
    });
    if (boxed) continue;
    unboxed++;
    const w = c.x2 - c.x1;
    const h = c.y2 - c.y1;
    const small = w <= 2 + 2 * tol || h <= 2 + 2 * tol || Math.max(w / h, h / w) >= 50 || (opts.maxUnboxedArea !== undefined && c.count <= opts.maxUnboxedArea(c.k));
    expect(small, `colour ${c.k} visible at ${JSON.stringify(c)} without a box`).toBe(true);
  }
  return { boxes: n, unboxed };
}

/** Byte-for-byte equality of two typed arrays (vitest's deep equality is slow on large arrays). */
export function expectSameArray(a: ArrayLike<number>, b: ArrayLike<number>, what = 'arrays'): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      first = i;
      break;
    }
  }
  expect(first, `${what}: first difference at ${first} (${a[first]} vs ${b[first]})`).toBe(-1);
}
