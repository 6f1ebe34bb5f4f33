/**
 * @file Where derived image files live in a project, and how they get there. Everything is keyed
 * by content hash, so renamed and duplicate files share one copy, and an edited file (new hash)
 * never shows a stale one:
 *
 *   <root>/.boxtune/cache/thumbs/<hash[0..2]>/<hash>.webp
 *   <root>/.boxtune/cache/previews/<hash[0..2]>/<hash>.jpeg
 *   <root>/.boxtune/cache/tiles/<hash>/<level>/<col>_<row>.jpeg
 *
 * Files appear whole or not at all (written beside, then renamed), so a crash or a concurrent
 * reader never sees half a file. The folder starts with a dot: folder imports skip it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { ImageRecord } from '../../shared/types';
import type { LabelStore } from '../store/label-store';

export const CACHE_DIR = path.join('.boxtune', 'cache');

/** What making derived files needs of a project: where it is (never its database). */
export type ProjectFiles = Pick<LabelStore, 'root' | 'absolutePath'>;
export type ImageSource = Pick<ImageRecord, 'path' | 'hash'>;

/** The hashes the store keeps are hex digests; anything else never becomes part of a path. */
const HASH = /^[0-9a-f]{16,128}$/;

function checkedHash(hash: string): string {
  if (!HASH.test(hash)) throw new AppError('INTERNAL', `not a content hash: ${JSON.stringify(hash.slice(0, 80))}`);
  return hash;
}

/** `<root>/.boxtune/cache/<kind>`: one folder per kind of derived file. */
export function cacheDir(root: string, kind: 'thumbs' | 'previews' | 'tiles'): string {
  return path.join(root, CACHE_DIR, kind);
}

/**
 * A per-hash file, spread over 256 folders by the hash's first two hex digits so that no folder
 * grows past a few thousand entries at 1M images.
 *
 * @example hashedFile('/p', 'thumbs', 'ab12…', 'webp') // '/p/.boxtune/cache/thumbs/ab/ab12….webp'
 */
export function hashedFile(root: string, kind: 'thumbs' | 'previews', hash: string, ext: string): string {
  const h = checkedHash(hash);
  return path.join(cacheDir(root, kind), h.slice(0, 2), `${h}.${ext}`);
}

/** The folder holding one image's tile pyramid. */
export function tilesDir(root: string, hash: string): string {
  return path.join(cacheDir(root, 'tiles'), checkedHash(hash));
}

/** A unique name next to `target`, for building it before the rename. Starts with a dot. */
export function tempSibling(target: string): string {
  return path.join(path.dirname(target), `.tmp-${path.basename(target)}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/**
 * Writes `dest` through `write(tempPath)` and renames the result into place. A file already at
 * `dest` (made meanwhile by another process) is replaced by an identical one: same hash, same bytes.
 */
export async function writeAtomically(dest: string, write: (tempPath: string) => Promise<unknown>): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const temp = tempSibling(dest);
  try {
    await write(temp);
    await fs.rename(temp, dest);
  } catch (err) {
    await fs.rm(temp, { force: true, recursive: true });
    throw err;
  }
}

/** FILE_NOT_FOUND or FILE_UNREADABLE naming the file; details.reason is the bare cause (for job lists). */
export function unreadable(relPath: string, err: unknown): AppError {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT' || /^Input file is missing/.test(String((err as Error).message))) {
    return new AppError('FILE_NOT_FOUND', `${relPath}: file not found`, { reason: 'file not found' });
  }
  const reason = (err as Error).message ?? String(err);
  return new AppError('FILE_UNREADABLE', `${relPath}: ${reason}`, { reason });
}
