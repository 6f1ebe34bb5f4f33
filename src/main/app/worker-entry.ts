/**
 * @file Worker-thread entry: runs one WorkerTask with its own store connection, so a 100k-image
 * import never blocks the thread that serves the UI.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorInfo } from '../../shared/errors';
import { exportDataset } from '../dataset/export';
import { importDataset } from '../dataset/import';
import { writeSampleDataset } from '../project/sample';
import { LabelStore } from '../store/label-store';
import type { WorkerInput, WorkerMessage } from '../jobs/run-in-worker';
import type { WorkerTask } from './worker-tasks';

const { task, cancelFlag } = workerData as WorkerInput<WorkerTask>;
const cancelled = new Int32Array(cancelFlag);
const isCancelled = (): boolean => Atomics.load(cancelled, 0) === 1;
const post = (msg: WorkerMessage): void => parentPort!.postMessage(msg);
const onProgress = (phase: string, done: number, total: number): void => post({ type: 'progress', phase, done, total });

async function run(t: WorkerTask): Promise<unknown> {
  switch (t.kind) {
    case 'import':
    case 'export': {
      const store = LabelStore.open(t.root);
      try {
        return t.kind === 'import'
          ? importDataset(store, t.request, { onProgress, isCancelled })
          : exportDataset(store, t.request, { onProgress, isCancelled });
      } finally {
        store.close();
      }
    }
    case 'sample':
      return writeSampleDataset(t.dir, {
        ...(t.images !== undefined ? { images: t.images } : {}),
        ...(t.seed !== undefined ? { seed: t.seed } : {}),
        onProgress: (done, total) => onProgress('drawing images', done, total),
      });
    case 'train':
      return runTraining(t.args);
    case 'predict': {
      const { predictSplit } = await import('../infer/predict-split');
      const store = LabelStore.open(t.root);
      try {
        return await predictSplit(store, t.request, { onProgress, isCancelled });
      } finally {
        store.close();
      }
    }
  }
}

/** Training owns tfjs in this thread; the shared cancel flag becomes an AbortSignal. */
async function runTraining(raw: Record<string, unknown>): Promise<unknown> {
  const { parseTrainArgs } = await import('../train/args');
  const { train } = await import('../train/trainer');
  const controller = new AbortController();
  const poll = setInterval(() => isCancelled() && controller.abort(), 200);
  try {
    const args = parseTrainArgs(raw);
    let nb = 0;
    return await train(args, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'start') nb = 0;
        if (e.type === 'batch') {
          nb = e.batches;
          onProgress(`epoch ${e.epoch}/${e.epochs}`, (e.epoch - 1) * nb + e.batch, e.epochs * nb);
        }
        post({ type: 'event', data: e });
      },
    });
  } finally {
    clearInterval(poll);
  }
}

run(task).then(
  (result) => post({ type: 'done', result }),
  (err: unknown) => post({ type: 'error', error: toErrorInfo(err) }),
);
