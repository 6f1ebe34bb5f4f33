/**
 * Large images with real sharp on a real 9000x7000 file: the DeepZoom levels and tile counts, a
 * tile's pixels against the source region (full resolution and halved), the preview's exact size,
 * one cut for many concurrent tile requests, the cache reused, EXIF rotation, and the requests
 * that name no tile.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dzMaxLevel, dzTileGrid } from '../../../src/shared/deepzoom';
import type { ImageRecord } from '../../../src/shared/types';
import { imageWorkers } from '../../../src/main/images/image-pool';
import { ensurePreview, ensurePyramid, ensureTile, imageView, PREVIEW_SIDE, TILE_SIZE } from '../../../src/main/images/pyramid';
import type { LabelStore } from '../../../src/main/store/label-store';
import { projectWithImages } from '../../helpers/image-project';


const W = 9000;
const H = 7000;
/** Distinct colours at known places, so a tile from the wrong place cannot pass for the right one. */
const RECTS = [
  { left: 2600, top: 1540, width: 700, height: 500, background: '#e03030' }, // across tiles (5..6, 3..3)
  { left: 8500, top: 6800, width: 500, height: 200, background: '#30c050' }, // the bottom-right corner tile
  { left: 0, top: 0, width: 300, height: 1200, background: '#f0d020' },
];

let root: string;
let store: LabelStore;
let big: ImageRecord;
let small: ImageRecord;
let mid: ImageRecord;
let rotated: ImageRecord;
let bigFile: string;
let cutMs = 0;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-pyramid-'));
  const composite = RECTS.map((r) => ({
    input: { create: { width: r.width, height: r.height, channels: 3 as const, background: r.background } },
    left: r.left,
    top: r.top,
  }));
  const bigJpeg = await sharp({ create: { width: W, height: H, channels: 3, background: '#50606f' } })
    .composite(composite)
    .jpeg({ quality: 95 })
    .toBuffer();
  const smallJpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#777' } }).jpeg().toBuffer();
  const midJpeg = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#777' } }).jpeg().toBuffer();
  // 5000x3000 pixels with EXIF orientation 6: the store (and every derived file) sees 3000x5000.
  const rotatedJpeg = await sharp({ create: { width: 5000, height: 3000, channels: 3, background: '#345' } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const made = projectWithImages(root, { 'big.jpg': bigJpeg, 'small.jpg': smallJpeg, 'mid.jpg': midJpeg, 'rot.jpg': rotatedJpeg });
  store = made.store;
  [big, small, mid, rotated] = made.images as [ImageRecord, ImageRecord, ImageRecord, ImageRecord];
  bigFile = path.join(root, 'big.jpg');
}, 120_000);

