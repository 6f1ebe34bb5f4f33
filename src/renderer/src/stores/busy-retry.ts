/**
 * @file Sends an edit again while the project answers BUSY. An import holds the write lock for
 * its whole write phase, and the main process waits only a moment for it (main/store/db.ts), so
 * an edit made meanwhile fails with nothing saved; trying again until the lock is free means no
 * edit is lost, and the edit queue keeps them in order.
 */

/** Pauses between tries: quick at first, then once a second. */
export const BUSY_RETRY_MS = [100, 250, 500, 1000] as const;
/** After this long the edit is reported as not saved (something holds the project for good). */
export const BUSY_GIVE_UP_MS = 10 * 60_000;

export interface RetryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: RetryClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Runs `call`; while it fails with code BUSY, calls `onWait` and tries again. */
export async function retryWhileBusy<T>(call: () => Promise<T>, onWait: () => void, clock: RetryClock = realClock): Promise<T> {
  const start = clock.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const busy = (err as { code?: unknown } | null)?.code === 'BUSY';
      if (!busy || clock.now() - start >= BUSY_GIVE_UP_MS) throw err;
      onWait();
      await clock.sleep(BUSY_RETRY_MS[Math.min(attempt, BUSY_RETRY_MS.length - 1)]!);
    }
  }
}
