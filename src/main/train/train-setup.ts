/**
 * @file Setting up a run (Ultralytics' _setup_train): the backend, the run folder and its lock,
 * the data, the model (its file read once), the optimizer, EMA, loss, loaders and schedule, and
 * what a resume carries over. Ends with the start event; the epochs run in train-session.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import { autoIterations, chooseOptimizer, type OptimizerChoice } from '../../shared/training';
import { initBackend, type BackendChoice, type BackendName } from '../model/backend';
import { loadModelFile, modelFromCheckpoint } from '../model/checkpoint';
import { registerGradients } from '../model/gradients';
import { YoloModel, type NamedParam } from '../model/yolo';
import { LabelStore } from '../store/label-store';
import { removeStaleTemps, writeFileAtomic } from '../util/atomic-write';
import type { TrainArgs } from './args';
import { samplesFromStore, samplesFromYaml, type TrainData } from './data/dataset';
import { BatchLoader } from './data/loader';
import { ModelEma } from './ema';
import { V8DetectionLoss } from './loss/detection-loss';
import { maxImagesPerPass } from './micro-batch';
import { GroupedOptimizer } from './optimizer';
import { repairDerivedFiles } from './run-files';
import { acquireRunLock } from './run-lock';
import { batchScaling, warmupIterations } from './schedule';
import type { TrainEvent } from './train-events';
import { TrainSession, type TrainParts } from './train-session';
import { loadTrainState, MODEL_FILE, restorePairedWeights, type TrainState } from './train-state';

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

/** What to free, in reverse order, when setup fails halfway. */
type Undo = (() => unknown)[];

/**
 * Everything a run needs, its folder locked to this process, the start event sent. On failure
 * what was built is freed and the folder released.
 */
export async function setupTraining(args: TrainArgs, emit: (e: TrainEvent) => void, signal?: AbortSignal): Promise<TrainSession> {
  const backend = await initBackend(args.device === 'auto' ? undefined : (args.device as BackendName));
  await registerGradients();
  const { runDir, weightsDir, release } = lockRunDirectory(args);
  const undo: Undo = [release];
  try {
    const { trainData, valData, names, resumeState } = loadRunData(args, weightsDir);
    const { model, evalModel } = loadModels(args, names, resumeState);
    undo.push(() => model.dispose(), () => evalModel.dispose());
    const { trainable, nameOf } = trainableParams(model, args.freeze);
    const batch = Math.min(args.batch, trainData.samples.length);
    const { choice, weightDecay, optimizer, ema, emaEntries } = makeOptimizer(args, model, trainable, batch, trainData.samples.length, undo);
    const loss = V8DetectionLoss.fromModel(model, { box: args.box, cls: args.cls, dfl: args.dfl });
    const resumed = resumeInto(resumeState, optimizer, ema, args.epochs);
    // The wasm heap holds ~2 GiB: bigger batches run as several passes with the same gradients.
    const perPass = maxImagesPerPass(backend.name, args.imgsz, args.imgsz);
    writeFileAtomic(path.join(runDir, 'args.json'), JSON.stringify({ ...args, effective: { optimizer: choice, weightDecay, batch, imagesPerPass: Math.min(batch, perPass), backend: backend.name } }, null, 2));

    const { trainLoader, valLoader } = makeLoaders(args, trainData, valData, batch);
    undo.push(() => trainLoader.close(), () => valLoader.close());
    const warnings = [...trainData.warnings, ...valData.warnings, ...setupWarnings({ args, backend, model, batch, perPass, valData, resumeState })];
    if (resumeState) warnings.push(...repairDerivedFiles(resumeState, { runDir, weightsDir, args, ema, evalModel }));
    emit({ type: 'start', runDir, backend, optimizer: choice, trainImages: trainData.samples.length, valImages: valData.samples.length, names, startEpoch: resumed.startEpoch, epochs: args.epochs, warnings });

    return new TrainSession({
      args, runDir, weightsDir, emit, signal, trainData, valData, names, model, evalModel, trainableVars: trainable.map((p) => p.variable), nameOf,
      optimizer, ema, emaEntries, loss, batch, perPass, trainLoader, valLoader, release, ...resumed,
      schedule: trainSchedule(args, choice, batch, trainLoader.batchesPerEpoch),
    });
  } catch (err) {
    for (const u of undo.reverse()) await u();
    throw err;
  }
}