afterAll(() => {
  store?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Raw RGB of a region of an image file (or of a whole tile). */
async function rgb(input: string | Sharp, region?: { left: number; top: number; width: number; height: number }) {
  const img = typeof input === 'string' ? sharp(input) : input;
  const { data, info } = await (region ? img.extract(region) : img).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function meanAbsDiff(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('imageView', () => {
  it('gives previews over 2048 and pyramids over 4096, from the stored size alone', () => {
    expect(imageView(big)).toEqual({ id: big.id, width: W, height: H, preview: { width: 2048, height: 1593 }, tiles: { tileSize: 512, levels: 15 } });
    expect(imageView(mid)).toEqual({ id: mid.id, width: 3000, height: 2000, preview: { width: 2048, height: 1365 }, tiles: null });
    expect(imageView(small)).toEqual({ id: small.id, width: 640, height: 480, preview: null, tiles: null });
    expect(imageView({ id: 1, width: 4096, height: 4096 }).tiles).toBeNull();
    expect(imageView({ id: 1, width: 4097, height: 10 }).tiles).toEqual({ tileSize: 512, levels: 14 });
  });
});

describe('tile pyramid of a 9000x7000 image', () => {
  it('is cut once for many concurrent tile requests, into every DeepZoom level', async () => {
    const decodes = imageWorkers.stats().started;
    const t0 = performance.now();
    const requests = [
      { level: 14, col: 0, row: 0 },
      { level: 14, col: 5, row: 3 },
      { level: 14, col: 17, row: 13 },
      { level: 13, col: 0, row: 0 },
      { level: 0, col: 0, row: 0 },
    ];
    const files = await Promise.all(requests.map((t) => ensureTile(store, big, t)));
    cutMs = performance.now() - t0;
    expect(imageWorkers.stats().started - decodes).toBe(1);
    for (const f of files) expect(fs.existsSync(f)).toBe(true);

    const dir = path.join(root, '.boxtune', 'cache', 'tiles', big.hash);
    expect(path.dirname(path.dirname(files[0]!))).toBe(dir);
    const maxLevel = dzMaxLevel(W, H);
    expect(maxLevel).toBe(14);
    for (let level = 0; level <= maxLevel; level++) {
      const { cols, rows } = dzTileGrid(W, H, level, TILE_SIZE);
      expect(fs.readdirSync(path.join(dir, String(level))).length, `level ${level}`).toBe(cols * rows);
    }
    expect(dzTileGrid(W, H, 14, TILE_SIZE)).toEqual({ cols: 18, rows: 14 });
    expect(fs.readdirSync(path.join(dir, '14'))).toHaveLength(252);
    // The last column and row are what is left of the image: 9000 - 17 * 512, 7000 - 13 * 512.
    expect(await sharp(path.join(dir, '14', '17_13.jpeg')).metadata()).toMatchObject({ width: 296, height: 344 });
    expect(await sharp(path.join(dir, '9', '0_0.jpeg')).metadata()).toMatchObject({ width: 282, height: 219 });
    expect(fs.readFileSync(path.join(dir, 'pyramid.dzi'), 'utf8')).toMatch(/TileSize="512"[\s\S]*Height="7000"[\s\S]*Width="9000"/);
    // Built beside and renamed: no temporary folder is left.
    expect(fs.readdirSync(path.dirname(dir))).toEqual([big.hash]);
    console.log(`[pyramid] 9000x7000 JPEG cut into ${TILE_SIZE}px JPEG tiles in ${cutMs.toFixed(0)} ms`);
  });

  it('holds the source pixels: full resolution at the top level, halved one level down', async () => {
    const dir = await ensurePyramid(store, big);
    // Level 14, tile (5, 3): source pixels [2560, 3072) x [1536, 2048), half of it in the red rectangle.
    const tile = await rgb(path.join(dir, '14', '5_3.jpeg'));
    const source = await rgb(bigFile, { left: 5 * 512, top: 3 * 512, width: 512, height: 512 });
    expect(meanAbsDiff(tile.data, source.data)).toBeLessThan(3);
    // A tile of somewhere else differs plainly (the test can tell a wrong tile).
    const elsewhere = await rgb(path.join(dir, '14', '6_5.jpeg'));
    expect(meanAbsDiff(elsewhere.data, source.data)).toBeGreaterThan(20);

    // The corner tile at level 14 is 296x344 and ends in the green rectangle.
    const corner = await rgb(path.join(dir, '14', '17_13.jpeg'));
    const cornerSource = await rgb(bigFile, { left: 17 * 512, top: 13 * 512, width: 296, height: 344 });
    expect(meanAbsDiff(corner.data, cornerSource.data)).toBeLessThan(3);

    // Level 13 is the image at half size: tile (2, 1) covers source [2048, 4096) x [1024, 2048).
    const half = await rgb(path.join(dir, '13', '2_1.jpeg'));
    const halfSource = await rgb(sharp(bigFile).extract({ left: 2048, top: 1024, width: 1024, height: 1024 }).resize(512, 512));
    expect(meanAbsDiff(half.data, halfSource.data)).toBeLessThan(4);
  });

  it('reuses the cached pyramid without decoding the image again', async () => {
    await ensurePyramid(store, big);
    const decodes = imageWorkers.stats().started;
    const file = await ensureTile(store, big, { level: 12, col: 4, row: 3 });
    expect(fs.existsSync(file)).toBe(true);
    expect(imageWorkers.stats().started).toBe(decodes);
  });

  it('answers NOT_FOUND for tiles outside the pyramid and for images too small to have one', async () => {
    for (const t of [
      { level: 15, col: 0, row: 0 },
      { level: 14, col: 18, row: 0 },
      { level: 14, col: 0, row: 14 },
      { level: 0, col: 1, row: 0 },
    ]) {
      await expect(ensureTile(store, big, t)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    await expect(ensureTile(store, mid, { level: 0, col: 0, row: 0 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('cuts the EXIF-rotated image, the size the store and the canvas use', async () => {
    expect(rotated).toMatchObject({ width: 3000, height: 5000 });
    const dir = await ensurePyramid(store, rotated);
    expect(fs.readFileSync(path.join(dir, 'pyramid.dzi'), 'utf8')).toMatch(/Height="5000"[\s\S]*Width="3000"/);
    const { cols, rows } = dzTileGrid(3000, 5000, dzMaxLevel(3000, 5000), TILE_SIZE);
    expect(fs.readdirSync(path.join(dir, String(dzMaxLevel(3000, 5000))))).toHaveLength(cols * rows);
  });
});

describe('preview', () => {
  it('is exactly the size imageView promises, made once for concurrent requests', async () => {
    const decodes = imageWorkers.stats().started;
    const files = await Promise.all([ensurePreview(store, big), ensurePreview(store, big), ensurePreview(store, big)]);
    expect(new Set(files).size).toBe(1);
    expect(imageWorkers.stats().started - decodes).toBe(1);
    expect(await sharp(files[0]!).metadata()).toMatchObject({ format: 'jpeg', width: 2048, height: 1593 });
    expect(await sharp(await ensurePreview(store, mid)).metadata()).toMatchObject({ width: PREVIEW_SIDE, height: 1365 });
    expect(await sharp(await ensurePreview(store, rotated)).metadata()).toMatchObject({ width: 1229, height: 2048 });
  });

  it('is NOT_FOUND for an image that needs none', async () => {
    await expect(ensurePreview(store, small)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
