/**
 * @file zod pieces several domains' schemas share. Objects are strict everywhere, so a misspelt
 * field is an error rather than ignored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SPLITS } from '../../../shared/types';

/** The argument of a method that takes none: absent or `{}`. */
export const empty = z
  .strictObject({})
  .optional()
  .transform((): Record<string, never> => ({}));
export const id = z.number().int().positive();
export const split = z.enum(SPLITS);

/**
 * A path on the machine the service runs on. Absolute: a relative one would be resolved against the
 * server's working folder, which a caller (a browser on another machine) cannot know or mean.
 */
export const pathString = z
  .string()
  .trim()
  .min(1, 'a path is required')
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot hold a NUL character')
  .refine((p) => path.isAbsolute(p), 'must be an absolute path (e.g. /data/images), not relative to the server')
  .refine((p) => !isSpecialFile(p), 'names a device, FIFO or socket, not a file or folder');

/**
 * True for a path that exists and is neither a file nor a folder. Reading one never ends (/dev/zero
 * fills memory, a FIFO blocks a thread for good); stat only looks, it never opens.
 */
export function isSpecialFile(p: string): boolean {
  try {
    const info = fs.statSync(p, { throwIfNoEntry: false });
    return info !== undefined && !info.isFile() && !info.isDirectory();
  } catch {
    return false; // ENAMETOOLONG, ENOTDIR, EACCES: the service's own check names the problem
  }
}
