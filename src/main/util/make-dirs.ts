/**
 * @file `mkdir -p` that always returns. Node's `fs.mkdirSync(p, { recursive: true })` never returns
 * (100% CPU, the thread lost) on a file system that answers ENOENT for a new folder whose parent
 * exists, as /proc and /sys do: it retries the parent forever. Folders named by a user (a project,
 * an export) are made here, one level at a time.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Makes `dir` and its missing parents; throws the errno of the level that cannot be made. */
export function makeDirs(dir: string): void {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  for (let at = abs; !fs.existsSync(at); ) {
    missing.push(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const level of missing.reverse()) {
    try {
      fs.mkdirSync(level);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (!fs.statSync(abs).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${abs}'`), { code: 'ENOTDIR', path: abs });
  }
}
