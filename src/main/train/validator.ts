/**
 * @file Validation as Ultralytics' DetectionValidator runs it during training: letterboxed (rect)
 * val batches through the EMA model in eval mode, NMS (conf 0.001, IoU 0.7, multi-label, 300 per
 * image), boxes mapped back to the original image, then P, R, mAP50, mAP50-95 and the val losses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nmsImage } from '../infer/nms';
import { DetectionMetrics, type DetectionMetricsResult } from '../metrics/detection-metrics';
import type { YoloModel } from '../model/yolo';
import type { BatchLoader } from './data/loader';
import type { V8DetectionLoss } from './loss/detection-loss';

export const VAL_NMS = { conf: 0.001, iou: 0.7, maxDet: 300, multiLabel: true } as const;

export interface ValidationResult {
  metrics: DetectionMetricsResult;
  /** Mean val losses per batch: box, cls, dfl. */
  losses: [number, number, number];
  images: number;
  seconds: number;
}

export async function validate(
  model: YoloModel,
  loader: BatchLoader,
  loss: V8DetectionLoss | null,
  opts: { signal?: AbortSignal; onBatch?: (done: number, total: number) => void } = {},
): Promise<ValidationResult> {
  const started = performance.now();
  const metrics = new DetectionMetrics({ nc: model.nc, names: model.names });
  const lossSum: [number, number, number] = [0, 0, 0];
  let batches = 0;
  let images = 0;
  model.eval();
  for await (const batch of loader.epoch(0)) {
    if (opts.signal?.aborted) break;
    const x = tf.tensor4d(batch.images, [batch.count, batch.height, batch.width, 3]);
    const raw = model.forward(x);
    if (loss) {
      const { items, total } = loss.compute(raw, { batchIdx: batch.batchIdx, cls: batch.cls, bboxes: batch.boxes }, { imgsz: [batch.height, batch.width] });
      total.dispose();
      items.forEach((v, i) => (lossSum[i] = lossSum[i]! + v));
    }
    const decoded = model.decode(raw); // [B, 4+nc, N]
    const [, channels, n] = decoded.shape;
    const data = (await decoded.data()) as Float32Array;
    tf.dispose([x, decoded, ...raw]);
    // Ultralytics 8.3 compares predictions and labels in the letterboxed input space, unclipped.
    const gtByImage = groupTargets(batch.batchIdx, batch.cls, batch.boxes, batch.count, batch.width, batch.height);
    for (let b = 0; b < batch.count; b++) {
      const det = nmsImage(data.subarray(b * channels * n, (b + 1) * channels * n), channels, n, VAL_NMS);
      const gt = gtByImage[b]!;
      metrics.add({ predBoxes: det.boxes.subarray(0, det.count * 4), predConf: det.scores, predCls: det.classes, gtBoxes: gt.boxes, gtCls: gt.cls });
      images++;
    }
    batches++;
    opts.onBatch?.(batches, loader.batchesPerEpoch);
  }
  return {
    metrics: metrics.compute(),
    losses: lossSum.map((v) => (batches ? v / batches : 0)) as [number, number, number],
    images,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Splits a batch's targets (normalised cx, cy, w, h) per image, as xyxy pixels of the batch. */
function groupTargets(batchIdx: Int32Array, cls: Int32Array, boxes: Float32Array, count: number, w: number, h: number) {
  const out = Array.from({ length: count }, () => ({ cls: [] as number[], xyxy: [] as number[] }));
  for (let i = 0; i < batchIdx.length; i++) {
    const g = out[batchIdx[i]!]!;
    const cx = boxes[4 * i]! * w;
    const cy = boxes[4 * i + 1]! * h;
    const bw = boxes[4 * i + 2]! * w;
    const bh = boxes[4 * i + 3]! * h;
    g.cls.push(cls[i]!);
    g.xyxy.push(cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2);
  }
  return out.map((g) => ({ cls: g.cls, boxes: Float32Array.from(g.xyxy) }));
}
