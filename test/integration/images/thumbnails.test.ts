/**
 * Thumbnails with real sharp on real files: size and format, EXIF rotation like the stored size,
 * one file per content hash, concurrent requests made once, the cheap "what is missing" check, and
 * the background job (progress, unreadable files listed, cancel, auto-start after an import).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { BoxtuneService } from '../../../src/main/app/service';
import { JobRegistry, type JobContext } from '../../../src/main/jobs/job-registry';
import { imageWorkers } from '../../../src/main/images/image-pool';
import { ThumbnailJobs } from '../../../src/main/images/thumbnail-job';
import { ensureThumbnail, makeThumbnails, missingThumbnails, thumbnailPath } from '../../../src/main/images/thumbnails';
import { LabelStore } from '../../../src/main/store/label-store';
import type { JobInfo } from '../../../src/shared/types';
import { projectWithImages } from '../../helpers/image-project';
import { tmpDir } from '../../helpers/tmp';


const photo = (width: number, height: number, background = '#4a7bd0'): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background } }).jpeg().toBuffer();

const stores: { close(): unknown }[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function project(files: Record<string, Buffer>) {
  const made = projectWithImages(path.join(tmpDir(), 'proj'), files);
  stores.push(made.store);
  return made;
}

describe('ensureThumbnail', () => {
  it('makes a WebP with longest side 256 in the hash-keyed cache, and reuses it', async () => {
    const { store, images } = project({ 'a.jpg': await photo(640, 480) });
    const img = images[0]!;
    const file = await ensureThumbnail(store, img);
    expect(file).toBe(path.join(store.root, '.boxtune', 'cache', 'thumbs', img.hash.slice(0, 2), `${img.hash}.webp`));
    expect(await sharp(file).metadata()).toMatchObject({ format: 'webp', width: 256, height: 192 });

    const mtime = fs.statSync(file).mtimeMs;
    const decodes = imageWorkers.stats().started;
    expect(await ensureThumbnail(store, img)).toBe(file);
    expect(imageWorkers.stats().started).toBe(decodes); // served from the cache, nothing decoded
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
  });

  it('applies EXIF orientation the way the stored size does', async () => {
    // 300x200 pixels stored with orientation 6 (rotate 90°): the store says 200x300.
    const rotated = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#c04040' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const { store, images } = project({ 'r.jpg': rotated });
    expect(images[0]).toMatchObject({ width: 200, height: 300 });
    expect(await sharp(await ensureThumbnail(store, images[0]!)).metadata()).toMatchObject({ width: 171, height: 256 });
  });

  it('shares one file between duplicates and renames, and makes it once for concurrent requests', async () => {
    const bytes = await photo(800, 600);
    const { store, images } = project({ 'x/one.jpg': bytes, 'y/two.jpg': bytes });
    expect(images[0]!.hash).toBe(images[1]!.hash);
    const decodes = imageWorkers.stats().started;
    const files = await Promise.all([...images, ...images, ...images].map((img) => ensureThumbnail(store, img)));
    expect(new Set(files).size).toBe(1);
    expect(imageWorkers.stats().started - decodes).toBe(1);
    // Nothing half-written is left beside it.
    expect(fs.readdirSync(path.dirname(files[0]!))).toEqual([path.basename(files[0]!)]);
  });

  it('fails with FILE_UNREADABLE or FILE_NOT_FOUND and leaves no file behind', async () => {
    const { store, images } = project({ 'bad.jpg': Buffer.from('not an image'), 'gone.jpg': await photo(50, 40) });
    const [bad, gone] = images;
    await expect(ensureThumbnail(store, bad!)).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
    fs.rmSync(path.join(store.root, 'gone.jpg'));
    await expect(ensureThumbnail(store, gone!)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(fs.existsSync(thumbnailPath(store.root, bad!.hash))).toBe(false);
    expect(fs.readdirSync(path.join(store.root, '.boxtune', 'cache', 'thumbs')).flatMap((b) => fs.readdirSync(path.join(store.root, '.boxtune', 'cache', 'thumbs', b)))).toEqual([]);
  });
});

describe('the thumbnail job', () => {
  function context(signal = new AbortController().signal): { ctx: JobContext; reports: [number, number][] } {
    const reports: [number, number][] = [];
    return { ctx: { signal, progress: (_phase, done, total) => void reports.push([done, total]) }, reports };
  }

  it('lists only the missing ones, one per content hash, and makes them with progress', async () => {
    const same = await photo(400, 300, '#208060');
    const { store } = project({
      'a.jpg': await photo(640, 480),
      'b.jpg': same,
      'c.jpg': same,
      'bad.jpg': Buffer.from('garbage'),
    });
    const missing = await missingThumbnails(store);
    expect(missing.map((m) => m.path).sort()).toEqual(['a.jpg', 'b.jpg', 'bad.jpg']);

    const { ctx, reports } = context();
    const summary = await makeThumbnails(store, missing, ctx);
    expect(summary).toEqual({ images: 2, unreadable: [{ file: 'bad.jpg', reason: expect.stringContaining('unsupported image format') }] });
    expect(reports[0]).toEqual([0, 3]);
    expect(reports.at(-1)).toEqual([3, 3]);
    expect((await missingThumbnails(store)).map((m) => m.path)).toEqual(['bad.jpg']);
  });

  it('scans a large project in batches, one source per hash, in id order', async () => {
    const root = path.join(tmpDir(), 'big');
    const store = LabelStore.create(root);
    stores.push(store);
    // 12,000 rows over 3,000 contents (no files needed: the scan reads the store and the cache folders).
    const hash = (i: number): string => (i % 3000).toString(16).padStart(40, '0');
    store.applyImport({
      classes: [],
      images: Array.from({ length: 12_000 }, (_, i) => ({ path: `im/${i}.jpg`, hash: hash(i), width: 10, height: 10, split: 'train' as const, labeled: false, boxes: [] })),
    });
    const cachedOne = thumbnailPath(root, hash(1));
    fs.mkdirSync(path.dirname(cachedOne), { recursive: true });
    fs.writeFileSync(cachedOne, 'x');
    const missing = await missingThumbnails(store);
    expect(missing).toHaveLength(2999);
    expect(missing.slice(0, 2)).toEqual([
      { hash: hash(0), path: 'im/0.jpg' },
      { hash: hash(2), path: 'im/2.jpg' },
    ]);
    expect(missing.at(-1)).toEqual({ hash: hash(2999), path: 'im/2999.jpg' });
  });

  it('stops handing out work when cancelled', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 40; i++) files[`i${i}.jpg`] = await photo(300 + i, 200);
    const { store } = project(files);
    const controller = new AbortController();
    const { ctx, reports } = context(controller.signal);
    const run = makeThumbnails(store, await missingThumbnails(store), {
      ...ctx,
      progress: (phase, done, total) => {
        ctx.progress(phase, done, total);
        if (done === 4) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'JOB_CANCELLED' });
    expect(reports.at(-1)![0]).toBeLessThan(10);
  });

  it('starts only when something is missing, never twice at once, and reports through the registry', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 12; i++) files[`p${i}.jpg`] = await photo(500, 300 + i);
    const { store } = project(files);
    const events: JobInfo[] = [];
    const registry = new JobRegistry((info) => events.push(info));
    const thumbs = new ThumbnailJobs(registry);

    const [first, second] = await Promise.all([thumbs.start(store), thumbs.start(store)]);
    expect(first).not.toBeNull();
    expect(second).toBe(first);
    const done = await registry.wait(first!);
    expect(done).toMatchObject({ kind: 'thumbnails', state: 'done', done: 12, total: 12, result: { images: 12, unreadable: [] } });
    expect(events.filter((e) => e.id === first).every((e) => e.kind === 'thumbnails')).toBe(true);
    expect(await thumbs.start(store)).toBeNull(); // nothing left to make
  });
});

describe('BoxtuneService', () => {
  it('makes the thumbnails of an import in the background and answers images.generateThumbnails', async () => {
    const service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir('boxtune-data-') });
    stores.push(service);
    const photos = tmpDir();
    for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(photos, `s${i}.jpg`), await photo(320, 200 + i));
    await service['project.create']({ dir: path.join(tmpDir(), 'proj') });
    const { jobId } = await service['dataset.import']({ format: 'folder', source: photos });
    await service.jobs.wait(jobId);

    await expect.poll(() => service.jobs.list().find((j) => j.kind === 'thumbnails')?.state, { timeout: 20_000 }).toBe('done');
    expect(await service['images.generateThumbnails']({})).toEqual({ jobId: null });
    const id = (await service['images.page']({ limit: 1 })).items[0]!.id;
    const thumb = await service.imageAsset(id, { kind: 'thumb' });
    expect(thumb).toMatchObject({ contentType: 'image/webp' });
    expect(fs.existsSync(thumb.absPath)).toBe(true);
  });
});
