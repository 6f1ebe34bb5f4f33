/**
 * @file "Open sample project": a small synthetic detection dataset, drawn procedurally so the whole
 * label -> train -> review loop can be tried offline in minutes. Writes an Ultralytics layout:
 *
 *   <dir>/data.yaml
 *   <dir>/images/{train,val}/shapes_NNNN.jpg     (80/20)
 *   <dir>/labels/{train,val}/shapes_NNNN.txt     (YOLO: class cx cy w h, normalised; empty = background)
 *
 * Each image is a muted, textured gradient with noise and 1-6 filled shapes (circle, square,
 * triangle), each class in its own saturated colour with some jitter, sizes 12..120 px, placed at
 * random with limited overlap. A label is the exact tight box of the pixels the shape painted.
 * Everything comes from one seeded PRNG, so a seed always gives the same files.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { makeDirs } from '../util/make-dirs';
import { Rng } from '../util/rng';

export const SAMPLE_CLASSES = ['circle', 'square', 'triangle'] as const;
/** Base RGB colour of each class; every shape jitters it by up to +-JITTER per channel. */
export const SAMPLE_COLORS: readonly (readonly [number, number, number])[] = [
  [220, 45, 45], // circle: red
  [40, 90, 225], // square: blue
  [245, 200, 30], // triangle: yellow
];
const JITTER = 18;
const PIXEL_NOISE = 5;
const MIN_SIZE = 12;
const MAX_SIZE = 120;
/** About one image in this many is a background image (no shapes, empty label file). */
const BACKGROUND_EVERY = 15;
const VAL_EVERY = 5; // every 5th image goes to val: 80/20

export interface SampleOptions {
  /** Number of images (default 60). */
  images?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SampleResult {
  yamlPath: string;
  classes: string[];
  images: number;
  boxes: number;
}

export interface SampleShape {
  classIndex: number;
  /** Tight pixel box of the painted pixels: x, y (top-left, inclusive), w, h. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** The shape's own (jittered) colour. */
  color: [number, number, number];
}

export interface SampleImage {
  width: number;
  height: number;
  /** Raw RGB, row-major, 3 bytes per pixel. */
  rgb: Buffer;
  shapes: SampleShape[];
  /** Per pixel: 1 + index of the shape painted last there, 0 for background. */
  owner: Uint8Array;
}

const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Draws one image. Exported for tests; `background` gives an image with no shapes. */
export function renderSampleImage(rng: Rng, background: boolean): SampleImage {
  const width = 320 + 8 * rng.range(-3, 3);
  const height = 240 + 8 * rng.range(-2, 2);
  const rgb = Buffer.alloc(width * height * 3);
  const owner = new Uint8Array(width * height);

  // Background: a muted two-colour diagonal gradient, a soft wave texture and per-pixel noise.
  const grey = () => {
    const g = rng.range(70, 190);
    return [g + rng.range(-25, 25), g + rng.range(-25, 25), g + rng.range(-25, 25)] as const;
  };
  const c0 = grey();
  const c1 = grey();
  const fx = rng.uniform(0.02, 0.12);
  const fy = rng.uniform(0.02, 0.12);
  const phase = rng.uniform(0, Math.PI * 2);
  const amp = rng.uniform(4, 14);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      const wave = amp * Math.sin(x * fx + phase) * Math.cos(y * fy);
      const noise = rng.uniform(-10, 10);
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) rgb[o + c] = clampByte((c0[c] as number) * (1 - t) + (c1[c] as number) * t + wave + noise);
    }
  }

  const shapes: SampleShape[] = [];
  if (background) return { width, height, rgb, shapes, owner };

  const wanted = rng.range(1, 6);
  // Centres of earlier shapes stay visible: a new shape may overlap an earlier one, but not its middle.
  const protectedCentres: { x: number; y: number; r: number }[] = [];
  for (let s = 0; s < wanted; s++) {
    for (let attempt = 0; attempt < 30; attempt++) {
      const classIndex = rng.int(SAMPLE_CLASSES.length);
      const size = Math.round(Math.exp(rng.uniform(Math.log(MIN_SIZE), Math.log(MAX_SIZE + 1))));
      const sz = Math.min(size, MAX_SIZE, height - 2);
      let bw = sz;
      let bh = sz;
      if (classIndex === 2) {
        bw = Math.max(MIN_SIZE, Math.min(width - 2, Math.round(sz * rng.uniform(0.8, 1.25))));
        bh = Math.max(MIN_SIZE, Math.min(height - 2, Math.round(sz * rng.uniform(0.8, 1.25))));
      }
      const x0 = rng.range(1, width - bw - 1);
      const y0 = rng.range(1, height - bh - 1);
      const base = SAMPLE_COLORS[classIndex] as readonly [number, number, number];
      const color: [number, number, number] = [
        clampByte(base[0] + rng.range(-JITTER, JITTER)),
        clampByte(base[1] + rng.range(-JITTER, JITTER)),
        clampByte(base[2] + rng.range(-JITTER, JITTER)),
      ];
      const inverted = rng.next() < 0.3;
      if (!placeable(x0, y0, bw, bh, shapes, protectedCentres)) continue;

      const inside = insideTest(classIndex, x0, y0, bw, bh, inverted);
      let minX = Infinity;
      let minY = Infinity;
      let maxX = -Infinity;
      let maxY = -Infinity;
      const id = shapes.length + 1;
      for (let y = y0; y < y0 + bh; y++) {
        for (let x = x0; x < x0 + bw; x++) {
          if (!inside(x + 0.5, y + 0.5)) continue;
          const o = (y * width + x) * 3;
          const n = rng.range(-PIXEL_NOISE, PIXEL_NOISE);
          rgb[o] = clampByte(color[0] + n);
          rgb[o + 1] = clampByte(color[1] + n);
          rgb[o + 2] = clampByte(color[2] + n);
          owner[y * width + x] = id;
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
        }
      }
      const box = { x: minX, y: minY, w: maxX - minX + 1, h: maxY - minY + 1 };
      shapes.push({ classIndex, ...box, color });
      protectedCentres.push({ x: box.x + box.w / 2, y: box.y + box.h / 2, r: Math.max(3, Math.min(box.w, box.h) / 4) });
      break;
    }
  }
  return { width, height, rgb, shapes, owner };
}