/**
 * The run's folder, locked to this process, without the temp files a killed writer left (the
 * files it was replacing are whole). Resuming from <run>/weights/<file> without a name continues
 * that run, in its folder.
 */
function lockRunDirectory(args: TrainArgs): { runDir: string; weightsDir: string; release: () => void } {
  const runDir = args.resume && args.name === undefined && fs.existsSync(path.join(args.model, '..', '..', 'args.json'))
    ? path.resolve(args.model, '..', '..')
    : runDirectory(args);
  const weightsDir = path.join(runDir, 'weights');
  fs.mkdirSync(weightsDir, { recursive: true });
  const release = acquireRunLock(runDir);
  try {
    removeStaleTemps(weightsDir);
    removeStaleTemps(runDir);
  } catch (err) {
    release();
    throw err;
  }
  return { runDir, weightsDir, release };
}

/** The samples, the class list, and the state to resume (its weights put back in place). */
function loadRunData(args: TrainArgs, weightsDir: string): { trainData: TrainData; valData: TrainData; names: string[]; resumeState: TrainState | null } {
  const { train: trainData, val: valData } = loadData(args.data);
  if (trainData.samples.length === 0) throw new AppError('INVALID_INPUT', `no training images in ${args.data}`);
  const resumeState = args.resume ? loadTrainState(weightsDir) : null;
  if (resumeState) restorePairedWeights(weightsDir, resumeState);
  return { trainData, valData, names: trainData.names, resumeState };
}

/** The optimizer `optimizer=` picks (weight decay scaled to the batch) and the EMA of the model. */
function makeOptimizer(args: TrainArgs, model: YoloModel, trainable: NamedParam[], batch: number, trainImages: number, undo: Undo) {
  const { weightDecay } = batchScaling(batch, args.weight_decay, args.nbs);
  const choice = chooseOptimizer(args.optimizer, {
    lr0: args.lr0,
    momentum: args.momentum,
    warmupBiasLr: args.warmup_bias_lr,
    nc: model.nc,
    iterations: autoIterations(trainImages, batch, args.epochs, args.nbs),
  });
  const optimizer = new GroupedOptimizer(trainable, { name: choice.name, lr: choice.lr, momentum: choice.momentum, weightDecay });
  undo.push(() => optimizer.dispose());
  const emaEntries = model.entries().filter((e) => e.dtype === 'float32' && e.role !== 'fixed').map((e) => ({ name: e.name, variable: e.variable }));
  const ema = new ModelEma(emaEntries);
  undo.push(() => ema.dispose());
  return { choice, weightDecay, optimizer, ema, emaEntries };
}

/** What a resumed run carries over (optimizer moments, EMA, table, best fitness); where it starts. */
function resumeInto(state: TrainState | null, optimizer: GroupedOptimizer, ema: ModelEma, epochs: number): Pick<TrainParts, 'startEpoch' | 'bestFitness' | 'rows'> {
  if (!state) return { startEpoch: 0, bestFitness: -Infinity, rows: [] };
  optimizer.setState(state.optimizer);
  ema.load(state.ema, state.emaUpdates);
  const startEpoch = state.epoch + 1;
  if (startEpoch >= epochs) {
    throw new AppError('CONFLICT', `this run already finished ${startEpoch} epochs; ask for more epochs to extend it (epochs=${startEpoch + 10})`);
  }
  return { startEpoch, bestFitness: state.bestFitness, rows: [...state.rows] };
}

/**
 * The model to train and the one that holds the EMA for validation, from one read of the start
 * weights (the resumed state's, already read and checked, or args.model): a new class head when
 * the class count differs (as Ultralytics), the eval model a copy of the trained one.
 */
