/**
 * @file Thumbnails for the image browser: WebP, longest side 256, EXIF-rotated the way the store's
 * sizes are, cached per content hash (cache-files.ts). Made on demand when a cell asks for one, and
 * in bulk by a background job (thumbnail-job.ts) after imports and when a project opens.
 * The decode runs in an image worker thread under the pixel and time limits (image-render.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { JobContext } from '../jobs/job-registry';
import type { LabelStore } from '../store/label-store';
import { forEachConcurrent } from '../util/pool';
import { SingleFlight } from '../util/single-flight';
import { cacheDir, exists, hashedFile, unreadable, writeAtomically, type ImageSource, type ProjectFiles } from './cache-files';
import { imageWorkers } from './image-pool';

export { THUMB_QUALITY, THUMB_SIDE } from './image-render';
export const THUMB_EXT = 'webp';
/** Two at a time: sharp works off the JS thread, and a third would only queue on a 2-core box. */
export const THUMB_CONCURRENCY = 2;
/** Rows per synchronous read while looking for missing thumbnails (a few ms each). */
const SCAN_BATCH = 5000;

export interface ThumbnailSummary {
  /** Thumbnails made (distinct contents). */
  images: number;
  /** Files sharp could not decode: listed, not fatal. */
  unreadable: { file: string; reason: string }[];
}

const making = new SingleFlight<string>();

export function thumbnailPath(root: string, hash: string): string {
  return hashedFile(root, 'thumbs', hash, THUMB_EXT);
}

/** The cached thumbnail of `image`, made first if missing; concurrent calls for one hash share the work. */
export async function ensureThumbnail(files: ProjectFiles, image: ImageSource): Promise<string> {
  const dest = thumbnailPath(files.root, image.hash);
  if (await exists(dest)) return dest;
  return making.run(dest, async () => {
    if (await exists(dest)) return dest;
    const source = files.absolutePath(image.path);
    await writeAtomically(dest, (temp) => imageWorkers.run({ kind: 'thumbnail', source, dest: temp })).catch((err: unknown) => {
      throw unreadable(image.path, err);
    });
    return dest;
  });
}

/**
 * One image per distinct content hash whose thumbnail is not in the cache, in id order (the
 * browser's, so the first screens are made first). Cheap at 100k images: a listing of the 256 cache
 * folders and a scan of the images by id in batches, yielding to the event loop between them.
 */
export async function missingThumbnails(store: Pick<LabelStore, 'root' | 'db'>): Promise<ImageSource[]> {
  const cached = await cachedThumbnailHashes(store.root);
  const batch = store.db.prepare('SELECT id, hash, path FROM images WHERE id > ? ORDER BY id LIMIT ?').raw();
  const seen = new Set<string>();
  const missing: ImageSource[] = [];
  for (let after = 0; ; ) {
    const rows = batch.all(after, SCAN_BATCH) as [number, string, string][];
    for (const [, hash, rel] of rows) {
      if (seen.has(hash)) continue;
      seen.add(hash);
      if (!cached.has(hash)) missing.push({ hash, path: rel });
    }
    if (rows.length < SCAN_BATCH) return missing;
    after = rows[rows.length - 1]![0];
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function cachedThumbnailHashes(root: string): Promise<Set<string>> {
  const dir = cacheDir(root, 'thumbs');
  const buckets = await fs.readdir(dir).catch(() => [] as string[]);
  const names = await Promise.all(buckets.map((b) => fs.readdir(path.join(dir, b)).catch(() => [] as string[])));
  const suffix = `.${THUMB_EXT}`;
  return new Set(names.flat().filter((n) => n.endsWith(suffix)).map((n) => n.slice(0, -suffix.length)));
}

/** The background job's body: makes each thumbnail, THUMB_CONCURRENCY at a time, until cancelled. */
export async function makeThumbnails(files: ProjectFiles, sources: readonly ImageSource[], ctx: JobContext): Promise<ThumbnailSummary> {
  const phase = 'making thumbnails';
  const failed: ThumbnailSummary['unreadable'] = [];
  let done = 0;
  ctx.progress(phase, 0, sources.length);
  await forEachConcurrent(
    sources,
    THUMB_CONCURRENCY,
    async (source) => {
      try {
        await ensureThumbnail(files, source);
      } catch (err) {
        const reason = (err as AppError).details as { reason?: string } | undefined;
        failed.push({ file: source.path, reason: reason?.reason ?? (err as Error).message });
      }
      ctx.progress(phase, ++done, sources.length);
    },
    ctx.signal,
  );
  if (ctx.signal.aborted) throw new AppError('JOB_CANCELLED', `thumbnails cancelled after ${done} of ${sources.length}`);
  return { images: done - failed.length, unreadable: failed };
}
