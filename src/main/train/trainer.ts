/**
 * @file The fine-tuning loop, Ultralytics' BaseTrainer in TypeScript: warmup and schedule per
 * iteration, gradient accumulation to the nominal batch (64), grad-norm clip 10, optimizer step,
 * EMA; per epoch: validation with the EMA weights, results row, best/last checkpoints, early stop.
 * A run killed at any point resumes from its last checkpoint (the end of its last whole epoch):
 * every file is replaced atomically, the resume pair first; the files derived from it (last, best,
 * results.csv) are checked and rewritten from it when a resume finds them behind.
 * Runs wherever tfjs is owned: the training worker, the CLI, tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AppError } from '../../shared/errors';
import { initBackend, type BackendChoice, type BackendName } from '../model/backend';
import { decodeCheckpoint, encodeCheckpoint, loadModelFile, modelFromCheckpoint, type CheckpointInfo } from '../model/checkpoint';
import { registerGradients } from '../model/gradients';
import type { YoloModel } from '../model/yolo';
import { LabelStore } from '../store/label-store';
import { removeStaleTemps, writeFileAtomic } from '../util/atomic-write';
import type { TrainArgs } from './args';
import { instancesPerClass, samplesFromStore, samplesFromYaml, type TrainData } from './data/dataset';
import { BatchLoader } from './data/loader';
import { ModelEma } from './ema';
import { V8DetectionLoss } from './loss/detection-loss';
import { clipGradNorm, GroupedOptimizer } from './optimizer';
import { autoIterations, chooseOptimizer, type OptimizerChoice } from '../../shared/training';
import { applyLearningRates, batchScaling, warmupIterations } from './schedule';
import { loadTrainState, MODEL_FILE, restorePairedWeights, saveTrainState, type EpochRow, type TrainState } from './train-state';
import { acquireRunLock } from './run-lock';
import { validate } from './validator';
import { batchGradients, maxImagesPerPass } from './micro-batch';

export type { EpochRow } from './train-state';

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

export interface TrainOptions {
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
}

const GRAD_CLIP = 10;

/** Where a run writes: <project>/runs/<name>/ with weights/, results.csv, args.json. */
export function runDirectory(args: TrainArgs): string {
  const base = path.resolve(args.project ?? (isProjectDir(args.data) ? path.join(args.data, 'runs') : 'runs/train'));
  if (args.name) return path.join(base, args.name);
  for (let i = 1; ; i++) {
    const dir = path.join(base, i === 1 ? 'train' : `train${i}`);
    if (!fs.existsSync(dir)) return dir;
  }
}

function isProjectDir(p: string): boolean {
  return fs.existsSync(p) && fs.statSync(p).isDirectory() && LabelStore.isProject(p);
}

/** Train and val samples from a data.yaml or a project's splits (class order = the project's list). */
function loadData(data: string): { train: TrainData; val: TrainData } {
  if (isProjectDir(data)) {
    const store = LabelStore.open(data);
    try {
      return { train: samplesFromStore(store, 'train'), val: samplesFromStore(store, 'val') };
    } finally {
      store.close();
    }
  }
  return { train: samplesFromYaml(data, 'train'), val: samplesFromYaml(data, 'val') };
}

export async function train(args: TrainArgs, opts: TrainOptions = {}): Promise<{ runDir: string; rows: EpochRow[] }> {
  const emit = opts.onEvent ?? (() => {});
  const backend = await initBackend(args.device === 'auto' ? undefined : (args.device as BackendName));
  await registerGradients();

  const runDir = args.resume && args.name === undefined && fs.existsSync(path.join(args.model, '..', '..', 'args.json'))
    ? path.resolve(args.model, '..', '..')
    : runDirectory(args);
  fs.mkdirSync(path.join(runDir, 'weights'), { recursive: true });
  const release = acquireRunLock(runDir);
  try {
    return await trainInRunDir(args, runDir, backend, emit, opts);
  } finally {
    release();
  }
}

