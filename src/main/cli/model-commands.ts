/**
 * @file `boxtune val`, `boxtune export` and `boxtune predict`: Ultralytics' model commands,
 * headless, with its argument names and defaults (val conf 0.001 / IoU 0.7 in rect batches;
 * predict conf 0.25 / IoU 0.7; export format=onnx next to the weights).
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import { IMAGE_EXTENSIONS } from '../../shared/types';
import { probeImage } from '../images/probe';
import { OnnxDetector } from '../infer/onnx-detector';
import { modelCacheDir } from '../app/data-dir';
import { initBackend, type BackendName } from '../model/backend';
import { loadModelFile } from '../model/checkpoint';
import { exportOnnx } from '../model/onnx';
import { ModelZoo, resolveModelArg } from '../model/zoo';
import { samplesFromYaml } from '../train/data/dataset';
import { BatchLoader } from '../train/data/loader';
import { V8DetectionLoss } from '../train/loss/detection-loss';
import { validate } from '../train/validator';
import type { ParsedArgs } from './args';
import { makeDirs } from '../util/make-dirs';
import { TerminalProgress } from './progress';

type Out = (line: string) => void;

function required(args: ParsedArgs, key: string, what: string): string {
  const v = args.options.get(key);
  if (!v) throw new AppError('INVALID_INPUT', `${key}= is required (${what})`);
  return v;
}

function int(args: ParsedArgs, key: string, fallback: number): number {
  const raw = args.options.get(key);
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new AppError('INVALID_INPUT', `${key} must be a positive integer, not "${raw}"`);
  return v;
}

function num(args: ParsedArgs, key: string, fallback: number): number {
  const raw = args.options.get(key);
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(v)) throw new AppError('INVALID_INPUT', `${key} must be a number, not "${raw}"`);
  return v;
}

/** `boxtune val model=best.safetensors data=data.yaml [imgsz=640] [batch=16] [split=val]` */
export async function runVal(args: ParsedArgs, out: Out): Promise<number> {
  const modelPath = await resolveCliModel(required(args, 'model', 'a .pt or boxtune checkpoint'));
  const data = required(args, 'data', 'a data.yaml');
  const split = (args.options.get('split') ?? 'val') as 'train' | 'val' | 'test';
  const backend = await initBackend((args.options.get('device') as BackendName | undefined) ?? undefined);
  const { model } = loadModelFile(modelPath);
  const { samples, names } = samplesFromYaml(path.resolve(data), split);
  if (names.length !== model.nc) throw new AppError('INVALID_INPUT', `the model has ${model.nc} classes but ${data} names ${names.length}`);
  const loader = new BatchLoader({ samples, imgsz: int(args, 'imgsz', 640), batchSize: int(args, 'batch', 16), mode: 'val', rect: true, interpolation: 'linear', workers: 1 });
  try {
    out(`val: ${samples.length} ${split} images, backend ${backend.name}`);
    const v = await validate(model, loader, V8DetectionLoss.fromModel(model));
    const m = v.metrics;
    out(`${'Class'.padEnd(22)}${'Images'.padStart(8)}${'Instances'.padStart(11)}${'P'.padStart(8)}${'R'.padStart(8)}${'mAP50'.padStart(8)}${'mAP50-95'.padStart(10)}`);
    out(`${'all'.padEnd(22)}${String(m.images).padStart(8)}${String(m.instances).padStart(11)}${m.precision.toFixed(3).padStart(8)}${m.recall.toFixed(3).padStart(8)}${m.mAP50.toFixed(3).padStart(8)}${m.mAP50_95.toFixed(3).padStart(10)}`);
    for (const c of m.perClass) {
      out(`${c.name.slice(0, 21).padEnd(22)}${String(c.images).padStart(8)}${String(c.instances).padStart(11)}${c.precision.toFixed(3).padStart(8)}${c.recall.toFixed(3).padStart(8)}${c.ap50.toFixed(3).padStart(8)}${c.ap50_95.toFixed(3).padStart(10)}`);
    }
    out(`${v.seconds.toFixed(1)} s`);
    return 0;
  } finally {
    await loader.close();
    model.dispose();
  }
}

