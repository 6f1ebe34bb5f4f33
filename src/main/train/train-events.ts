/**
 * @file What a training run tells its caller while it runs (the worker forwards these to the
 * app, the CLI prints them): start, batch progress, validation progress, each epoch, the end.
 */
import type { BackendChoice } from '../model/backend';
import type { OptimizerChoice } from '../../shared/training';
import type { EpochRow } from './train-state';

export interface BatchProgress {
  type: 'batch';
  epoch: number; // 1-based
  epochs: number;
  batch: number; // 1-based
  batches: number;
  /** Running means over the epoch: box, cls, dfl. */
  losses: [number, number, number];
  lr: [number, number, number];
  imagesPerSec: number;
  etaSec: number | null;
  instances: number;
}

export type TrainEvent =
  | {
      type: 'start';
      runDir: string;
      backend: BackendChoice;
      optimizer: OptimizerChoice;
      trainImages: number;
      valImages: number;
      names: string[];
      startEpoch: number;
      epochs: number;
      /** Things the user should know (no val images, images listed in both splits, ...). */
      warnings: string[];
    }
  | BatchProgress
  | { type: 'validating'; epoch: number; done: number; total: number }
  | { type: 'epoch'; row: EpochRow; best: boolean; perClass: PerClassAp[] }
  | { type: 'done'; runDir: string; best: string; last: string; rows: EpochRow[]; stoppedEarly: boolean; perClass: PerClassAp[] };

export interface PerClassAp {
  name: string;
  images: number;
  instances: number;
  ap50: number;
  ap50_95: number;
}
