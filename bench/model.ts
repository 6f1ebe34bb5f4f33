/**
 * @file The model part of `npm run bench`: forward latency (eval forward + decode, read back) of
 * yolo11n-coco.pt on every tfjs backend that loads here, at 320 and 640, and onnxruntime-node on
 * our own ONNX export at 640 (2 intra-op threads), beside Ultralytics' own .onnx on the same machine.
 *
 * References (DESIGN.md, the 2-core CI-class machine, Ultralytics 8.3 on PyTorch CPU, one thread):
 * 44 ms at 320, 149 ms at 640; onnxruntime 72-85 ms at 640 with 2 threads. Ratio = ours / reference.
 * The plain-JS cpu backend takes seconds per forward, so it runs at 320 only, twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { initBackend, type BackendName } from '../src/main/model/backend';
import { measureForwardLatency, type LatencyResult } from '../src/main/model/latency';
import { buildOnnx } from '../src/main/model/onnx';
import { readPtFile, type PtCheckpoint } from '../src/main/model/pt/pt-reader';
import { YoloModel } from '../src/main/model/yolo';
import { percentile, type Figure, type Log, type PartResult } from './types';

export interface ModelBenchOptions {
  log: Log;
  /** ORT runs after warm-up. Default 30. */
  ortRuns?: number;
  threads?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const MODELS = path.resolve(here, '..', '..', 'shared', 'models');
/** PyTorch CPU, one thread, forward of yolo11n (DESIGN.md). */
const REF_TORCH_MS: Record<number, number> = { 320: 44, 640: 149 };
const REF_ORT_MS = [72, 85] as const;

/** Runs per backend and size: [warm-up, timed]. The slow backends get fewer. */
const PLAN: Record<BackendName, { imgsz: number; warmup: number; runs: number }[]> = {
  'tensorflow-gpu': [
    { imgsz: 320, warmup: 3, runs: 20 },
    { imgsz: 640, warmup: 3, runs: 20 },
  ],
  tensorflow: [
    { imgsz: 320, warmup: 2, runs: 10 },
    { imgsz: 640, warmup: 2, runs: 10 },
  ],
  wasm: [
    { imgsz: 320, warmup: 2, runs: 10 },
    { imgsz: 640, warmup: 1, runs: 5 },
  ],
  cpu: [{ imgsz: 320, warmup: 1, runs: 2 }],
};