/** The run itself, once its folder is locked to this process. */
async function trainInRunDir(
  args: TrainArgs,
  runDir: string,
  backend: BackendChoice,
  emit: (e: TrainEvent) => void,
  opts: TrainOptions,
): Promise<{ runDir: string; rows: EpochRow[] }> {
  const weightsDir = path.join(runDir, 'weights');
  // What a killed writer left half-made; the files it was replacing are whole.
  removeStaleTemps(weightsDir);
  removeStaleTemps(runDir);

  const { train: trainData, val: valData } = loadData(args.data);
  if (trainData.samples.length === 0) throw new AppError('INVALID_INPUT', `no training images in ${args.data}`);
  const names = trainData.names;
  const nc = names.length;

  // Model: the checkpoint's weights; a new class head when the class count differs (as Ultralytics).
  const resumeState = args.resume ? loadTrainState(weightsDir) : null;
  if (resumeState) restorePairedWeights(weightsDir, resumeState);
  // Resume builds from the weights the state was checked against, not from a second read.
  const loadStart = (): YoloModel => (resumeState ? modelFromCheckpoint(resumeState.modelBytes, MODEL_FILE).model : loadModelFile(args.model).model);
  const model = loadStart();
  if (model.nc !== nc) model.resetClassHead(nc, names, { seed: args.seed });
  else model.names = [...names];
  model.frozenLayers = args.freeze;
  const evalModel = loadStart();
  if (evalModel.nc !== nc) evalModel.resetClassHead(nc, names, { seed: args.seed });
  evalModel.names = [...names];

  const frozen = [...Array.from({ length: args.freeze }, (_, i) => `model.${i}.`), '.dfl'];
  const trainable = model.params().filter((p) => !frozen.some((f) => p.name.includes(f)));
  const trainableVars = trainable.map((p) => p.variable);
  // Frozen weights are constants to the tape, so their layers keep the cached BN-folded kernels.
  const nameOf = new Map(trainable.map((p) => [p.variable.name, p.name]));
  for (const p of model.params()) if (!nameOf.has(p.variable.name)) p.variable.trainable = false;

  const batch = Math.min(args.batch, trainData.samples.length);
  const { weightDecay } = batchScaling(batch, args.weight_decay, args.nbs);
  const choice = chooseOptimizer(args.optimizer, {
    lr0: args.lr0,
    momentum: args.momentum,
    warmupBiasLr: args.warmup_bias_lr,
    nc,
    iterations: autoIterations(trainData.samples.length, batch, args.epochs, args.nbs),
  });
  const optimizer = new GroupedOptimizer(trainable, { name: choice.name, lr: choice.lr, momentum: choice.momentum, weightDecay });
  const emaEntries = model.entries().filter((e) => e.dtype === 'float32' && e.role !== 'fixed').map((e) => ({ name: e.name, variable: e.variable }));
  const ema = new ModelEma(emaEntries);
  const loss = V8DetectionLoss.fromModel(model, { box: args.box, cls: args.cls, dfl: args.dfl });

  let startEpoch = 0;
  let bestFitness = -Infinity;
  const rows: EpochRow[] = [];
  if (resumeState) {
    optimizer.setState(resumeState.optimizer);
    ema.load(resumeState.ema, resumeState.emaUpdates);
    startEpoch = resumeState.epoch + 1;
    bestFitness = resumeState.bestFitness;
    rows.push(...resumeState.rows);
  }
  if (startEpoch >= args.epochs) {
    throw new AppError('CONFLICT', `this run already finished ${startEpoch} epochs; ask for more epochs to extend it (epochs=${startEpoch + 10})`);
  }
  // The wasm heap holds ~2 GiB: bigger batches run as several passes with the same gradients.
  const perPass = maxImagesPerPass(backend.name, args.imgsz, args.imgsz);
  writeFileAtomic(path.join(runDir, 'args.json'), JSON.stringify({ ...args, effective: { optimizer: choice, weightDecay, batch, imagesPerPass: Math.min(batch, perPass), backend: backend.name } }, null, 2));

  const hyp = {
    hsv_h: args.hsv_h, hsv_s: args.hsv_s, hsv_v: args.hsv_v, degrees: args.degrees, translate: args.translate,
    scale: args.scale, shear: args.shear, perspective: args.perspective, flipud: args.flipud, fliplr: args.fliplr,
    mosaic: args.mosaic, mixup: args.mixup, close_mosaic: args.close_mosaic,
  };
  const trainLoader = new BatchLoader({ samples: trainData.samples, imgsz: args.imgsz, batchSize: batch, epochs: args.epochs, seed: args.seed, hyp, workers: args.workers, cache: args.cache });
  const valLoader = new BatchLoader({ samples: valData.samples, imgsz: args.imgsz, batchSize: batch * 2, mode: 'val', rect: true, workers: args.workers, interpolation: 'linear' });
  const warnings = [...trainData.warnings, ...valData.warnings];
  if (!resumeState && model.hasFoldedBatchNorm()) {
    warnings.push(`${path.basename(args.model)} has its BatchNorm folded into the convolutions (an inference export): training normalises with batch statistics from the first step, so validation metrics dip at first and recover as the running statistics catch up over the epochs (Ultralytics behaves the same with this file)`);
  }
  if (perPass < batch) {
    warnings.push(`batch ${batch} at imgsz ${args.imgsz} runs as ${Math.ceil(batch / perPass)} passes of at most ${perPass} images on ${backend.name} (its memory holds ~2 GiB); gradients are the same, BatchNorm sees the smaller groups`);
  }
  if (valData.samples.length === 0) warnings.push('there are no val images: metrics stay 0 and best.safetensors is just the first epoch');
  if (resumeState) {
    if (resumeState.recovered) warnings.push(resumeState.recovered);
    warnings.push(...repairDerivedFiles(resumeState, { runDir, weightsDir, args, ema, evalModel }));
  }
  emit({ type: 'start', runDir, backend, optimizer: choice, trainImages: trainData.samples.length, valImages: valData.samples.length, names, startEpoch, epochs: args.epochs, warnings });

  const nb = trainLoader.batchesPerEpoch;
  const nw = warmupIterations(nb, args.warmup_epochs);
  const sched = { epochs: args.epochs, lrf: args.lrf, cosLr: args.cos_lr };
  const warm = { warmupBiasLr: choice.warmupBiasLr, warmupMomentum: args.warmup_momentum, momentum: choice.momentum, nbs: args.nbs, batch };
  let lastOptStep = -1;
  let accum: Map<string, tf.Tensor> | null = null;
  let stoppedEarly = false;
  let epochsWithoutImprovement = 0;
  const started = performance.now();
  let imagesDone = 0;
  let lastPerClass: PerClassAp[] = [];

  try {
    for (let epoch = startEpoch; epoch < args.epochs; epoch++) {
      if (opts.signal?.aborted) throw new AppError('JOB_CANCELLED', 'training stopped');
      model.train();
      const epochStart = performance.now();
      const tloss: [number, number, number] = [0, 0, 0];
      let i = 0;
      for await (const b of trainLoader.epoch(epoch)) {
        if (opts.signal?.aborted) throw new AppError('JOB_CANCELLED', 'training stopped');
        const ni = i + nb * epoch;
        const accumulate = applyLearningRates(optimizer.groups, optimizer, ni, nw, epoch, sched, warm);
        const { grads, items } = batchGradients(model, loss, b, trainableVars, nameOf, perPass);
        accum = addGrads(accum, grads);
        items.forEach((v, k) => (tloss[k] = (tloss[k]! * i + v) / (i + 1)));
        if (ni - lastOptStep >= accumulate) {
          const { grads: use } = clipGradNorm(accum, GRAD_CLIP);
          optimizer.step(use);
          ema.update(emaEntries);
          for (const [k, t] of use) if (t !== accum.get(k)) t.dispose();
          tf.dispose([...accum.values()]);
          accum = null;
          lastOptStep = ni;
        }
        i++;
        imagesDone += b.count;
        const elapsed = (performance.now() - started) / 1000;
        const rate = imagesDone / Math.max(elapsed, 1e-3);
        const remainingImages = (args.epochs - epoch - 1) * trainData.samples.length + (nb - i) * batch;
        emit({
          type: 'batch', epoch: epoch + 1, epochs: args.epochs, batch: i, batches: nb, losses: [...tloss],
          lr: optimizer.groups.map((g) => g.lr) as [number, number, number], imagesPerSec: rate,
          etaSec: rate > 0 ? remainingImages / rate : null, instances: b.cls.length,
        });
      }

      // Validate the EMA weights, as Ultralytics does.
      ema.copyTo(evalModel.entries().map((e) => ({ name: e.name, variable: e.variable })));
      evalModel.releaseCaches();
      const final = epoch === args.epochs - 1;
      let metricsRow: Pick<EpochRow, 'precision' | 'recall' | 'mAP50' | 'mAP50_95' | 'fitness' | 'valLosses'> = {
        precision: 0, recall: 0, mAP50: 0, mAP50_95: 0, fitness: 0, valLosses: [0, 0, 0],
      };
      if ((args.val || final) && valData.samples.length > 0) {
        const v = await validate(evalModel, valLoader, loss, {
          ...(opts.signal ? { signal: opts.signal } : {}),
          onBatch: (done, total) => emit({ type: 'validating', epoch: epoch + 1, done, total }),
        });
        const m = v.metrics;
        metricsRow = { precision: m.precision, recall: m.recall, mAP50: m.mAP50, mAP50_95: m.mAP50_95, fitness: m.fitness, valLosses: v.losses };
        const counts = instancesPerClass(valData.samples, nc);
        lastPerClass = m.perClass.map((c) => ({ name: names[c.classId] ?? String(c.classId), images: c.images, instances: counts[c.classId] ?? c.instances, ap50: c.ap50, ap50_95: c.ap50_95 }));
      }
      const row: EpochRow = {
        epoch: epoch + 1,
        time: (performance.now() - epochStart) / 1000,
        trainLosses: [...tloss],
        ...metricsRow,
        lr: optimizer.groups.map((g) => g.lr) as [number, number, number],
      };
      rows.push(row);
      const isBest = row.fitness > bestFitness;
      if (isBest) {
        bestFitness = row.fitness;
        epochsWithoutImprovement = 0;
      } else epochsWithoutImprovement++;

      // The state to resume first: once it is in place the epoch counts as saved. Then the EMA
      // weights as the model (what validation measured), each file replaced atomically.
      saveTrainState(weightsDir, { model, optimizer, ema, epoch, bestFitness, rows });
      const weights = encodeCheckpoint(evalModel, epochInfo(args, row));
      writeFileAtomic(path.join(weightsDir, 'last.safetensors'), weights);
      if (isBest) writeFileAtomic(path.join(weightsDir, 'best.safetensors'), weights);
      writeResultsCsv(path.join(runDir, 'results.csv'), rows);
      emit({ type: 'epoch', row, best: isBest, perClass: lastPerClass });
      if (opts.signal?.aborted) throw new AppError('JOB_CANCELLED', 'training stopped');

      if (epochsWithoutImprovement >= args.patience) {
        stoppedEarly = true;
        break;
      }
    }
    emit({
      type: 'done', runDir, best: path.join(weightsDir, 'best.safetensors'), last: path.join(weightsDir, 'last.safetensors'),
      rows, stoppedEarly, perClass: lastPerClass,
    });
    return { runDir, rows };
  } finally {
    if (accum) tf.dispose([...accum.values()]);
    await trainLoader.close();
    await valLoader.close();
    optimizer.dispose();
    ema.dispose();
    model.dispose();
    evalModel.dispose();
  }
}

