/**
 * @file Runs a WorkerTask in a worker thread and bridges it to a job: progress flows to the job,
 * the job's AbortSignal sets a shared flag the worker polls, errors come back with their codes.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../../shared/errors';
import type { JobContext } from './job-registry';
import type { WorkerInput, WorkerMessage, WorkerTask } from './worker-tasks';

/** From source the entry is TypeScript (loaded through a tsx bootstrap); in a build it is JavaScript. */
function workerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './worker-bootstrap.mjs' : './worker-entry.js', import.meta.url);
}

export function runInWorker<T>(task: WorkerTask, ctx: JobContext, onEvent?: (data: unknown) => void): Promise<T> {
  const cancelFlag = new SharedArrayBuffer(4);
  const input: WorkerInput = { task, cancelFlag };
  const worker = new Worker(workerUrl(), { workerData: input });
  const onAbort = (): void => void Atomics.store(new Int32Array(cancelFlag), 0, 1);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      fn();
    };
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress') ctx.progress(msg.phase, msg.done, msg.total);
      else if (msg.type === 'event') onEvent?.(msg.data);
      else if (msg.type === 'done') settle(() => resolve(msg.result as T));
      else settle(() => reject(AppError.fromInfo(msg.error)));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) =>
      settle(() => reject(new AppError('INTERNAL', `worker for ${task.kind} exited with code ${code} before finishing`))),
    );
  }).finally(() => void worker.terminate());
}
