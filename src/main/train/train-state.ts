/**
 * @file What resuming a run needs beyond the weights: the raw (non-EMA) model as a boxtune
 * checkpoint (`last.train.safetensors`), and the optimizer moments, the EMA and the epoch table
 * (`last.state.safetensors`). Both are written through temp files and renames, the state last,
 * so a kill leaves either the previous epoch's pair or the new one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { TrainEpochRow } from '../../shared/types';
import { decodeSafetensors, encodeSafetensors, saveCheckpoint } from '../model/checkpoint';
import type { TensorView } from '../model/pt/pt-reader';
import type { YoloModel } from '../model/yolo';
import type { ModelEma } from './ema';
import type { GroupedOptimizer, OptimizerState } from './optimizer';

/** One row of the per-epoch table (results.csv): the shared type the UI charts too. */
export type EpochRow = TrainEpochRow;

export interface TrainState {
  /** The raw model weights to continue from. */
  modelFile: string;
  optimizer: OptimizerState;
  ema: Map<string, Float32Array>;
  emaUpdates: number;
  /** Last finished epoch (0-based). */
  epoch: number;
  bestFitness: number;
  rows: EpochRow[];
}

const MODEL_FILE = 'last.train.safetensors';
const STATE_FILE = 'last.state.safetensors';

export function saveTrainState(
  dir: string,
  s: { model: YoloModel; optimizer: GroupedOptimizer; ema: ModelEma; epoch: number; bestFitness: number; rows: EpochRow[] },
): void {
  const modelFile = path.join(dir, MODEL_FILE);
  const tmpModel = `${modelFile}.tmp-${process.pid}`;
  saveCheckpoint(tmpModel, s.model);
  fs.renameSync(tmpModel, modelFile);

  const opt = s.optimizer.getState();
  const tensors = new Map<string, TensorView>();
  for (const [name, slot] of Object.entries(opt.slots)) {
    if (slot.m) tensors.set(`optimizer/${name}/m`, { dtype: 'float32', shape: [slot.m.length], data: slot.m });
    if (slot.v) tensors.set(`optimizer/${name}/v`, { dtype: 'float32', shape: [slot.v.length], data: slot.v });
  }
  for (const name of s.ema.names()) {
    const data = s.ema.get(name)!.dataSync() as Float32Array;
    tensors.set(`ema/${name}`, { dtype: 'float32', shape: [data.length], data });
  }
  const meta = {
    state: JSON.stringify({
      optimizer: { name: opt.name, step: opt.step, groups: opt.groups },
      emaUpdates: s.ema.updates,
      epoch: s.epoch,
      bestFitness: s.bestFitness,
      rows: s.rows,
    }),
  };
  const stateFile = path.join(dir, STATE_FILE);
  const tmp = `${stateFile}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, encodeSafetensors(tensors, meta));
  fs.renameSync(tmp, stateFile);
}

export function loadTrainState(dir: string): TrainState {
  const stateFile = path.join(dir, STATE_FILE);
  const modelFile = path.join(dir, MODEL_FILE);
  if (!fs.existsSync(stateFile) || !fs.existsSync(modelFile)) {
    throw new AppError('NOT_FOUND', `nothing to resume in ${dir}: no finished epoch was saved yet`);
  }
  const { tensors, metadata } = decodeSafetensors(fs.readFileSync(stateFile), stateFile);
  const meta = JSON.parse(metadata.state ?? '{}') as {
    optimizer: Pick<OptimizerState, 'name' | 'step' | 'groups'>;
    emaUpdates: number;
    epoch: number;
    bestFitness: number;
    rows: EpochRow[];
  };
  const slots: OptimizerState['slots'] = {};
  const ema = new Map<string, Float32Array>();
  for (const [key, t] of tensors) {
    if (key.startsWith('ema/')) ema.set(key.slice(4), t.data);
    else if (key.startsWith('optimizer/')) {
      const name = key.slice('optimizer/'.length, key.lastIndexOf('/'));
      const which = key.slice(key.lastIndexOf('/') + 1) as 'm' | 'v';
      (slots[name] ??= {})[which] = t.data;
    }
  }
  return {
    modelFile,
    optimizer: { ...meta.optimizer, slots },
    ema,
    emaUpdates: meta.emaUpdates,
    epoch: meta.epoch,
    bestFitness: meta.bestFitness,
    rows: meta.rows,
  };
}