/** Sums gradients over the batches of one accumulation window, keyed by parameter name. */
function addGrads(acc: Map<string, tf.Tensor> | null, grads: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
  if (!acc) return grads;
  for (const [name, g] of grads) {
    const prev = acc.get(name);
    if (prev) {
      acc.set(name, tf.add(prev, g));
      prev.dispose();
      g.dispose();
    } else acc.set(name, g);
  }
  return acc;
}

/** What last/best.safetensors say about the epoch that made them. */
function epochInfo(args: TrainArgs, row: EpochRow): CheckpointInfo {
  return { imgsz: args.imgsz, trainArgs: { ...args }, metrics: { mAP50: row.mAP50, mAP50_95: row.mAP50_95, fitness: row.fitness, epoch: row.epoch }, source: path.basename(args.model) };
}

/** The epoch of a weights file, or null when it is missing or not whole. */
function savedEpoch(file: string): number | null {
  try {
    return decodeCheckpoint(fs.readFileSync(file), path.basename(file)).meta.metrics?.epoch ?? null;
  } catch {
    return null;
  }
}

/**
 * A kill after the resume state was saved but before the files derived from it leaves those
 * behind: results.csv is rewritten from the state's table, and last/best.safetensors from its EMA
 * when they belong to its last epoch but are older, missing or not whole. Returns what it did.
 */
