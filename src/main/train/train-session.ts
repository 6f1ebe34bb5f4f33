/**
 * @file One run once it is set up (train-setup.ts), in the phases Ultralytics' BaseTrainer has:
 * train epoch (warmup and schedule per iteration, gradient accumulation to the nominal batch,
 * grad-norm clip 10, optimizer step, EMA), validate (the EMA weights), the epoch's row and best
 * fitness, save (run-files.ts), end of epoch (results.csv, the epoch event, early stop).
 * trainer.ts runs them in a loop.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AppError } from '../../shared/errors';
import type { YoloModel } from '../model/yolo';
import type { TrainArgs } from './args';
import { instancesPerClass, type TrainData } from './data/dataset';
import type { BatchLoader } from './data/loader';
import type { ModelEma } from './ema';
import type { V8DetectionLoss } from './loss/detection-loss';
import { batchGradients } from './micro-batch';
import { clipGradNorm, type GroupedOptimizer } from './optimizer';
import { saveCheckpoints, writeResultsCsv } from './run-files';
import { applyLearningRates, type ScheduleArgs, type WarmupArgs } from './schedule';
import type { BatchProgress, PerClassAp, TrainEvent } from './train-events';
import type { EpochRow } from './train-state';
import { validate } from './validator';

const GRAD_CLIP = 10;

/** Everything setup builds that the epochs share. */
export interface TrainParts {
  args: TrainArgs;
  runDir: string;
  weightsDir: string;
  emit: (e: TrainEvent) => void;
  signal: AbortSignal | undefined;
  trainData: TrainData;
  valData: TrainData;
  names: string[];
  /** The model trained. */
  model: YoloModel;
  /** Holds the EMA weights: what validation measures and last/best.safetensors hold. */
  evalModel: YoloModel;
  trainableVars: tf.Variable[];
  /** Trainable variable name -> parameter name (frozen ones are left out). */
  nameOf: Map<string, string>;
  optimizer: GroupedOptimizer;
  ema: ModelEma;
  emaEntries: { name: string; variable: tf.Variable }[];
  loss: V8DetectionLoss;
  /** The batch size used (at most the train image count). */
  batch: number;
  /** Images per forward/backward pass (the wasm heap bounds it). */
  perPass: number;
  trainLoader: BatchLoader;
  valLoader: BatchLoader;
  /** Learning-rate schedule and warmup, as applyLearningRates takes them. */
  schedule: {
    /** Batches per epoch. */
    nb: number;
    /** Warmup iterations. */
    nw: number;
    sched: ScheduleArgs;
    warm: WarmupArgs;
  };
  /** Where the run starts (0, or the epoch after the resumed state's) and what it carries over. */
  startEpoch: number;
  bestFitness: number;
  rows: EpochRow[];
  /** Releases the run folder's lock. */
  release: () => void;
}

/** The train pass of an epoch: when it started and its mean losses (box, cls, dfl). */
export interface TrainedEpoch {
  started: number;
  losses: [number, number, number];
}

type ValMetrics = Pick<EpochRow, 'precision' | 'recall' | 'mAP50' | 'mAP50_95' | 'fitness' | 'valLosses'>;

function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppError('JOB_CANCELLED', 'training stopped');
}

export class TrainSession {
  readonly startEpoch: number;
  private readonly rows: EpochRow[];
  private bestFitness: number;
  private epochsWithoutImprovement = 0;
  private stoppedEarly = false;
  private lastPerClass: PerClassAp[] = [];
  // Gradients accumulate across batch (and epoch) boundaries, as the iteration count does.
  private accum: Map<string, tf.Tensor> | null = null;
  private lastOptStep = -1;
  /** For the images/s rate and the ETA: the run so far, from its first epoch here. */
  private readonly started = performance.now();
  private imagesDone = 0;

  constructor(private readonly p: TrainParts) {
    this.startEpoch = p.startEpoch;
    this.bestFitness = p.bestFitness;
    this.rows = p.rows;
  }

  /** One pass over the train set; emits a batch event per batch. */
  async trainEpoch(epoch: number): Promise<TrainedEpoch> {
    const { model, optimizer, loss, trainLoader, signal } = this.p;
    const { nb, nw, sched, warm } = this.p.schedule;
    throwIfStopped(signal);
    model.train();
    const started = performance.now();
    const losses: [number, number, number] = [0, 0, 0];
    let i = 0;
    for await (const b of trainLoader.epoch(epoch)) {
      throwIfStopped(signal);
      const ni = i + nb * epoch;
      const accumulate = applyLearningRates(optimizer.groups, optimizer, ni, nw, epoch, sched, warm);
      const { grads, items } = batchGradients(model, loss, b, this.p.trainableVars, this.p.nameOf, this.p.perPass);
      this.accum = addGrads(this.accum, grads);
      items.forEach((v, k) => (losses[k] = (losses[k]! * i + v) / (i + 1)));
      if (ni - this.lastOptStep >= accumulate) {
        this.optimizerStep(this.accum);
        this.accum = null;
        this.lastOptStep = ni;
      }
      i++;
      this.imagesDone += b.count;
      this.p.emit(this.batchProgress(epoch, i, losses, b.cls.length));
    }
    return { started, losses };
  }

