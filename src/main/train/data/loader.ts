/**
 * @file BatchLoader: training and validation batches built ahead of the step in a pool of worker
 * threads, in Ultralytics' collate format. The trainer asks for one epoch at a time:
 *
 *   const loader = new BatchLoader({ samples, imgsz: 640, batchSize: 16, epochs: 100, seed: 0 });
 *   for (let epoch = 0; epoch < 100; epoch++) {
 *     for await (const batch of loader.epoch(epoch)) step(batch); // batch.images [B, 640, 640, 3]
 *   }
 *   await loader.close();
 *
 * `epoch()` starts building at once, so calling it before validating the previous epoch overlaps
 * the two. At most `prefetch` batches are built ahead of the one the trainer is on; they come out
 * in order whichever worker finishes first. Batches depend only on (seed, epoch, options), not on
 * the number of workers or on timing: the order is shuffled per epoch from the seed, and every
 * sample draws its augmentation from its own seeded stream (see sampling.ts).
 *
 * Decoded images are shared between workers through SharedArrayBuffers (shared-images.ts): the
 * mosaic ring in training, and with `cache: true` a RAM cache of every resized image, filled on
 * first use (Ultralytics' cache='ram', which fills it up front).
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
// sharp must be loaded on the thread that starts the workers before they load it (glibc unloads
// the shared library with the last thread that used it otherwise; see sharp's install notes).
import 'sharp';
import { AppError } from '../../../shared/errors';
import { DEFAULT_HYP, type Hyp } from '../../images/augment/types';
import { resizedSize } from '../../images/raw-image';
import { BatchBuilder } from './batch-builder';
import type { TrainSample } from './dataset';
import type { BatchDone, BatchTask, FromWorker, WorkerInit } from './protocol';
import { bufferLength, mosaicForEpoch, rectBatches } from './sampling';
import { allocateSharedImages, ringSlots, type SharedImagesInit } from './shared-images';
import { workerScript } from '../../util/worker-script';

/** One batch, as Ultralytics' collate_fn lays it out (NHWC instead of NCHW: what tfjs takes). */
export interface Batch {
  epoch: number;
  /** Batch number within the epoch. */
  index: number;
  /** Images in the batch (B; the last batch of an epoch may be smaller). */
  count: number;
  /** Image height and width: imgsz in training and square validation, the batch's shape with rect. */
  height: number;
  width: number;
  /** [B, H, W, 3] RGB in 0..1. */
  images: Float32Array;
  /** [N] image of each box within the batch (0..B-1). */
  batchIdx: Int32Array;
  /** [N] class of each box. */
  cls: Int32Array;
  /** [N, 4] boxes as cx, cy, w, h normalised by W and H. */
  boxes: Float32Array;
  /** [B] index of each image in the loader's samples. */
  indices: Int32Array;
  /** [B, 2] width, height of each image file. */
  originalSizes: Int32Array;
  /**
   * [B, 4] validation only: rw, rh, padLeft, padTop with x_batch = x_original * r + pad (zeros in
   * training). Ultralytics' ratio_pad; its scale_boxes uses rh for both axes.
   */
  ratioPad: Float32Array;
}

export interface BatchLoaderOptions {
  samples: readonly TrainSample[];
  imgsz: number;
  batchSize: number;
  /** 'train' (augmented, shuffled) or 'val' (letterboxed, in order). Default 'train'. */
  mode?: 'train' | 'val';
  /** Augmentation hyperparameters over DEFAULT_HYP. */
  hyp?: Partial<Hyp>;
  /** Seed of the shuffles and augmentations. Default 0. */
  seed?: number;
  /** Worker threads. Default max(1, cores - 1); 0 builds batches on the calling thread. */
  workers?: number;
  /** Batches built ahead of the one being consumed. Default workers + 1 (at least 2). */
  prefetch?: number;
  /** Keep every decoded, resized image in shared RAM after its first use. Default false. */
  cache?: boolean;
  /** Validation in rect batches (Ultralytics' val default) instead of imgsz squares. Default false. */
  rect?: boolean;
  /** Model stride for rect shapes. Default 32. */
  stride?: number;
  /** Total epochs, so `epoch(e)` turns mosaic off for the last close_mosaic epochs by itself. */
  epochs?: number;
  /** Memory the training ring may take. Default min(2 GiB, a quarter of free memory). */
  ringBytes?: number;
  /** Force one resize kernel (default: linear in training, area when shrinking for validation). */
  interpolation?: 'linear' | 'area';
}

