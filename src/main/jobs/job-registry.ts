/**
 * @file Long jobs (import, export, sample generation; later predict and train). A job returns its id
 * at once; progress is computed here (rate and ETA per phase) and pushed as `job` events at most
 * ~10 times a second; the runner gets an AbortSignal that Cancel trips.
 */
import { randomUUID } from 'node:crypto';
import { AppError, toErrorInfo } from '../../shared/errors';
import type { JobInfo, JobKind } from '../../shared/types';

export interface JobContext {
  signal: AbortSignal;
  /** Reports `done` of `total` items in a named phase. Cheap to call often: emits are throttled. */
  progress(phase: string, done: number, total: number, message?: string): void;
}

export type JobRunner<T> = (ctx: JobContext) => Promise<T>;

const EMIT_INTERVAL_MS = 100;
const KEEP_FINISHED = 50;

interface JobEntry {
  info: JobInfo;
  controller: AbortController;
  phaseStart: number;
  phaseStartDone: number;
  lastEmit: number;
  pending: ReturnType<typeof setTimeout> | null;
  promise: Promise<unknown>;
}

export class JobRegistry {
  private readonly jobs = new Map<string, JobEntry>();

  constructor(private readonly emit: (info: JobInfo) => void) {}

  start<T>(kind: JobKind, title: string, runner: JobRunner<T>, onDone?: (result: T) => void): JobInfo {
    const now = Date.now();
    const info: JobInfo = {
      id: randomUUID(),
      kind,
      title,
      state: 'running',
      phase: 'starting',
      done: 0,
      total: 0,
      rate: 0,
      etaSec: null,
      message: '',
      startedAt: now,
      finishedAt: null,
    };
    const entry: JobEntry = {
      info,
      controller: new AbortController(),
      phaseStart: now,
      phaseStartDone: 0,
      lastEmit: 0,
      pending: null,
      promise: Promise.resolve(),
    };
    this.jobs.set(info.id, entry);
    const ctx: JobContext = {
      signal: entry.controller.signal,
      progress: (phase, done, total, message) => this.progress(entry, phase, done, total, message),
    };
    entry.promise = (async () => {
      try {
        const result = await runner(ctx);
        if (entry.controller.signal.aborted) throw new AppError('JOB_CANCELLED', `${title} cancelled`);
        info.result = result;
        info.state = 'done';
        info.done = info.total;
        info.etaSec = 0;
        onDone?.(result);
      } catch (err) {
        const error = toErrorInfo(err);
        info.state = error.code === 'JOB_CANCELLED' || entry.controller.signal.aborted ? 'cancelled' : 'failed';
        info.error = error;
        info.message = error.message.split('\n')[0] ?? '';
      }
      info.finishedAt = Date.now();
      this.flush(entry);
      this.prune();
    })();
    this.flush(entry);
    return { ...info };
  }

  get(id: string): JobInfo {
    const entry = this.jobs.get(id);
    if (!entry) throw new AppError('JOB_NOT_FOUND', `no job ${id}`);
    return { ...entry.info };
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((e) => ({ ...e.info }));
  }

  cancel(id: string): JobInfo {
    const entry = this.jobs.get(id);
    if (!entry) throw new AppError('JOB_NOT_FOUND', `no job ${id}`);
    if (entry.info.state === 'running') {
      entry.controller.abort();
      entry.info.message = 'cancelling...';
      this.flush(entry);
    }
    return { ...entry.info };
  }

  /** Resolves when the job has ended (any state). */
  async wait(id: string): Promise<JobInfo> {
    const entry = this.jobs.get(id);
    if (!entry) throw new AppError('JOB_NOT_FOUND', `no job ${id}`);
    await entry.promise;
    return { ...entry.info };
  }

  /** Cancels running jobs and waits for them to stop (app shutdown). */
  async close(): Promise<void> {
    const running = [...this.jobs.values()].filter((e) => e.info.state === 'running');
    for (const e of running) e.controller.abort();
    await Promise.all(running.map((e) => e.promise));
  }

  private progress(entry: JobEntry, phase: string, done: number, total: number, message?: string): void {
    const info = entry.info;
    if (info.state !== 'running') return;
    const now = Date.now();
    if (phase !== info.phase) {
      info.phase = phase;
      entry.phaseStart = now;
      entry.phaseStartDone = done;
    }
    info.done = done;
    info.total = total;
    if (message !== undefined) info.message = message;
    const seconds = (now - entry.phaseStart) / 1000;
    info.rate = seconds > 0.2 ? (done - entry.phaseStartDone) / seconds : 0;
    info.etaSec = info.rate > 0 ? Math.max(0, (total - done) / info.rate) : null;
    if (now - entry.lastEmit >= EMIT_INTERVAL_MS) this.flush(entry);
    else entry.pending ??= setTimeout(() => this.flush(entry), EMIT_INTERVAL_MS - (now - entry.lastEmit));
  }

  private flush(entry: JobEntry): void {
    if (entry.pending) clearTimeout(entry.pending);
    entry.pending = null;
    entry.lastEmit = Date.now();
    this.emit({ ...entry.info });
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((e) => e.info.state !== 'running');
    for (const e of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(e.info.id);
  }
}
