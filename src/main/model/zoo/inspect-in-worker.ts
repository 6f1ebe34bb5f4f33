/**
 * @file inspectModelFile in a worker thread with a size, time and memory limit: what the Api's
 * `models.inspect` runs for a path the user typed. The readers bound what a file declares; this
 * bounds what nobody foresaw. A file over the size limit is refused by stat before a thread is
 * used, a worker still busy at the time limit is terminated (V8 stops it even inside a loop), and
 * one that outgrows its heap is ended by V8, each with an error that names the file and the limit.
 *
 * A worker that answered is kept for the next request (for a minute, never keeping the process
 * alive): starting one costs a second or more from source, and the Train view inspects as the
 * user types. A request that finds it busy starts another.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, type ErrorInfo } from '../../../shared/errors';
import type { ModelInspection } from '../../../shared/types';
import { checkModelFileSize } from '../model-file';
import { workerScript } from '../../util/worker-script';

/** How long an inspection may take, worker start included: the real checkpoints take well under a second. */
export const INSPECT_TIME_LIMIT_MS = 20_000;

/**
 * JavaScript heap of the worker. Tensor bytes live outside it (ArrayBuffers, bounded by the file
 * size limit and the readers' decode budgets); the heap holds the parsed structure, a few MiB for
 * a real checkpoint.
 */
export const INSPECT_HEAP_LIMIT_MB = 512;

/** How long an idle worker waits for the next request. */
const IDLE_MS = 60_000;

export interface InspectLimits {
  timeMs?: number;
  heapMb?: number;
}

/** What the thread that starts the worker sends it. */
export interface InspectRequest {
  id: number;
  file: string;
}

/** What the worker answers. */
export type InspectReply = { id: number } & ({ ok: true; value: ModelInspection } | { ok: false; error: ErrorInfo });

let idle: { worker: Worker; heapMb: number; timer: NodeJS.Timeout } | null = null;
let nextId = 1;

function takeWorker(heapMb: number): Worker {
  if (idle && idle.heapMb === heapMb) {
    const { worker, timer } = idle;
    idle = null;
    clearTimeout(timer);
    worker.ref();
    return worker;
  }
  const script = workerScript(import.meta.url, 'inspect-worker');
  const worker = new Worker(script.url, {
    argv: script.argv,
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(64, heapMb), stackSizeMb: 4 },
  });
  worker.once('exit', () => {
    if (idle?.worker === worker) {
      clearTimeout(idle.timer);
      idle = null;
    }
  });
  return worker;
}

function putBack(worker: Worker, heapMb: number): void {
  if (idle) {
    void worker.terminate();
    return;
  }
  worker.unref();
  const timer = setTimeout(() => {
    if (idle?.worker === worker) idle = null;
    void worker.terminate();
  }, IDLE_MS);
  timer.unref();
  idle = { worker, heapMb, timer };
}

/** Reads and validates a .pt / .safetensors / .onnx detection model file, off this thread. */
export async function inspectModelFileInWorker(file: string, limits: InspectLimits = {}): Promise<ModelInspection> {
  const timeMs = limits.timeMs ?? INSPECT_TIME_LIMIT_MS;
  const heapMb = limits.heapMb ?? INSPECT_HEAP_LIMIT_MB;
  checkModelFileSize(file);
  const label = path.basename(file);
  const worker = takeWorker(heapMb);
  const request: InspectRequest = { id: nextId++, file };
  let reusable = false;
  let timer: NodeJS.Timeout | undefined;
  let onMessage: ((msg: InspectReply) => void) | undefined;
  let onError: ((err: Error & { code?: string }) => void) | undefined;
  let onExit: ((code: number) => void) | undefined;
  try {
    return await new Promise<ModelInspection>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new AppError('FILE_UNREADABLE', `took too long to inspect ${label} (limit ${timeMs / 1000} s); is it a model file?`, { file, limitMs: timeMs })),
        timeMs,
      );
      onMessage = (msg) => {
        if (msg.id !== request.id) return;
        reusable = true;
        if (msg.ok) resolve(msg.value);
        else reject(AppError.fromInfo(msg.error));
      };
      onError = (err) =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new AppError('FILE_UNREADABLE', `inspecting ${label} needed more than ${heapMb} MiB of memory; is it a model file?`, { file, limitMb: heapMb })
            : new AppError('INTERNAL', `inspecting ${label} failed: ${err.message}`),
        );
      onExit = (code) => reject(new AppError('INTERNAL', `the worker inspecting ${label} exited with code ${code} before answering`));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(request);
    });
  } finally {
    clearTimeout(timer);
    if (onMessage) worker.off('message', onMessage);
    if (onError) worker.off('error', onError);
    if (onExit) worker.off('exit', onExit);
    if (reusable) putBack(worker, heapMb);
    else void worker.terminate();
  }
}