export interface EpochOptions {
  /** Mosaic this epoch. Default: on unless within the last close_mosaic of `epochs`. */
  mosaic?: boolean;
  /** Skip the first batches (resuming mid-epoch). Default 0. */
  startBatch?: number;
}

interface Slot {
  busy: boolean;
  /** A task of an abandoned run is still running here. */
  stale: boolean;
  post(task: BatchTask): void;
  terminate(): Promise<void>;
}

export class BatchLoader {
  readonly mode: 'train' | 'val';
  readonly imgsz: number;
  readonly batchSize: number;
  readonly samples: readonly TrainSample[];
  readonly hyp: Readonly<Hyp>;
  readonly seed: number;
  readonly workerCount: number;
  readonly prefetch: number;
  /** Batches in one epoch. */
  readonly batchesPerEpoch: number;
  /** Shared image memory in use. */
  readonly sharedMemory: { kind: 'ram' | 'ring' | 'none'; bytes: number };
  readonly warnings: string[] = [];

  private readonly epochs: number | undefined;
  private readonly slots: Slot[] = [];
  private current: EpochRun | null = null;
  private runIds = 0;
  private fatal: Error | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private live = 0;

  constructor(opts: BatchLoaderOptions) {
    const positiveInt = (v: number, name: string): number => {
      if (!Number.isInteger(v) || v < 1) throw new AppError('INVALID_INPUT', `${name} must be a positive integer, got ${v}`);
      return v;
    };
    this.mode = opts.mode ?? 'train';
    this.imgsz = positiveInt(opts.imgsz, 'imgsz');
    this.batchSize = positiveInt(opts.batchSize, 'batch size');
    this.samples = opts.samples;
    this.hyp = Object.freeze({ ...DEFAULT_HYP, ...opts.hyp });
    this.seed = opts.seed ?? 0;
    this.epochs = opts.epochs;
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    this.workerCount = opts.workers ?? Math.max(1, cores - 1);
    if (!Number.isInteger(this.workerCount) || this.workerCount < 0) {
      throw new AppError('INVALID_INPUT', `workers must be 0 or more, got ${opts.workers}`);
    }
    this.prefetch = positiveInt(opts.prefetch ?? Math.max(2, this.workerCount + 1), 'prefetch');
    const n = this.samples.length;
    this.batchesPerEpoch = Math.ceil(n / this.batchSize);

    const rect = this.mode === 'val' && opts.rect ? rectBatches(this.samples, this.batchSize, this.imgsz, opts.stride ?? 32, 0.5) : null;
    const L = bufferLength(n, this.batchSize);
    const shared = this.allocateShared(opts, L);
    this.sharedMemory = shared
      ? { kind: shared.kind, bytes: shared.chunks.reduce((a, c) => a + c.byteLength, 0) }
      : { kind: 'none', bytes: 0 };
    const slotBytes = this.imgsz * this.imgsz * 3;
    const init: WorkerInit = {
      mode: this.mode,
      imgsz: this.imgsz,
      batchSize: this.batchSize,
      seed: this.seed,
      hyp: { ...this.hyp },
      samples: this.samples.map((s) => ({ imagePath: s.imagePath, cls: s.cls, boxes: s.boxes, width: s.width, height: s.height })),
      bufferLength: L,
      shared,
      privateCacheEntries:
        this.mode === 'val' ? 0 : shared ? 2 * this.batchSize : Math.min(L + this.batchSize, Math.max(8, Math.floor(256 * 2 ** 20 / slotBytes))),
      rect,
      ...(opts.interpolation ? { interpolation: opts.interpolation } : {}),
    };
    if (n > 0) {
      if (this.workerCount === 0) this.slots.push(this.inlineSlot(init));
      else for (let i = 0; i < this.workerCount; i++) this.slots.push(this.threadSlot(init, i));
    }
  }

  /** Worker threads still running (0 after close()). */
  get activeWorkers(): number {
    return this.live;
  }

