/**
 * @file Which `running` training runs are really training. A run trains in the process that
 * started it; that process writes its owner (host:pid) on the run row and renews heartbeat_at
 * while it runs. A process killed mid-run leaves the row `running`: whoever opens the project
 * next marks it `interrupted` (resumable), unless it still trains here or in a live process.
 */
import os from 'node:os';
import path from 'node:path';
import type { LabelStore } from '../store/label-store';
import { RunStore, type RunOwner } from '../store/runs';

/** This process, as written on the rows of the runs it trains. */
export const OWNER = `${os.hostname()}:${process.pid}`;
/** How often a training process renews its runs' heartbeat. */
export const HEARTBEAT_MS = 10_000;
/** A heartbeat older than this belongs to a process that is gone (or asleep for that long). */
export const STALE_MS = 60_000;

/** Runs training in this process (every service in it), as `<root>\n<run id>`. */
const activeHere = new Set<string>();

const key = (root: string, runId: number): string => `${path.resolve(root)}\n${runId}`;

export function markActive(root: string, runId: number): void {
  activeHere.add(key(root, runId));
}

export function markInactive(root: string, runId: number): void {
  activeHere.delete(key(root, runId));
}

/** Whether the process that owns a `running` row still trains it. */
export function isAlive(root: string, run: RunOwner, now = Date.now()): boolean {
  if (activeHere.has(key(root, run.id))) return true;
  if (!run.owner || run.heartbeat_at === null || now - run.heartbeat_at > STALE_MS) return false;
  const at = run.owner.lastIndexOf(':');
  const host = run.owner.slice(0, at);
  const pid = Number(run.owner.slice(at + 1));
  if (host !== os.hostname()) return true; // another machine on a shared folder: its heartbeat says
  if (pid === process.pid) return false; // ours, but no job here trains it any more
  return pidAlive(pid);
}

/** Marks `running` runs whose process is gone as `interrupted`; returns their ids. */
export function markInterrupted(store: LabelStore, now = Date.now()): number[] {
  const runs = new RunStore(store.db);
  return runs.immediate(() => {
    const dead = runs.runningOwners().filter((r) => !isAlive(store.root, r, now)).map((r) => r.id);
    runs.markInterrupted(dead, now);
    return dead;
  });
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
