/**
 * @file The tasks a worker thread can run, and the messages it sends back. Shared by the thread
 * that starts a worker (run-in-worker.ts) and the worker itself (worker-entry.ts).
 */
import type { ErrorInfo } from '../../shared/errors';
import type { ExportRequest, ImportRequest } from '../../shared/types';
import type { PredictSplitRequest } from '../infer/predict-split';

export type WorkerTask =
  | { kind: 'import'; root: string; request: ImportRequest }
  | { kind: 'export'; root: string; request: ExportRequest }
  | { kind: 'sample'; dir: string; images?: number; seed?: number }
  /** Fine-tuning: Ultralytics-style arguments (validated in the worker by parseTrainArgs). */
  | { kind: 'train'; args: Record<string, unknown> }
  /** A run's weights over a split, predictions into the store. */
  | { kind: 'predict'; root: string; request: PredictSplitRequest };

export type WorkerMessage =
  | { type: 'progress'; phase: string; done: number; total: number }
  /** A task-specific event (training progress) passed through to the job's owner. */
  | { type: 'event'; data: unknown }
  | { type: 'done'; result: unknown }
  | { type: 'error'; error: ErrorInfo };

export interface WorkerInput {
  task: WorkerTask;
  /** Int32Array[0] set to 1 by the parent to cancel: read synchronously inside tight loops. */
  cancelFlag: SharedArrayBuffer;
}