  /** Whether epoch `epoch` uses mosaic when not told (close_mosaic over `epochs`). */
  mosaicFor(epoch: number): boolean {
    if (this.mode === 'val') return false;
    return this.epochs === undefined ? this.hyp.mosaic > 0 : mosaicForEpoch(epoch, this.epochs, this.hyp.close_mosaic, this.hyp.mosaic);
  }

  /**
   * The batches of one epoch, in order. Building starts now; a previous epoch still being iterated
   * is abandoned (its pending batches are dropped).
   */
  epoch(epoch: number, opts: EpochOptions = {}): AsyncIterableIterator<Batch> {
    if (this.closed) throw new AppError('INVALID_INPUT', 'the batch loader is closed');
    if (this.fatal) throw this.fatal;
    if (!Number.isInteger(epoch) || epoch < 0) throw new AppError('INVALID_INPUT', `epoch must be a non-negative integer, got ${epoch}`);
    this.current?.abandon();
    for (const s of this.slots) if (s.busy) s.stale = true;
    const run = new EpochRun(this, ++this.runIds, epoch, opts.mosaic ?? this.mosaicFor(epoch), opts.startBatch ?? 0, this.batchesPerEpoch);
    this.current = run;
    this.pump();
    return run;
  }

  /** Stops the workers. Pending epoch iterators end; further use throws. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.current?.abandon();
    this.current = null;
    this.closing = Promise.all(this.slots.map((s) => s.terminate())).then(() => undefined);
    return this.closing;
  }

  /** Hands tasks of the current run to idle workers, up to `prefetch` unconsumed batches. */
  pump(): void {
    const run = this.current;
    if (!run || this.closed || this.fatal) return;
    // A task of an abandoned run may still write the shared ring; wait for it to finish first.
    if (this.slots.some((s) => s.stale)) return;
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const batch = run.nextToDispatch(this.prefetch);
      if (batch === null) return;
      slot.busy = true;
      slot.post({ type: 'batch', run: run.id, epoch: run.epoch, batch, mosaic: run.mosaic });
    }
  }

  /** Called by EpochRun when it is done or abandoned. */
  release(run: EpochRun): void {
    if (this.current === run) this.current = null;
  }

  private onResult(slot: Slot, msg: FromWorker): void {
    slot.busy = false;
    slot.stale = false;
    const run = this.current;
    if (run && msg.run === run.id) {
      if (msg.type === 'batch') run.deliver(toBatch(msg));
      else run.fail(AppError.fromInfo(msg.error));
    }
    this.pump();
  }

  private onFatal(err: Error): void {
    if (this.closed || this.fatal) return;
    this.fatal = err;
    this.current?.fail(err);
    void this.close();
  }

  private threadSlot(init: WorkerInit, i: number): Slot {
    const script = workerScript(import.meta.url, 'batch-worker');
    const worker = new Worker(script.url, { argv: script.argv, workerData: init, name: `boxtune-batches-${i}` });
    this.live++;
    let exited = false;
    const slot: Slot = {
      busy: false,
      stale: false,
      post: (task) => worker.postMessage(task),
      terminate: async () => {
        if (!exited) await worker.terminate();
      },
    };
    worker.on('message', (msg: FromWorker) => this.onResult(slot, msg));
    worker.on('error', (err) => this.onFatal(new AppError('INTERNAL', `batch loader worker ${i} failed: ${err.message}`, { stack: err.stack })));
    worker.on('exit', (code) => {
      exited = true;
      this.live--;
      if (!this.closed) this.onFatal(new AppError('INTERNAL', `batch loader worker ${i} exited with code ${code}`));
    });
    return slot;
  }

  private inlineSlot(init: WorkerInit): Slot {
    const builder = new BatchBuilder(init);
    const slot: Slot = {
      busy: false,
      stale: false,
      post: (task) => {
        builder.build(task).then(
          (done) => setImmediate(() => this.onResult(slot, done)),
          (err: unknown) => {
            const error = err instanceof AppError ? err.toInfo() : { code: 'INTERNAL' as const, message: String((err as Error)?.message ?? err) };
            setImmediate(() => this.onResult(slot, { type: 'error', run: task.run, batch: task.batch, error }));
          },
        );
      },
      terminate: async () => undefined,
    };
    return slot;
  }

  /** RAM cache when asked and it fits, else the training ring when it fits the budget. */
  private allocateShared(opts: BatchLoaderOptions, L: number): SharedImagesInit | null {
    const free = os.freemem();
    if (opts.cache && this.samples.length > 0) {
      const caps = this.samples.map((s) => {
        const r = resizedSize(s.width, s.height, this.imgsz);
        return r.width * r.height * 3;
      });
      const bytes = caps.reduce((a, b) => a + b, 0);
      // Ultralytics' check_cache_ram: the images plus 50% must fit in the memory available.
      if (bytes * 1.5 <= free) return allocateSharedImages('ram', caps);
      this.warnings.push(
        `not caching images: ${(bytes * 1.5 / 2 ** 30).toFixed(1)} GiB needed with a 50% margin, ${(free / 2 ** 30).toFixed(1)} GiB free`,
      );
    }
    if (this.mode !== 'train' || this.samples.length === 0) return null;
    const slots = ringSlots(L, this.prefetch, this.batchSize);
    const slotBytes = this.imgsz * this.imgsz * 3;
    const budget = opts.ringBytes ?? Math.min(2 * 2 ** 30, free / 4);
    if (slots * slotBytes > budget) return null; // workers keep private caches instead
    return allocateSharedImages('ring', new Array<number>(slots).fill(slotBytes));
  }
}