function repairDerivedFiles(
  state: TrainState,
  run: { runDir: string; weightsDir: string; args: TrainArgs; ema: ModelEma; evalModel: YoloModel },
): string[] {
  writeResultsCsv(path.join(run.runDir, 'results.csv'), state.rows);
  const last = state.rows.at(-1);
  if (!last) return [];
  // The best epoch is the first with the highest fitness (a later tie does not replace it).
  const best = state.rows.reduce((b, r) => (r.fitness > b.fitness ? r : b));
  const stale = (['last.safetensors', 'best.safetensors'] as const).filter(
    (name) => (name === 'last.safetensors' || best === last) && savedEpoch(path.join(run.weightsDir, name)) !== last.epoch,
  );
  if (stale.length === 0) return [];
  run.ema.copyTo(run.evalModel.entries().map((e) => ({ name: e.name, variable: e.variable })));
  run.evalModel.releaseCaches();
  const weights = encodeCheckpoint(run.evalModel, epochInfo(run.args, last));
  for (const name of stale) writeFileAtomic(path.join(run.weightsDir, name), weights);
  const was = stale.length === 1 ? 'was' : 'were';
  return [`${stale.join(' and ')} ${was} behind epoch ${last.epoch}, the last one saved (the run was killed while saving), and ${was} rewritten from it`];
}

/** results.csv with Ultralytics' column names, so their plotting tools read it. */
export function writeResultsCsv(file: string, rows: readonly EpochRow[]): void {
  const header = [
    'epoch', 'time', 'train/box_loss', 'train/cls_loss', 'train/dfl_loss', 'metrics/precision(B)', 'metrics/recall(B)',
    'metrics/mAP50(B)', 'metrics/mAP50-95(B)', 'val/box_loss', 'val/cls_loss', 'val/dfl_loss', 'lr/pg0', 'lr/pg1', 'lr/pg2',
  ];
  const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(6));
  const lines = rows.map((r) =>
    [r.epoch, r.time, ...r.trainLosses, r.precision, r.recall, r.mAP50, r.mAP50_95, ...r.valLosses, ...r.lr].map(fmt).join(','),
  );
  writeFileAtomic(file, `${[header.join(','), ...lines].join('\n')}\n`);
}
