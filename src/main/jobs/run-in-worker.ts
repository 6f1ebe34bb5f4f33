/**
 * @file Runs one task in a worker thread and bridges it to a job: progress flows to the job, the
 * job's AbortSignal sets a shared flag the worker polls, errors come back with their codes. Generic:
 * the caller names the worker's entry module and the task it understands (app/worker-tasks.ts).
 */
import { Worker } from 'node:worker_threads';
import { AppError, type ErrorInfo } from '../../shared/errors';
import type { JobContext } from './job-registry';

export type WorkerMessage =
  | { type: 'progress'; phase: string; done: number; total: number }
  /** A task-specific event (training progress) passed through to the job's owner. */
  | { type: 'event'; data: unknown }
  | { type: 'done'; result: unknown }
  | { type: 'error'; error: ErrorInfo };

export interface WorkerInput<Task> {
  task: Task;
  /** Int32Array[0] set to 1 by the parent to cancel: read synchronously inside tight loops. */
  cancelFlag: SharedArrayBuffer;
}

export function runInWorker<T, Task extends { kind: string }>(
  entry: { url: URL; argv: string[] },
  task: Task,
  ctx: JobContext,
  onEvent?: (data: unknown) => void,
): Promise<T> {
  const cancelFlag = new SharedArrayBuffer(4);
  const input: WorkerInput<Task> = { task, cancelFlag };
  const worker = new Worker(entry.url, { argv: entry.argv, workerData: input });
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