function toBatch(msg: BatchDone): Batch {
  return {
    epoch: msg.epoch,
    index: msg.batch,
    count: msg.count,
    height: msg.height,
    width: msg.width,
    images: msg.images,
    batchIdx: msg.batchIdx,
    cls: msg.cls,
    boxes: msg.boxes,
    indices: msg.indices,
    originalSizes: msg.originalSizes,
    ratioPad: msg.ratioPad,
  };
}

/** One pass over an epoch's batches: dispatch bookkeeping plus an in-order async iterator. */
class EpochRun implements AsyncIterableIterator<Batch> {
  private dispatched: number;
  private consumed: number;
  private readonly ready = new Map<number, Batch>();
  private waiter: { resolve: (r: IteratorResult<Batch>) => void; reject: (e: Error) => void } | null = null;
  private error: Error | null = null;
  private finished = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly loader: BatchLoader,
    readonly id: number,
    readonly epoch: number,
    readonly mosaic: boolean,
    startBatch: number,
    private readonly total: number,
  ) {
    this.dispatched = Math.min(Math.max(0, startBatch), total);
    this.consumed = this.dispatched;
  }

  /** The next batch to build, or null when `prefetch` are already unconsumed or all are out. */
  nextToDispatch(prefetch: number): number | null {
    if (this.finished || this.error || this.dispatched >= this.total) return null;
    if (this.dispatched - this.consumed >= prefetch) return null;
    return this.dispatched++;
  }

  deliver(batch: Batch): void {
    if (this.finished) return;
    this.ready.set(batch.index, batch);
    this.wake();
  }

  fail(err: Error): void {
    if (this.finished || this.error) return;
    this.error = err;
    this.ready.clear();
    this.wake();
  }

  abandon(): void {
    this.finished = true;
    this.ready.clear();
    this.wake();
    this.loader.release(this);
  }

  next(): Promise<IteratorResult<Batch>> {
    // Serialise overlapping next() calls so each gets its own batch, in order.
    const p = this.chain.then(() => this.nextOne());
    this.chain = p.catch(() => undefined);
    return p;
  }

  return(): Promise<IteratorResult<Batch>> {
    this.abandon();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Batch> {
    return this;
  }

  private nextOne(): Promise<IteratorResult<Batch>> {
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.error) {
      this.waiter = null;
      w.reject(this.error);
      return;
    }
    if (this.finished || this.consumed >= this.total) {
      this.waiter = null;
      if (!this.finished) this.abandon();
      w.resolve({ done: true, value: undefined });
      return;
    }
    const batch = this.ready.get(this.consumed);
    if (!batch) return;
    this.ready.delete(this.consumed);
    this.consumed++;
    this.waiter = null;
    w.resolve({ done: false, value: batch });
    this.loader.pump();
  }
}