  /** Clipped step on the accumulated gradients, then the EMA; frees the gradients. */
  private optimizerStep(accum: Map<string, tf.Tensor>): void {
    const { grads: use } = clipGradNorm(accum, GRAD_CLIP);
    this.p.optimizer.step(use);
    this.p.ema.update(this.p.emaEntries);
    for (const [k, t] of use) if (t !== accum.get(k)) t.dispose();
    tf.dispose([...accum.values()]);
  }

  private batchProgress(epoch: number, batch: number, losses: [number, number, number], instances: number): BatchProgress {
    const { args, trainData, optimizer } = this.p;
    const nb = this.p.schedule.nb;
    const elapsed = (performance.now() - this.started) / 1000;
    const rate = this.imagesDone / Math.max(elapsed, 1e-3);
    const remainingImages = (args.epochs - epoch - 1) * trainData.samples.length + (nb - batch) * this.p.batch;
    return {
      type: 'batch', epoch: epoch + 1, epochs: args.epochs, batch, batches: nb, losses: [...losses],
      lr: optimizer.groups.map((g) => g.lr) as [number, number, number], imagesPerSec: rate,
      etaSec: rate > 0 ? remainingImages / rate : null, instances,
    };
  }

  /**
   * The EMA weights into the eval model, and its metrics on the val set when this epoch validates
   * (every epoch with val=true, else the last); zeros otherwise.
   */
  async validateEpoch(epoch: number): Promise<ValMetrics> {
    const { args, ema, evalModel, valData, valLoader, loss, names, emit, signal } = this.p;
    ema.copyTo(evalModel.entries().map((e) => ({ name: e.name, variable: e.variable })));
    evalModel.releaseCaches();
    const final = epoch === args.epochs - 1;
    if (!(args.val || final) || valData.samples.length === 0) {
      return { precision: 0, recall: 0, mAP50: 0, mAP50_95: 0, fitness: 0, valLosses: [0, 0, 0] };
    }
    const v = await validate(evalModel, valLoader, loss, {
      ...(signal ? { signal } : {}),
      onBatch: (done, total) => emit({ type: 'validating', epoch: epoch + 1, done, total }),
    });
    const m = v.metrics;
    const counts = instancesPerClass(valData.samples, names.length);
    this.lastPerClass = m.perClass.map((c) => ({ name: names[c.classId] ?? String(c.classId), images: c.images, instances: counts[c.classId] ?? c.instances, ap50: c.ap50, ap50_95: c.ap50_95 }));
    return { precision: m.precision, recall: m.recall, mAP50: m.mAP50, mAP50_95: m.mAP50_95, fitness: m.fitness, valLosses: v.losses };
  }

  /** The epoch's results row, added to the table; whether its fitness is the best so far. */
  recordEpoch(epoch: number, trained: TrainedEpoch, metrics: ValMetrics): { row: EpochRow; isBest: boolean } {
    const row: EpochRow = {
      epoch: epoch + 1,
      time: (performance.now() - trained.started) / 1000,
      trainLosses: [...trained.losses],
      ...metrics,
      lr: this.p.optimizer.groups.map((g) => g.lr) as [number, number, number],
    };
    this.rows.push(row);
    const isBest = row.fitness > this.bestFitness;
    if (isBest) {
      this.bestFitness = row.fitness;
      this.epochsWithoutImprovement = 0;
    } else this.epochsWithoutImprovement++;
    return { row, isBest };
  }

  /** The resume pair, then last.safetensors, then best.safetensors when the epoch is the best. */
  saveCheckpoints(epoch: number, row: EpochRow, isBest: boolean): void {
    saveCheckpoints(this.p, { epoch, row, isBest, bestFitness: this.bestFitness, rows: this.rows });
  }

  /** results.csv, the epoch event; returns true when patience ran out (stop early). */
  endEpoch(row: EpochRow, isBest: boolean): boolean {
    writeResultsCsv(path.join(this.p.runDir, 'results.csv'), this.rows);
    this.p.emit({ type: 'epoch', row, best: isBest, perClass: this.lastPerClass });
    throwIfStopped(this.p.signal);
    this.stoppedEarly = this.epochsWithoutImprovement >= this.p.args.patience;
    return this.stoppedEarly;
  }

  /** The done event; the run's folder and table. */
  finish(): { runDir: string; rows: EpochRow[] } {
    const { runDir, weightsDir } = this.p;
    this.p.emit({
      type: 'done', runDir, best: path.join(weightsDir, 'best.safetensors'), last: path.join(weightsDir, 'last.safetensors'),
      rows: this.rows, stoppedEarly: this.stoppedEarly, perClass: this.lastPerClass,
    });
    return { runDir, rows: this.rows };
  }

  /** Frees tensors and loader workers, then releases the run folder. */
  async close(): Promise<void> {
    try {
      if (this.accum) tf.dispose([...this.accum.values()]);
      await this.p.trainLoader.close();
      await this.p.valLoader.close();
      this.p.optimizer.dispose();
      this.p.ema.dispose();
      this.p.model.dispose();
      this.p.evalModel.dispose();
    } finally {
      this.p.release();
    }
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