/** Overlap is allowed, up to IoU 0.3 with any earlier shape, and never over an earlier shape's centre. */
function placeable(
  x: number,
  y: number,
  w: number,
  h: number,
  shapes: readonly SampleShape[],
  centres: readonly { x: number; y: number; r: number }[],
): boolean {
  for (const c of centres) {
    if (c.x + c.r > x && c.x - c.r < x + w && c.y + c.r > y && c.y - c.r < y + h) return false;
  }
  for (const s of shapes) {
    const iw = Math.min(x + w, s.x + s.w) - Math.max(x, s.x);
    const ih = Math.min(y + h, s.y + s.h) - Math.max(y, s.y);
    if (iw <= 0 || ih <= 0) continue;
    const inter = iw * ih;
    if (inter / (w * h + s.w * s.h - inter) > 0.3) return false;
  }
  return true;
}

/** Point-in-shape test for pixel centres; the box centre is always inside (tests rely on it). */
function insideTest(
  classIndex: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  inverted: boolean,
): (px: number, py: number) => boolean {
  if (classIndex === 0) {
    const r = w / 2;
    const cx = x0 + r;
    const cy = y0 + r;
    return (px, py) => (px - cx) * (px - cx) + (py - cy) * (py - cy) <= r * r;
  }
  if (classIndex === 1) return () => true;
  // Isosceles triangle, apex at the top (or bottom when inverted), base spanning the full width.
  const cx = x0 + w / 2;
  return (px, py) => {
    const t = inverted ? (y0 + h - py) / h : (py - y0) / h; // 0 at the apex, 1 at the base
    return Math.abs(px - cx) <= (t * w) / 2;
  };
}

/** YOLO label lines for the shapes: `class cx cy w h`, normalised, 6 decimals. */
export function yoloLines(img: Pick<SampleImage, 'width' | 'height' | 'shapes'>): string {
  return img.shapes
    .map((s) => {
      const cx = (s.x + s.w / 2) / img.width;
      const cy = (s.y + s.h / 2) / img.height;
      return `${s.classIndex} ${cx.toFixed(6)} ${cy.toFixed(6)} ${(s.w / img.width).toFixed(6)} ${(s.h / img.height).toFixed(6)}`;
    })
    .map((l) => `${l}\n`)
    .join('');
}

/** Writes the sample dataset into `dir` (created if missing). Deterministic for a given seed and size. */
export async function writeSampleDataset(dir: string, opts: SampleOptions = {}): Promise<SampleResult> {
  const total = opts.images ?? 60;
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`images must be a positive integer, got ${total}`);
  const rng = new Rng(opts.seed ?? 0);
  for (const split of ['train', 'val']) {
    makeDirs(path.join(dir, 'images', split));
    makeDirs(path.join(dir, 'labels', split));
  }
  // Background images: a fixed share, spread at random (about 1 in 15).
  const nBackground = Math.round(total / BACKGROUND_EVERY);
  const order = rng.shuffle(Array.from({ length: total }, (_, i) => i));
  const background = new Set(order.slice(0, nBackground));

  const digits = Math.max(4, String(total - 1).length);
  let boxes = 0;
  let done = 0;
  const inFlight = new Set<Promise<void>>();
  opts.onProgress?.(0, total);
  try {
    await drawAll();
  } catch (err) {
    await Promise.allSettled(inFlight);
    throw err;
  }
  async function drawAll(): Promise<void> {
    for (let i = 0; i < total; i++) {
      const img = renderSampleImage(rng, background.has(i));
      boxes += img.shapes.length;
      const split = i % VAL_EVERY === VAL_EVERY - 1 ? 'val' : 'train';
      const stem = `shapes_${String(i).padStart(digits, '0')}`;
      fs.writeFileSync(path.join(dir, 'labels', split, `${stem}.txt`), yoloLines(img));
      const p = sharp(img.rgb, { raw: { width: img.width, height: img.height, channels: 3 } })
        .jpeg({ quality: 90 })
        .toFile(path.join(dir, 'images', split, `${stem}.jpg`))
        .then(() => {
          done++;
          opts.onProgress?.(done, total);
        });
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  const yamlPath = path.join(dir, 'data.yaml');
  const yaml = [
    '# boxtune sample dataset: procedurally drawn shapes (Ultralytics layout)',
    'path: .',
    'train: images/train',
    'val: images/val',
    `nc: ${SAMPLE_CLASSES.length}`,
    'names:',
    ...SAMPLE_CLASSES.map((n, i) => `  ${i}: ${n}`),
    '',
  ].join('\n');
  fs.writeFileSync(yamlPath, yaml);
  return { yamlPath, classes: [...SAMPLE_CLASSES], images: total, boxes };
}
