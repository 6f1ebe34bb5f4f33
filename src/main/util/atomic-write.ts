/**
 * @file Replacing a file so that a kill at any moment leaves either the old file or the new one,
 * whole: write a temp sibling, fsync it, rename it over the target, fsync the folder (so the rename
 * itself survives a power cut). Temp names are unique per process, thread and call, because worker
 * threads share a pid: two threads saving the same file must not write one temp file.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';

/** What every temp name holds after the target's name; a leftover one is a killed writer's. */
export const TEMP_MARK = '.tmp-';

let counter = 0;

/** A temp name beside `file`, unique across processes, threads and calls. */
export function tempPathFor(file: string): string {
  return `${file}${TEMP_MARK}${process.pid}-${threadId}-${++counter}-${randomBytes(4).toString('hex')}`;
}

/** Writes `file` through `write(tempPath)`, then fsync, rename and folder fsync. */
export function atomically(file: string, write: (tmp: string) => void): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    write(tmp);
    fsyncFile(tmp);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(file));
}

/** Replaces `file` with `data`, atomically. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  atomically(file, (tmp) => fs.writeFileSync(tmp, data));
}

/** Replaces `dest` with a copy of `src`, atomically (a plain copy truncates `dest` first). */
export function copyFileAtomic(src: string, dest: string): void {
  atomically(dest, (tmp) => fs.copyFileSync(src, tmp));
}

/** Removes temp files a killed writer left in `dir`; returns their names. */
export function removeStaleTemps(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const stale = fs.readdirSync(dir).filter((n) => n.includes(TEMP_MARK));
  for (const n of stale) fs.rmSync(path.join(dir, n), { force: true });
  return stale;
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes a rename in `dir` durable. Windows cannot open a folder; its renames are journaled anyway. */
function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fs.fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a folder (EINVAL): the rename is as durable as they allow
  } finally {
    fs.closeSync(fd);
  }
}
