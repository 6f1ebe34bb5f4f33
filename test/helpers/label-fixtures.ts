/**
 * @file Projects for the labeling e2e tests and the canvas bench: real image files drawn from SVG
 * scenes (objects with the boxes around them, so screenshots show boxes on things), registered
 * through LabelStore.applyImport in one transaction, as an import would.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Split } from '../../src/shared/types';
import { LabelStore } from '../../src/main/store/label-store';

export interface FixtureBox {
  classIndex: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FixtureImage {
  /** File name under images/. */
  name: string;
  width: number;
  height: number;
  split?: Split;
  boxes?: FixtureBox[];
  /** Background hue (0..360). */
  hue?: number;
}

/** Deterministic pseudo-random numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** `n` boxes scattered over a width x height image, sizes `min`..`max` px, classes 0..classes-1. */
export function scatterBoxes(n: number, width: number, height: number, classes: number, seed = 7, min = 18, max = 90): FixtureBox[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const w = Math.round(min + r() * (max - min));
    const h = Math.round(min + r() * (max - min));
    return { classIndex: i % classes, x: Math.round(r() * (width - w)), y: Math.round(r() * (height - h)), w, h };
  });
}

const PALETTE = ['#d9534f', '#4d9de0', '#e6b422', '#3bb273', '#a56cc1', '#e07b39', '#2ec4b6', '#f25f5c'];

/** A JPEG of a calm background with one object (an ellipse) under each box and a few unlabeled ones. */
export async function sceneJpeg(img: FixtureImage): Promise<Buffer> {
  const { width: W, height: H } = img;
  const hue = img.hue ?? 210;
  const r = rng(W * 31 + H + hue);
  const shapes: string[] = [];
  for (let i = 0; i < 12; i++) {
    shapes.push(
      `<rect x="${Math.round(r() * W)}" y="${Math.round(r() * H)}" width="${Math.round(W / 6 + r() * W / 4)}" height="${Math.round(H / 8 + r() * H / 5)}" fill="hsl(${hue + r() * 40 - 20}, 22%, ${30 + r() * 20}%)" opacity="0.7"/>`,
    );
  }
  for (const b of img.boxes ?? []) {
    const color = PALETTE[b.classIndex % PALETTE.length];
    shapes.push(`<ellipse cx="${b.x + b.w / 2}" cy="${b.y + b.h / 2}" rx="${(b.w / 2) * 0.85}" ry="${(b.h / 2) * 0.85}" fill="${color}" stroke="#111" stroke-width="1.5"/>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue}, 25%, 38%)"/><stop offset="1" stop-color="hsl(${hue + 30}, 30%, 22%)"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${shapes.join('')}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 82 }).toBuffer();
}

/**
 * Creates a project in `root` holding the images (written to root/images/) and their boxes; an
 * image with boxes is 'labeled', one without is 'unlabeled'. Returns the image ids by file name.
 */
export async function makeLabelProject(
  root: string,
  opts: { name?: string; classes: string[]; images: FixtureImage[] },
): Promise<Map<string, number>> {
  fs.mkdirSync(path.join(root, 'images'), { recursive: true });
  const planned = [];
  for (const img of opts.images) {
    const bytes = await sceneJpeg(img);
    fs.writeFileSync(path.join(root, 'images', img.name), bytes);
    planned.push({
      path: `images/${img.name}`,
      hash: crypto.createHash('sha256').update(bytes).digest('hex'),
      width: img.width,
      height: img.height,
      split: img.split ?? 'train',
      labeled: (img.boxes?.length ?? 0) > 0,
      boxes: img.boxes ?? [],
    });
  }
  const store = LabelStore.create(root, opts.name);
  try {
    store.applyImport({ classes: opts.classes, images: planned });
    return new Map(store.page({ limit: 1000 }).items.map((i) => [i.path.slice('images/'.length), i.id]));
  } finally {
    store.close();
  }
}
