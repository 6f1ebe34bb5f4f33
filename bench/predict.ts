/**
 * @file The predict part of `npm run bench`: latency of yolo11n-coco.onnx at 640 on CPU with
 * onnxruntime-node (2 intra-op threads), warm, over ~30 runs; preprocessing (decode + letterbox +
 * CHW float), inference (session.run) and NMS timed apart.
 *
 * References (DESIGN.md, the 2-core CI-class machine, Ultralytics 8.3): onnxruntime 72-85 ms,
 * PyTorch 136 ms per 640 image on CPU with 2 threads. Ratio = ours / reference.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nonMaxSuppression } from '../src/main/infer/nms';
import { OnnxDetector } from '../src/main/infer/onnx-detector';
import { prepareInput } from '../src/main/infer/preprocess';
import { percentile, type Log, type PartResult } from './types';

export interface PredictBenchOptions {
  log: Log;
  /** Measured runs after warm-up. Default 30. */
  runs?: number;
  threads?: number;
  model?: string;
  image?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const SHARED = path.resolve(here, '..', '..', 'shared');
const REF_ORT_MS = [72, 85] as const;
const REF_TORCH_MS = 136;

export async function runPredictBench(opts: PredictBenchOptions): Promise<PartResult> {
  const { log } = opts;
  const runs = opts.runs ?? 30;
  const threads = opts.threads ?? 2;
  const model = opts.model ?? path.join(SHARED, 'models', 'yolo11n-coco.onnx');
  const image = opts.image ?? path.join(SHARED, 'data', 'coco8', 'images', 'val', '000000000042.jpg');
  if (!fs.existsSync(model) || !fs.existsSync(image)) {
    log(`predict: ${model} or ${image} not found; skipped`);
    return { part: 'predict', figures: [], info: { skipped: 'model or image missing', model, image } };
  }

  const det = await OnnxDetector.load(model, { device: 'cpu', threads });
  const [h, w] = det.resolveImgsz(640);
  log(`predict: ${path.basename(model)} at ${w}x${h}, CPU, ${threads} threads, ${runs} runs after warm-up, image ${path.basename(image)}`);
  const pre: number[] = [];
  const inf: number[] = [];
  const post: number[] = [];
  const total: number[] = [];
  let detections = 0;
  try {
    for (let i = -5; i < runs; i++) {
      const t0 = performance.now();
      const input = await prepareInput(image, [h, w], 'predict');
      const t1 = performance.now();
      const raw = await det.predict(input.tensor, [1, 3, input.inputHeight, input.inputWidth]);
      const t2 = performance.now();
      const [d] = nonMaxSuppression(raw.data, raw.dims, { conf: 0.25, iou: 0.7, maxDet: 300, nc: det.names.length });
      const t3 = performance.now();
      if (i < 0) continue; // warm-up
      pre.push(t1 - t0);
      inf.push(t2 - t1);
      post.push(t3 - t2);
      total.push(t3 - t0);
      detections = d!.count;
    }
  } finally {
    await det.dispose();
  }
  const p50 = (xs: number[]) => percentile(xs, 50);
  const p95 = (xs: number[]) => percentile(xs, 95);
  log(
    `predict: inference p50 ${p50(inf).toFixed(1)} ms (p95 ${p95(inf).toFixed(1)}, min ${Math.min(...inf).toFixed(1)}), preprocess p50 ${p50(pre).toFixed(1)} ms, ` +
      `NMS p50 ${p50(post).toFixed(2)} ms, end to end p50 ${p50(total).toFixed(1)} ms; ${detections} detections`,
  );
  log(
    `predict: vs onnxruntime ${REF_ORT_MS[0]}-${REF_ORT_MS[1]} ms: ${(p50(inf) / REF_ORT_MS[0]).toFixed(2)}-${(p50(inf) / REF_ORT_MS[1]).toFixed(2)}x; ` +
      `vs PyTorch ${REF_TORCH_MS} ms: ${(p50(inf) / REF_TORCH_MS).toFixed(2)}x`,
  );
  return {
    part: 'predict',
    figures: [
      { name: `yolo11n 640 inference p50 vs onnxruntime ${REF_ORT_MS[0]}-${REF_ORT_MS[1]} ms`, measured: p50(inf), unit: 'ms', target: REF_ORT_MS[1] },
      { name: `yolo11n 640 inference p50 vs PyTorch ${REF_TORCH_MS} ms`, measured: p50(inf), unit: 'ms', target: REF_TORCH_MS },
      { name: 'yolo11n 640 inference p95', measured: p95(inf), unit: 'ms', target: null },
      { name: 'preprocess p50 (decode + letterbox + CHW)', measured: p50(pre), unit: 'ms', target: null },
      { name: 'NMS p50 (conf 0.25, IoU 0.7)', measured: p50(post), unit: 'ms', target: null },
      { name: 'end to end p50 (file -> boxes)', measured: p50(total), unit: 'ms', target: null },
    ],
    info: {
      model,
      image,
      imgsz: [h, w],
      threads,
      runs,
      warmup: 5,
      detections,
      inferenceMs: { p50: p50(inf), p95: p95(inf), min: Math.min(...inf) },
      preprocessMs: { p50: p50(pre), p95: p95(pre) },
      nmsMs: { p50: p50(post), p95: p95(post) },
      totalMs: { p50: p50(total), p95: p95(total) },
      references: { onnxruntimeMs: REF_ORT_MS, pytorchMs: REF_TORCH_MS },
      ratios: {
        inferenceVsOrtLow: p50(inf) / REF_ORT_MS[0],
        inferenceVsOrtHigh: p50(inf) / REF_ORT_MS[1],
        inferenceVsTorch: p50(inf) / REF_TORCH_MS,
        endToEndVsTorch: p50(total) / REF_TORCH_MS,
      },
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      /** Other work on the machine inflates latency: look here before reading the figures. */
      loadavg: os.loadavg(),
    },
  };
}
