/**
 * @file One trainer per run folder, whoever starts it (the app, the CLI, a second CLI resuming
 * the same run): a lock file in the run folder names the process (host:pid) that trains there.
 * A lock whose process is gone (killed) is taken over; one held by a live process is refused.
 * Within one process the app's own guard decides (train-service.ts), so a lock naming this very
 * process is a leftover and is taken over too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../shared/errors';

export const LOCK_FILE = '.train.lock';

interface LockInfo {
  host: string;
  pid: number;
  since: string;
}

/** Takes the run folder's lock; returns its release. */
export function acquireRunLock(runDir: string): () => void {
  const file = path.join(runDir, LOCK_FILE);
  const mine: LockInfo = { host: os.hostname(), pid: process.pid, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(mine), { flag: 'wx' });
      return () => release(file, mine);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = readLock(file);
    if (!held && Date.now() - mtimeMs(file) < 5_000) {
      throw new AppError('CONFLICT', `another process is taking the lock ${file} right now; try again`, { lock: file });
    }
    if (held && holderAlive(held)) {
      throw new AppError(
        'CONFLICT',
        `${runDir} is being trained by process ${held.pid} on ${held.host} (since ${held.since}); wait for it to finish or stop it. If no such process runs, delete ${file}`,
        { lock: file, pid: held.pid, host: held.host },
      );
    }
    fs.rmSync(file, { force: true }); // its process is gone: a kill left it
  }
  throw new AppError('CONFLICT', `another process took the lock ${file} at the same moment; try again`);
}

function release(file: string, mine: LockInfo): void {
  const held = readLock(file);
  if (held && held.pid === mine.pid && held.host === mine.host && held.since === mine.since) fs.rmSync(file, { force: true });
}

/** The lock's holder, or null when the file is gone or not a lock (a torn write). */
function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockInfo>;
    return typeof v.host === 'string' && Number.isInteger(v.pid) && typeof v.since === 'string' ? (v as LockInfo) : null;
  } catch {
    return null;
  }
}

function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function holderAlive(l: LockInfo): boolean {
  if (l.host !== os.hostname()) return true; // another machine on a shared folder: cannot tell, keep out
  if (l.pid === process.pid) return false;
  try {
    process.kill(l.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