function loadModels(args: TrainArgs, names: string[], resumeState: TrainState | null): { model: YoloModel; evalModel: YoloModel } {
  const model = resumeState ? modelFromCheckpoint(resumeState.modelBytes, MODEL_FILE).model : loadModelFile(args.model).model;
  try {
    if (model.nc !== names.length) model.resetClassHead(names.length, names, { seed: args.seed });
    else model.names = [...names];
    model.frozenLayers = args.freeze;
    const evalModel = YoloModel.fromStateDict(model.yaml, [...names], model.stateDict(), model.batchNormOverrides());
    return { model, evalModel };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * The parameters the optimizer updates: all but the first `freeze` modules and the DFL's fixed
 * projection. The frozen ones are constants to the tape, so their layers keep the cached
 * BN-folded kernels.
 */
function trainableParams(model: YoloModel, freeze: number): { trainable: NamedParam[]; nameOf: Map<string, string> } {
  const frozen = [...Array.from({ length: freeze }, (_, i) => `model.${i}.`), '.dfl'];
  const trainable = model.params().filter((p) => !frozen.some((f) => p.name.includes(f)));
  const nameOf = new Map(trainable.map((p) => [p.variable.name, p.name]));
  for (const p of model.params()) if (!nameOf.has(p.variable.name)) p.variable.trainable = false;
  return { trainable, nameOf };
}

function makeLoaders(args: TrainArgs, trainData: TrainData, valData: TrainData, batch: number): { trainLoader: BatchLoader; valLoader: BatchLoader } {
  const hyp = {
    hsv_h: args.hsv_h, hsv_s: args.hsv_s, hsv_v: args.hsv_v, degrees: args.degrees, translate: args.translate,
    scale: args.scale, shear: args.shear, perspective: args.perspective, flipud: args.flipud, fliplr: args.fliplr,
    mosaic: args.mosaic, mixup: args.mixup, close_mosaic: args.close_mosaic,
  };
  const trainLoader = new BatchLoader({ samples: trainData.samples, imgsz: args.imgsz, batchSize: batch, epochs: args.epochs, seed: args.seed, hyp, workers: args.workers, cache: args.cache });
  const valLoader = new BatchLoader({ samples: valData.samples, imgsz: args.imgsz, batchSize: batch * 2, mode: 'val', rect: true, workers: args.workers, interpolation: 'linear' });
  return { trainLoader, valLoader };
}

/** What the user should know about this setup before the first epoch. */
function setupWarnings(s: {
  args: TrainArgs;
  backend: BackendChoice;
  model: YoloModel;
  batch: number;
  perPass: number;
  valData: TrainData;
  resumeState: TrainState | null;
}): string[] {
  const { args, batch, perPass } = s;
  const warnings: string[] = [];
  if (!s.resumeState && s.model.hasFoldedBatchNorm()) {
    warnings.push(`${path.basename(args.model)} has its BatchNorm folded into the convolutions (an inference export): training normalises with batch statistics from the first step, so validation metrics dip at first and recover as the running statistics catch up over the epochs (Ultralytics behaves the same with this file)`);
  }
  if (perPass < batch) {
    warnings.push(`batch ${batch} at imgsz ${args.imgsz} runs as ${Math.ceil(batch / perPass)} passes of at most ${perPass} images on ${s.backend.name} (its memory holds ~2 GiB); gradients are the same, BatchNorm sees the smaller groups`);
  }
  if (s.valData.samples.length === 0) warnings.push('there are no val images: metrics stay 0 and best.safetensors is just the first epoch');
  if (s.resumeState?.recovered) warnings.push(s.resumeState.recovered);
  return warnings;
}

/** Warmup length and the schedule/warmup settings applyLearningRates takes each iteration. */
function trainSchedule(args: TrainArgs, choice: OptimizerChoice, batch: number, nb: number): TrainParts['schedule'] {
  return {
    nb,
    nw: warmupIterations(nb, args.warmup_epochs),
    sched: { epochs: args.epochs, lrf: args.lrf, cosLr: args.cos_lr },
    warm: { warmupBiasLr: choice.warmupBiasLr, warmupMomentum: args.warmup_momentum, momentum: choice.momentum, nbs: args.nbs, batch },
  };
}
