/**
 * Pixel bombs and slow images against the real derived-file makers (sharp in the image worker
 * threads): a PNG whose header declares 100000x100000 gets a clear FILE_UNREADABLE naming the file,
 * its declared size and the limit, at once and without a decode; the thumbnail job lists it; good
 * images keep working; work that runs past its time limit is stopped with a clear error.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { BoxtuneService } from '../../../src/main/app/service';
import { ImageWorkerPool } from '../../../src/main/images/image-pool';
import { MAX_IMAGE_SIDE } from '../../../src/main/images/pixel-limit';
import { ensurePreview, ensureTile, hasPyramid } from '../../../src/main/images/pyramid';
import { ensureThumbnail, makeThumbnails } from '../../../src/main/images/thumbnails';
import { LabelStore } from '../../../src/main/store/label-store';
import type { ImageRecord } from '../../../src/shared/types';
import { pixelBombPng } from '../../helpers/pixel-bomb';
import { tmpDir } from '../../helpers/tmp';

const closing: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0)) await c.close();
});

/** A project holding one good photo and the bomb, registered with the size the bomb declares. */
async function bombProject(): Promise<{ store: LabelStore; good: ImageRecord; bomb: ImageRecord }> {
  const root = path.join(tmpDir(), 'proj');
  const store = LabelStore.create(root);
  closing.push(store);
  fs.writeFileSync(path.join(root, 'good.jpg'), await sharp({ create: { width: 640, height: 480, channels: 3, background: '#4a7bd0' } }).jpeg().toBuffer());
  fs.writeFileSync(path.join(root, 'bomb.png'), await pixelBombPng(100_000, 100_000));
  const row = (p: string, hash: string, width: number, height: number) => ({ path: p, hash, width, height, split: 'train' as const, labeled: false, boxes: [] });
  store.applyImport({ classes: [], images: [row('good.jpg', 'a'.repeat(40), 640, 480), row('bomb.png', 'b'.repeat(40), 100_000, 100_000)] });
  const [good, bomb] = store.page({ limit: 10 }).items as [ImageRecord, ImageRecord];
  return { store, good, bomb };
}

const bombError = {
  code: 'FILE_UNREADABLE',
  message: expect.stringMatching(new RegExp(`^bomb\\.png: .*100000x100000.*${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE}`)),
};

describe('a PNG declaring 100000x100000', () => {
  it('gets a clear error for its thumbnail, preview and tiles, at once, and good images still work', async () => {
    const { store, good, bomb } = await bombProject();
    expect(hasPyramid(bomb)).toBe(true);
    const t0 = performance.now();
    await expect(ensureThumbnail(store, bomb)).rejects.toMatchObject(bombError);
    await expect(ensurePreview(store, bomb)).rejects.toMatchObject(bombError);
    await expect(ensureTile(store, bomb, { level: 0, col: 0, row: 0 })).rejects.toMatchObject(bombError);
    expect(performance.now() - t0).toBeLessThan(10_000);
    // Nothing was written for it.
    const cache = path.join(store.root, '.boxtune', 'cache');
    const written = fs.readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(written).toEqual([]);

    const thumb = await ensureThumbnail(store, good);
    expect(await sharp(thumb).metadata()).toMatchObject({ format: 'webp', width: 256, height: 192 });
  });

  it('is listed by the thumbnail job, which makes the others', async () => {
    const { store, good, bomb } = await bombProject();
    const summary = await makeThumbnails(store, [bomb, good], { signal: new AbortController().signal, progress: () => undefined });
    expect(summary).toEqual({ images: 1, unreadable: [{ file: 'bomb.png', reason: expect.stringMatching(/100000x100000.*over the limit/) }] });
  });

  it('answers the asset route of the service with FILE_UNREADABLE', async () => {
    const { store, bomb } = await bombProject();
    const root = store.root;
    store.close();
    const service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir('boxtune-data-') });
    closing.push(service);
    await service['project.open']({ dir: root });
    await expect(service.imageAsset(bomb.id, { kind: 'thumb' })).rejects.toMatchObject(bombError);
  });
});

describe('the image worker pool', () => {
  it('runs the decode in a worker thread, not on the caller\'s', async () => {
    const { store, good } = await bombProject();
    const pool = new ImageWorkerPool({ workers: 1 });
    closing.push(pool);
    expect(pool.stats()).toEqual({ workers: 0, started: 0 });
    await pool.run({ kind: 'thumbnail', source: store.absolutePath(good.path), dest: path.join(store.root, 't.webp') });
    expect(pool.stats()).toEqual({ workers: 1, started: 1 });
    expect(await sharp(path.join(store.root, 't.webp')).metadata()).toMatchObject({ width: 256, height: 192 });
  });

  it('finishes the task in flight when closed, and refuses new ones', async () => {
    const { store, good } = await bombProject();
    const pool = new ImageWorkerPool({ workers: 1 });
    const dest = path.join(store.root, 'closing.webp');
    const inFlight = pool.run({ kind: 'thumbnail', source: store.absolutePath(good.path), dest });
    await new Promise((r) => setTimeout(r, 50));
    await pool.close();
    await expect(inFlight).resolves.toBeUndefined();
    expect(fs.existsSync(dest)).toBe(true);
    await expect(pool.run({ kind: 'thumbnail', source: store.absolutePath(good.path), dest })).rejects.toThrow(/closed/);
  });

  it('stops work that runs past its time limit with a clear error, and keeps working', async () => {
    const dir = tmpDir();
    // 12000x12000 noise-free PNG: tiny on disk, but a pyramid of it takes seconds to cut.
    const big = path.join(dir, 'big.png');
    await sharp({ create: { width: 12_000, height: 12_000, channels: 3, background: '#336699' } }).png({ compressionLevel: 1 }).toFile(big);
    const pool = new ImageWorkerPool({ workers: 1, timeLimitSeconds: { thumbnail: 1, preview: 1, pyramid: 1 } });
    closing.push(pool);
    const t0 = performance.now();
    await expect(pool.run({ kind: 'pyramid', source: big, dest: path.join(dir, 'cut') })).rejects.toThrow(/^took over 1 s \(stopped at \d+%\)/);
    expect(performance.now() - t0).toBeLessThan(15_000);
    const small = path.join(dir, 'small.png');
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).png().toFile(small);
    await pool.run({ kind: 'thumbnail', source: small, dest: path.join(dir, 's.webp') });
    expect(await sharp(path.join(dir, 's.webp')).metadata()).toMatchObject({ width: 256, height: 171 });
  });
});
