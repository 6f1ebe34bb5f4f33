/**
 * @file Messages between the BatchLoader and its workers. Everything is structured-clone safe;
 * batch arrays travel as transferred buffers, shared images as SharedArrayBuffers.
 */
import type { ErrorInfo } from '../../../shared/errors';
import type { Hyp } from '../../images/augment/types';
import type { SharedImagesInit } from './shared-images';

/** A sample as the workers see it (TrainSample without the optional fields). */
export interface WorkerSample {
  imagePath: string;
  cls: number[];
  /** [N, 4] xyxy pixels of the original image. */
  boxes: Float32Array;
  width: number;
  height: number;
}

/** `workerData` of every loader worker. */
export interface WorkerInit {
  mode: 'train' | 'val';
  imgsz: number;
  batchSize: number;
  seed: number;
  hyp: Hyp;
  samples: WorkerSample[];
  /** Mosaic buffer length in tickets (Ultralytics' max_buffer_length). */
  bufferLength: number;
  /** Shared decoded images: the RAM cache, or the training ring; null for neither. */
  shared: SharedImagesInit | null;
  /** Private cache entries per worker, for images the shared memory cannot hold. */
  privateCacheEntries: number;
  /** Validation with rect batches: image order and [nb, 2] batch shapes. */
  rect: { order: Int32Array; shapes: Int32Array } | null;
  /** Force a resize kernel (default: Ultralytics' rule, see loadTrainImage). */
  interpolation?: 'linear' | 'area';
}

export interface BatchTask {
  type: 'batch';
  /** Which epoch run asked (results of abandoned runs are dropped). */
  run: number;
  epoch: number;
  batch: number;
  mosaic: boolean;
}

export type ToWorker = BatchTask;

export interface BatchDone {
  type: 'batch';
  run: number;
  epoch: number;
  batch: number;
  count: number;
  height: number;
  width: number;
  images: Float32Array;
  batchIdx: Int32Array;
  cls: Int32Array;
  boxes: Float32Array;
  indices: Int32Array;
  originalSizes: Int32Array;
  ratioPad: Float32Array;
}

export interface BatchFailed {
  type: 'error';
  run: number;
  batch: number;
  error: ErrorInfo;
}

export type FromWorker = BatchDone | BatchFailed;