/** `boxtune export model=best.safetensors format=onnx [imgsz=640]` -> best.onnx beside it. */
export async function runExportModel(args: ParsedArgs, out: Out): Promise<number> {
  const modelPath = await resolveCliModel(required(args, 'model', 'a .pt or boxtune checkpoint'));
  const format = args.options.get('format') ?? 'onnx';
  if (format !== 'onnx') throw new AppError('INVALID_INPUT', `format must be onnx (the only export format so far), not "${format}"`);
  await exportBeside(modelPath, args, out);
  return 0;
}

/** Exports a .pt / checkpoint to ONNX next to it; returns the .onnx path. */
async function exportBeside(modelPath: string, args: ParsedArgs, out: Out): Promise<string> {
  await initBackend((args.options.get('device') as BackendName | undefined) ?? undefined);
  const { model } = loadModelFile(modelPath);
  try {
    const target = modelPath.replace(/\.(pt|safetensors)$/i, '') + '.onnx';
    const res = await exportOnnx(model, { imgsz: int(args, 'imgsz', 640), path: target, source: path.basename(modelPath) });
    out(`exported ${res.path} (${(res.bytes / 1e6).toFixed(1)} MB, output0 [${res.outputShape.join(', ')}])`);
    return res.path;
  } finally {
    model.dispose();
  }
}

/** `model=` as Ultralytics reads it: a file, or an official model's name fetched into the cache. */
export async function resolveCliModel(arg: string): Promise<string> {
  const progress = new TerminalProgress();
  try {
    return await resolveModelArg(arg, new ModelZoo(modelCacheDir()), {
      log: (line) => process.stderr.write(`${line}\n`),
      onProgress: ({ received, total }) => progress.update('downloading kB', Math.round(received / 1e3), Math.round((total ?? 0) / 1e3)),
    });
  } finally {
    progress.end();
  }
}

/**
 * `boxtune predict model=best.onnx source=img.jpg|folder [conf=0.25] [iou=0.7] [imgsz=640]`:
 * runs in onnxruntime (a .pt or checkpoint is exported to ONNX first, next to it) and writes
 * YOLO label files with confidences to <project>/runs/predict/labels/.
 */
export async function runPredict(args: ParsedArgs, out: Out): Promise<number> {
  let modelPath = await resolveCliModel(required(args, 'model', 'a .onnx, .pt or boxtune checkpoint'));
  const source = path.resolve(required(args, 'source', 'an image or a folder of images'));
  if (!/\.onnx$/i.test(modelPath)) modelPath = await exportBeside(modelPath, args, out);
  const images = fs.statSync(source).isDirectory()
    ? fs.readdirSync(source).filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase() as never)).sort().map((f) => path.join(source, f))
    : [source];
  const outDir = path.resolve(args.options.get('project') ?? 'runs/predict', 'labels');
  makeDirs(outDir);
  const detector = await OnnxDetector.load(modelPath);
  try {
    const conf = num(args, 'conf', 0.25);
    const iou = num(args, 'iou', 0.7);
    for (const file of images) {
      const t0 = performance.now();
      const dets = await detector.detect(file, { conf, iou });
      const probe = probeImage(file);
      if (!probe.ok) throw new AppError('FILE_UNREADABLE', `${file}: ${probe.reason}`);
      const { width, height } = probe.probe;
      const lines = dets.map((d) => `${d.classId} ${((d.x + d.w / 2) / width).toFixed(6)} ${((d.y + d.h / 2) / height).toFixed(6)} ${(d.w / width).toFixed(6)} ${(d.h / height).toFixed(6)} ${d.score.toFixed(4)}`);
      fs.writeFileSync(path.join(outDir, `${path.parse(file).name}.txt`), lines.join('\n') + (lines.length ? '\n' : ''));
      const counts = new Map<string, number>();
      for (const d of dets) counts.set(detector.names[d.classId] ?? String(d.classId), (counts.get(detector.names[d.classId] ?? String(d.classId)) ?? 0) + 1);
      out(`${path.basename(file)}: ${[...counts].map(([n, c]) => `${c} ${n}`).join(', ') || '(no detections)'}, ${(performance.now() - t0).toFixed(0)} ms`);
    }
    out(`labels written to ${outDir}`);
    return 0;
  } finally {
    await detector.dispose();
  }
}
