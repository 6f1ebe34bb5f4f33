/**
 * @file The training part of `npm run bench`: images/s of a yolo11n training step at imgsz 320,
 * batch 4 (train-mode forward + v8DetectionLoss + backward + AdamW step), on each tfjs backend
 * that can train here, beside Ultralytics' 8.5 img/s (0.47 s per 4-image step, PyTorch CPU, one
 * thread) on the same machine class. The batch is coco8's 4 train images, letterboxed by the
 * real loader with mosaic on; the loader's own throughput is reported as well.
 * Ratio = reference time / our time per image is printed as ours / target in seconds per image.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../src/main/model/backend';
import { registerGradients } from '../src/main/model/gradients';
import { readPtFile } from '../src/main/model/pt/pt-reader';
import { YoloModel } from '../src/main/model/yolo';
import { samplesFromYaml } from '../src/main/train/data/dataset';
import { BatchLoader, type Batch } from '../src/main/train/data/loader';
import { V8DetectionLoss } from '../src/main/train/loss/detection-loss';
import { GroupedOptimizer } from '../src/main/train/optimizer';
import { percentile, type Figure, type Log, type PartResult } from './types';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHARED = path.resolve(here, '..', '..', 'shared');
/** Ultralytics 8.3, PyTorch CPU, 1 thread: 0.47 s per 4-image step at 320 (DESIGN.md). */
const REFERENCE_SEC_PER_IMAGE = 0.47 / 4;

export async function runTrainBench(opts: { log: Log; steps?: number }): Promise<PartResult> {
  const steps = opts.steps ?? 5;
  await registerGradients();
  const figures: Figure[] = [];
  const info: Record<string, unknown> = {};

  const data = samplesFromYaml(path.join(SHARED, 'data/coco8/coco8.yaml'), 'train');
  const loader = new BatchLoader({ samples: data.samples, imgsz: 320, batchSize: 4, epochs: 100, seed: 0, workers: 1 });
  const batches: Batch[] = [];
  const t0 = performance.now();
  for (let e = 0; e < steps + 1; e++) for await (const b of loader.epoch(e)) batches.push(b);
  const loaderSec = (performance.now() - t0) / 1000;
  await loader.close();
  const loaderRate = (batches.length * 4) / loaderSec;
  opts.log(`train: loader ${loaderRate.toFixed(1)} img/s (mosaic, 320, 1 worker)`);
  info.loaderImagesPerSec = loaderRate;

  const pt = readPtFile(path.join(SHARED, 'models/yolo11n-coco.pt'));
  for (const backend of ['tensorflow-gpu', 'tensorflow', 'wasm'] as BackendName[]) {
    const choice = await initBackend(backend).catch(() => null);
    if (!choice || choice.name !== backend) {
      opts.log(`train: ${backend} not available here`);
      continue;
    }
    const model = YoloModel.fromCheckpoint(pt);
    const loss = V8DetectionLoss.fromModel(model);
    const params = model.params().filter((p) => !p.name.includes('.dfl'));
    const opt = new GroupedOptimizer(params, { name: 'AdamW', lr: 0.001, momentum: 0.9, weightDecay: 0.0005 });
    const vars = params.map((p) => p.variable);
    const byVar = new Map(params.map((p) => [p.variable.name, p.name]));
    const times: number[] = [];
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      const start = performance.now();
      const x = tf.tensor4d(b.images, [b.count, b.height, b.width, 3]);
      const { value, grads } = tf.variableGrads(
        () => loss.compute(model.forward(x, { training: true }), { batchIdx: b.batchIdx, cls: b.cls, bboxes: b.boxes }, { imgsz: [b.height, b.width] }).total,
        vars,
      );
      opt.step(new Map(Object.entries(grads).map(([k, g]) => [byVar.get(k) ?? k, g])));
      value.dispose();
      x.dispose();
      tf.dispose(Object.values(grads));
      if (i > 0) times.push((performance.now() - start) / 1000); // the first step warms up kernels
    }
    const median = percentile(times, 50);
    const perImage = median / 4;
    opts.log(`train: ${backend} step ${median.toFixed(2)} s per 4 images = ${(4 / median).toFixed(2)} img/s (Ultralytics 8.5 img/s)`);
    figures.push({ name: `train step yolo11n 320 b4, ${backend}, s/image (ref 0.1175 = 8.5 img/s)`, measured: perImage, unit: 's', target: REFERENCE_SEC_PER_IMAGE });
    info[`${backend}ImagesPerSec`] = 4 / median;
    info[`${backend}StepSeconds`] = times;
    opt.dispose();
    model.dispose();
  }
  figures.push({ name: 'train loader, mosaic 320, 1 worker, s/image', measured: 1 / loaderRate, unit: 's', target: REFERENCE_SEC_PER_IMAGE });
  return { part: 'train', figures, info };
}
