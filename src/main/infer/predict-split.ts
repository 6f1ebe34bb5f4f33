/**
 * @file Runs a trained run's weights over one split of a project and stores what it finds, for
 * review beside the labels. The weights are exported to ONNX once (next to them) and run in
 * onnxruntime, as `boxtune predict` does: Ultralytics' predict letterbox, conf 0.25, NMS IoU 0.7.
 * Predictions are stored a chunk of images at a time, so a job killed or cancelled part way keeps
 * the images it finished (each image holds one pass's predictions, never half of one).
 */
import fs from 'node:fs';
import { AppError } from '../../shared/errors';
import type { Split } from '../../shared/types';
import { initBackend } from '../model/backend';
import { loadModelFile } from '../model/checkpoint';
import { exportOnnx } from '../model/onnx';
import type { LabelStore } from '../store/label-store';
import { replacePredictions, splitImages, type NewPrediction } from '../store/predictions';
import { OnnxDetector } from './onnx-detector';

/** Images whose predictions are committed together (one transaction). */
export const PREDICT_CHUNK = 16;

export interface PredictSplitRequest {
  runId: number;
  /** best.safetensors (or any checkpoint) of the run. */
  weights: string;
  split: Split;
  imgsz: number;
  conf?: number;
}

export interface PredictSplitResult {
  images: number;
  predictions: number;
  /** Images that could not be read, with why. */
  failed: { path: string; error: string }[];
  seconds: number;
}

/** The ONNX file beside a checkpoint, exported now unless an export newer than the weights exists. */
export async function onnxBeside(weights: string, imgsz: number): Promise<string> {
  if (!fs.existsSync(weights)) throw new AppError('NOT_FOUND', `no weights at ${weights}: the run has not finished an epoch`);
  const onnx = weights.replace(/\.(pt|safetensors)$/i, '') + '.onnx';
  if (fs.existsSync(onnx) && fs.statSync(onnx).mtimeMs >= fs.statSync(weights).mtimeMs) return onnx;
  await initBackend();
  const { model } = loadModelFile(weights);
  try {
    await exportOnnx(model, { imgsz, path: onnx, source: weights });
  } finally {
    model.dispose();
  }
  return onnx;
}

export async function predictSplit(
  store: LabelStore,
  req: PredictSplitRequest,
  opts: { onProgress?: (phase: string, done: number, total: number) => void; isCancelled?: () => boolean } = {},
): Promise<PredictSplitResult> {
  const started = performance.now();
  const images = splitImages(store, req.split);
  if (images.length === 0) throw new AppError('INVALID_INPUT', `the ${req.split} split has no images to predict on`);
  opts.onProgress?.('exporting the model', 0, images.length);
  const detector = await OnnxDetector.load(await onnxBeside(req.weights, req.imgsz));
  try {
    // Model class i is the project class of the same name (training used the project's class order).
    const byName = new Map(store.classes().map((c) => [c.name, c.id]));
    const classIds = detector.names.map((n) => byName.get(n) ?? null);
    let rows: NewPrediction[] = [];
    let chunk: number[] = [];
    let predictions = 0;
    const commit = (): void => {
      replacePredictions(store, req.runId, chunk, rows);
      predictions += rows.length;
      rows = [];
      chunk = [];
    };
    const failed: PredictSplitResult['failed'] = [];
    for (let i = 0; i < images.length; i++) {
      if (opts.isCancelled?.()) {
        commit();
        throw new AppError('JOB_CANCELLED', `prediction cancelled after ${i} of ${images.length} images (their predictions are kept)`);
      }
      const img = images[i]!;
      chunk.push(img.id);
      try {
        for (const d of await detector.detect(img.absPath, { conf: req.conf ?? 0.25, iou: 0.7 })) {
          const classId = classIds[d.classId];
          if (classId == null) continue; // a class renamed or deleted since training
          rows.push({ imageId: img.id, classId, score: d.score, x: d.x, y: d.y, w: d.w, h: d.h });
        }
      } catch (err) {
        failed.push({ path: img.absPath, error: err instanceof Error ? err.message : String(err) });
      }
      if (chunk.length === PREDICT_CHUNK || i === images.length - 1) commit();
      opts.onProgress?.('predicting', i + 1, images.length);
    }
    return { images: images.length, predictions, failed, seconds: (performance.now() - started) / 1000 };
  } finally {
    await detector.dispose();
  }
}
