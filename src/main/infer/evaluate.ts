/**
 * @file Validation of an ONNX detector on labelled images, as Ultralytics' `val` does it for an
 * exported model: the validator's letterbox (long side to imgsz, scaleup off, padded square),
 * NMS with conf 0.001, IoU 0.7, max 300 detections, multi-label; predictions and labels compared
 * in the letterboxed input space; metrics from metrics/detection-metrics.ts.
 */
import { AppError } from '../../shared/errors';
import type { RgbImage } from '../images/letterbox';
import { DetectionMetrics, type DetectionMetricsResult } from '../metrics/detection-metrics';
import type { OnnxDetector } from './onnx-detector';
import type { ImageSize } from './preprocess';

/** A label box: top-left x, y and size. */
export interface LabelBox {
  classId: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface EvalSample {
  /** Image file, its bytes, or decoded pixels. */
  image: string | Buffer | RgbImage;
  /** In source image pixels, or as fractions 0..1 of the image when `normalized`. */
  labels: readonly LabelBox[];
  normalized?: boolean;
}

export interface EvaluateOptions {
  imgsz?: ImageSize;
  /** Default 0.001. */
  conf?: number;
  /** Default 0.7. */
  iou?: number;
  /** Default 300. */
  maxDet?: number;
  /** Class count; default the model's names. */
  nc?: number;
  names?: readonly string[];
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Runs the detector over the samples and computes Ultralytics' validation metrics. */
export async function evaluateDetector(
  detector: OnnxDetector,
  samples: readonly EvalSample[],
  options: EvaluateOptions = {},
): Promise<DetectionMetricsResult> {
  const names = options.names ?? detector.names;
  const nc = options.nc ?? names.length;
  if (!nc) throw new AppError('INVALID_INPUT', 'the model has no class names; pass nc');
  const metrics = new DetectionMetrics({ nc, names });
  for (let i = 0; i < samples.length; i++) {
    if (options.signal?.aborted) throw new AppError('JOB_CANCELLED', `validation cancelled after ${i} of ${samples.length} images`);
    const sample = samples[i]!;
    const det = await detector.detectInputSpace(sample.image, {
      mode: 'val',
      conf: options.conf ?? 0.001,
      iou: options.iou ?? 0.7,
      maxDet: options.maxDet ?? 300,
      multiLabel: true,
      ...(options.imgsz !== undefined ? { imgsz: options.imgsz } : {}),
    });
    const { input, detections } = det;
    // Labels into the letterbox: fraction of the image * resized size + padding, as Ultralytics'
    // dataset pipeline (denormalise to the resized image, add the border) does.
    const sx = sample.normalized ? input.resizedWidth : input.resizedWidth / input.sourceWidth;
    const sy = sample.normalized ? input.resizedHeight : input.resizedHeight / input.sourceHeight;
    const gtBoxes = new Float32Array(sample.labels.length * 4);
    const gtCls = new Int32Array(sample.labels.length);
    sample.labels.forEach((b, k) => {
      gtBoxes[4 * k] = b.x * sx + input.padLeft;
      gtBoxes[4 * k + 1] = b.y * sy + input.padTop;
      gtBoxes[4 * k + 2] = (b.x + b.w) * sx + input.padLeft;
      gtBoxes[4 * k + 3] = (b.y + b.h) * sy + input.padTop;
      gtCls[k] = b.classId;
    });
    metrics.add({
      predBoxes: detections.boxes.subarray(0, detections.count * 4),
      predConf: detections.scores,
      predCls: detections.classes,
      gtBoxes,
      gtCls,
    });
    options.onProgress?.(i + 1, samples.length);
  }
  return metrics.compute();
}
