/**
 * @file A small pool of image worker threads (image-worker.ts) that make thumbnails, previews and
 * tile pyramids, each task under a time limit. libvips enforces the limit itself (it stops the
 * work); should a worker still not answer a while later, the caller gets its error anyway and the
 * worker is retired: ended once it is idle, never mid-decode (ending a thread inside libvips can
 * take the whole process down), and a fresh one takes its place.
 */
import { Worker } from 'node:worker_threads';
import type { ImageTask, ImageTaskKind } from './image-render';
import { workerScript } from '../util/worker-script';

/** Two: the box this is sized for has two cores, and libvips spreads one image over several threads. */
export const IMAGE_WORKERS = 2;

/**
 * Generous for a real image at the pixel limit (40000x40000: a thumbnail in seconds, a pyramid in
 * about a minute on two cores); what runs longer is stuck or hostile.
 */
export const TIME_LIMIT_SECONDS: Readonly<Record<ImageTaskKind, number>> = { thumbnail: 60, preview: 120, pyramid: 300 };

/** How long past libvips' own limit the pool waits for a worker's answer. */
const GRACE_MS = 10_000;

export interface ToImageWorker {
  id: number;
  task: ImageTask;
  seconds: number;
}

export type FromImageWorker = { id: number; ok: true } | { id: number; ok: false; message: string; code?: string };

export interface ImageWorkerPoolOptions {
  workers?: number;
  timeLimitSeconds?: Partial<Record<ImageTaskKind, number>>;
}

interface Pending {
  id: number;
  task: ImageTask;
  resolve: () => void;
  reject: (err: Error) => void;
  /** Answered already (by the pool's own deadline): a late answer from the worker is dropped. */
  answered: boolean;
}

interface Slot {
  worker: Worker;
  current: Pending | null;
  timer: NodeJS.Timeout | null;
  /** Timed out or the pool closed: gets no more work, and is ended once it answers. */
  retired: boolean;
}

export class ImageWorkerPool {
  private readonly size: number;
  private readonly limits: Record<ImageTaskKind, number>;
  private readonly slots = new Set<Slot>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private started = 0;
  private closed = false;

  constructor(opts: ImageWorkerPoolOptions = {}) {
    this.size = Math.max(1, opts.workers ?? IMAGE_WORKERS);
    this.limits = { ...TIME_LIMIT_SECONDS, ...opts.timeLimitSeconds };
  }

  /** Makes `task.dest` in a worker; rejects with the reason (an Error, with `code` for file errors). */
  run(task: ImageTask): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the image worker pool is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve, reject, answered: false });
      this.pump();
    });
  }

  /** Live workers (retired ones not counted) and tasks handed to workers so far: for tests and diagnostics. */
  stats(): { workers: number; started: number } {
    return { workers: [...this.slots].filter((s) => !s.retired).length, started: this.started };
  }

  /** Refuses new work; idle workers end now, busy ones once their task is answered. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('the image worker pool is closed'));
    const ending: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      slot.retired = true;
      if (!slot.current) ending.push(this.end(slot));
    }
    await Promise.all(ending);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot();
      if (!slot) return;
      this.dispatch(slot, this.queue.shift()!);
    }
  }

  private idleSlot(): Slot | null {
    let live = 0;
    for (const slot of this.slots) {
      if (slot.retired) continue;
      if (!slot.current) return slot;
      live++;
    }
    return live < this.size ? this.spawn() : null;
  }

  private dispatch(slot: Slot, job: Pending): void {
    const seconds = this.limits[job.task.kind];
    slot.current = job;
    this.started++;
    slot.worker.ref(); // a task in flight keeps the process alive; an idle pool does not
    slot.timer = setTimeout(() => this.timedOut(slot), seconds * 1000 + GRACE_MS);
    slot.worker.postMessage({ id: job.id, task: job.task, seconds } satisfies ToImageWorker);
  }

  private timedOut(slot: Slot): void {
    const job = slot.current;
    if (!job) return;
    slot.retired = true;
    slot.worker.unref();
    job.answered = true;
    job.reject(new Error(`took over ${this.limits[job.task.kind]} s and did not stop: too large to process on this machine`));
    this.pump(); // a fresh worker takes its place
  }

  private settle(slot: Slot, msg: FromImageWorker): void {
    const job = slot.current;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.current = null;
    if (job && job.id === msg.id && !job.answered) {
      job.answered = true;
      if (msg.ok) job.resolve();
      else job.reject(Object.assign(new Error(msg.message), msg.code ? { code: msg.code } : {}));
    }
    if (slot.retired) void this.end(slot);
    else slot.worker.unref();
    this.pump();
  }

  private spawn(): Slot {
    const script = workerScript(import.meta.url, 'image-worker');
    const worker = new Worker(script.url, { argv: script.argv, name: 'boxtune-images' });
    const slot: Slot = { worker, current: null, timer: null, retired: false };
    this.slots.add(slot);
    worker.unref();
    worker.on('message', (msg: FromImageWorker) => this.settle(slot, msg));
    const lost = (why: string): void => {
      if (slot.timer) clearTimeout(slot.timer);
      this.slots.delete(slot);
      const job = slot.current;
      slot.current = null;
      if (job && !job.answered) {
        job.answered = true;
        job.reject(new Error(`the image worker ${why}`));
      }
      if (!this.closed) this.pump();
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    return slot;
  }

  private async end(slot: Slot): Promise<void> {
    this.slots.delete(slot);
    await slot.worker.terminate();
  }
}

/** The process's pool: thumbnails, previews and pyramids of every open project share it. */
export const imageWorkers = new ImageWorkerPool();
