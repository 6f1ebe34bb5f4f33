/**
 * @file Loader worker entry: builds the batches the BatchLoader asks for and sends them back with
 * their buffers transferred (no copy). Errors go back as data, naming the file that failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppError, toErrorInfo, type ErrorInfo } from '../../../shared/errors';
import { BatchBuilder } from './batch-builder';
import type { FromWorker, ToWorker, WorkerInit } from './protocol';

const port = parentPort!;
const builder = new BatchBuilder(workerData as WorkerInit);

port.on('message', (task: ToWorker) => {
  builder.build(task).then(
    (done) => {
      const transfer = [done.images, done.batchIdx, done.cls, done.boxes, done.indices, done.originalSizes, done.ratioPad].map(
        (a) => a.buffer as ArrayBuffer,
      );
      port.postMessage(done satisfies FromWorker, transfer);
    },
    (err: unknown) => port.postMessage({ type: 'error', run: task.run, batch: task.batch, error: errorInfo(err) } satisfies FromWorker),
  );
});

/** The wire form of an error; a bug (not an AppError) keeps its stack for the log. */
function errorInfo(err: unknown): ErrorInfo {
  const info = toErrorInfo(err);
  if (!(err instanceof AppError) && err instanceof Error && err.stack) info.details = { stack: err.stack };
  return info;
}
