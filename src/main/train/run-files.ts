/**
 * @file The files a run writes each epoch: the resume pair (train-state.ts), last/best.safetensors
 * and results.csv, each replaced atomically, in that order: once the resume pair is in place the
 * epoch counts as saved, and the rest derive from it. A resume that finds them behind its pair
 * (a kill while saving) rewrites them from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointInfo } from '../model/checkpoint';
import type { YoloModel } from '../model/yolo';
import { writeFileAtomic } from '../util/atomic-write';
import type { TrainArgs } from './args';
import type { ModelEma } from './ema';
import type { GroupedOptimizer } from './optimizer';
import { saveTrainState, type EpochRow, type TrainState } from './train-state';

/** A run's model, optimizer and EMA, and where its files go. */
export interface RunFiles {
  args: TrainArgs;
  runDir: string;
  weightsDir: string;
  /** The model being trained (its raw weights go into the resume pair). */
  model: YoloModel;
  /** The model that holds the EMA weights: what validation measures and last/best hold. */
  evalModel: YoloModel;
  optimizer: GroupedOptimizer;
  ema: ModelEma;
}

/**
 * The epoch's checkpoints: the state to resume first, then the EMA weights as the model (what
 * validation measured) as last.safetensors, and as best.safetensors when the epoch is the best.
 * The caller has copied the EMA into evalModel (validation does).
 */
export function saveCheckpoints(
  run: RunFiles,
  s: { epoch: number; row: EpochRow; isBest: boolean; bestFitness: number; rows: EpochRow[] },
): void {
  saveTrainState(run.weightsDir, { model: run.model, optimizer: run.optimizer, ema: run.ema, epoch: s.epoch, bestFitness: s.bestFitness, rows: s.rows });
  const weights = encodeCheckpoint(run.evalModel, epochInfo(run.args, s.row));
  writeFileAtomic(path.join(run.weightsDir, 'last.safetensors'), weights);
  if (s.isBest) writeFileAtomic(path.join(run.weightsDir, 'best.safetensors'), weights);
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
export function repairDerivedFiles(state: TrainState, run: Pick<RunFiles, 'runDir' | 'weightsDir' | 'args' | 'ema' | 'evalModel'>): string[] {
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
