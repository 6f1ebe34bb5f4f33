/**
 * @file The tasks boxtune runs in worker threads (so a long job never blocks the thread serving the
 * UI), and how to start one. The worker side is worker-entry.ts; jobs/run-in-worker.ts is the bridge.
 */
import type { ExportRequest, ImportRequest } from '../../shared/types';
import type { PredictSplitRequest } from '../infer/predict-split';
import type { JobContext } from '../jobs/job-registry';
import { runInWorker } from '../jobs/run-in-worker';
import { workerScript } from '../util/worker-script';

export type WorkerTask =
  | { kind: 'import'; root: string; request: ImportRequest }
  | { kind: 'export'; root: string; request: ExportRequest }
  | { kind: 'sample'; dir: string; images?: number; seed?: number }
  /** Fine-tuning: Ultralytics-style arguments (validated in the worker by parseTrainArgs). */
  | { kind: 'train'; args: Record<string, unknown> }
  /** A run's weights over a split, predictions into the store. */
  | { kind: 'predict'; root: string; request: PredictSplitRequest };

/** Runs one of boxtune's worker tasks (import, export, sample, train, predict) as a job's work. */
export function runTask<T>(task: WorkerTask, ctx: JobContext, onEvent?: (data: unknown) => void): Promise<T> {
  return runInWorker<T, WorkerTask>(workerScript(import.meta.url, 'worker-entry'), task, ctx, onEvent);
}