export async function runModelBench(opts: ModelBenchOptions): Promise<PartResult> {
  const { log } = opts;
  const ptFile = path.join(MODELS, 'yolo11n-coco.pt');
  const theirsFile = path.join(MODELS, 'yolo11n-coco.onnx');
  if (!fs.existsSync(ptFile)) {
    log(`model: ${ptFile} not found; skipped`);
    return { part: 'model', figures: [], info: { skipped: 'checkpoint missing', ptFile } };
  }
  const pt = readPtFile(ptFile);
  const figures: Figure[] = [];
  const latencies: (LatencyResult & { backendName: BackendName })[] = [];

  // Which backends load: the best one, and each one after it (initBackend(preferred) tries from there).
  const best = await initBackend();
  log(`model: best tfjs backend here: ${best.name}${best.reasons.length ? ` (${best.reasons.map((r) => `${r.backend}: ${r.reason}`).join('; ')})` : ''}`);
  const tried = new Set<BackendName>();
  for (const want of ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as BackendName[]) {
    const choice = await initBackend(want).catch(() => null);
    if (!choice || choice.name !== want || tried.has(want)) continue;
    tried.add(want);
    for (const step of PLAN[want]) {
      const r = await timeBackend(pt, step);
      latencies.push({ ...r, backendName: want });
      const ref = REF_TORCH_MS[step.imgsz]!;
      log(`model: tfjs ${want} ${step.imgsz}: median ${r.medianMs.toFixed(1)} ms (min ${r.minMs.toFixed(1)}, ${r.runs} runs) = ${(r.medianMs / ref).toFixed(2)}x PyTorch's ${ref} ms`);
      figures.push({ name: `yolo11n ${step.imgsz} forward, tfjs ${want}, vs PyTorch CPU ${ref} ms`, measured: r.medianMs, unit: 'ms', target: ref });
    }
  }

  // onnxruntime on our export at 640, and on Ultralytics' export on the same machine.
  const threads = opts.threads ?? 2;
  const runs = opts.ortRuns ?? 30;
  const model = YoloModel.fromCheckpoint(pt);
  const { bytes } = buildOnnx(model, { imgsz: 640, source: 'yolo11n-coco.pt' });
  model.dispose();
  const oursMs = await timeOrt(bytes, threads, runs);
  const ref640 = REF_TORCH_MS[640]!;
  log(
    `model: onnxruntime (${threads} threads) on our export at 640: p50 ${oursMs.p50.toFixed(1)} ms (p95 ${oursMs.p95.toFixed(1)}) = ` +
      `${(oursMs.p50 / ref640).toFixed(2)}x PyTorch's ${ref640} ms, ${(oursMs.p50 / REF_ORT_MS[1]).toFixed(2)}-${(oursMs.p50 / REF_ORT_MS[0]).toFixed(2)}x the reference onnxruntime ${REF_ORT_MS[0]}-${REF_ORT_MS[1]} ms`,
  );
  figures.push({ name: `yolo11n 640 onnxruntime (ours, ${threads} threads) vs PyTorch CPU ${ref640} ms`, measured: oursMs.p50, unit: 'ms', target: ref640 });
  figures.push({ name: `yolo11n 640 onnxruntime (ours, ${threads} threads) vs reference ORT ${REF_ORT_MS[0]}-${REF_ORT_MS[1]} ms`, measured: oursMs.p50, unit: 'ms', target: REF_ORT_MS[1] });
  let theirsMs: { p50: number; p95: number } | null = null;
  if (fs.existsSync(theirsFile)) {
    theirsMs = await timeOrt(fs.readFileSync(theirsFile), threads, runs);
    log(`model: onnxruntime on Ultralytics' yolo11n-coco.onnx, same machine: p50 ${theirsMs.p50.toFixed(1)} ms (ours / theirs ${(oursMs.p50 / theirsMs.p50).toFixed(2)})`);
    figures.push({ name: "yolo11n 640 onnxruntime, Ultralytics' own export (same machine)", measured: theirsMs.p50, unit: 'ms', target: null });
  }

  return {
    part: 'model',
    figures,
    info: {
      checkpoint: ptFile,
      backends: { best: best.name, reasons: best.reasons, measured: [...tried] },
      tfjs: latencies.map((l) => ({ backend: l.backendName, imgsz: l.imgsz, runs: l.runs, medianMs: l.medianMs, minMs: l.minMs, meanMs: l.meanMs, vsTorch: l.medianMs / REF_TORCH_MS[l.imgsz]! })),
      onnxruntime: { threads, runs, ours: oursMs, ultralytics: theirsMs, vsTorch640: oursMs.p50 / ref640 },
      references: { pytorchMs: REF_TORCH_MS, onnxruntimeMs: REF_ORT_MS },
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      /** Other work on the machine inflates latency: look here before reading the figures. */
      loadavg: os.loadavg(),
    },
  };
}

/** Latency of a model built on the backend now active (built fresh: its variables live there). */
async function timeBackend(pt: PtCheckpoint, step: { imgsz: number; warmup: number; runs: number }): Promise<LatencyResult> {
  const model = YoloModel.fromCheckpoint(pt);
  try {
    return await measureForwardLatency(model, step);
  } finally {
    model.dispose();
  }
}

async function timeOrt(model: Uint8Array, threads: number, runs: number): Promise<{ p50: number; p95: number; min: number }> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const input = new ort.Tensor('float32', new Float32Array(3 * 640 * 640).fill(0.5), [1, 3, 640, 640]);
  const times: number[] = [];
  try {
    for (let i = -5; i < runs; i++) {
      const t0 = performance.now();
      const out = await session.run({ images: input });
      const dt = performance.now() - t0;
      out.output0?.dispose();
      if (i >= 0) times.push(dt);
    }
  } finally {
    await session.release();
  }
  return { p50: percentile(times, 50), p95: percentile(times, 95), min: Math.min(...times) };
}
