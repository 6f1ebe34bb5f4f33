/**
 * @file What resuming a run needs beyond the weights: the raw (non-EMA) model as a boxtune
 * checkpoint (`last.train.safetensors`), and the optimizer moments, the EMA and the epoch table
 * (`last.state.safetensors`). The state names the weights it belongs to by their SHA-256, so a
 * pair torn by a kill between the two writes is caught on resume, never trained on silently.
 * While a new pair is written, the previous weights wait as `prev.train.safetensors`: a kill
 * before the new state is in place leaves the previous pair whole, and resume takes that one.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { TrainEpochRow } from '../../shared/types';
import { decodeSafetensors, encodeCheckpoint, encodeSafetensors } from '../model/checkpoint';
import type { TensorView } from '../model/pt/pt-reader';
import type { YoloModel } from '../model/yolo';
import { atomically, writeFileAtomic } from '../util/atomic-write';
import type { ModelEma } from './ema';
import type { GroupedOptimizer, OptimizerState } from './optimizer';

/** One row of the per-epoch table (results.csv): the shared type the UI charts too. */
export type EpochRow = TrainEpochRow;

export interface TrainState {
  /** The raw model weights to continue from (checked to belong to this state). */
  modelFile: string;
  /** Its bytes, as checked: load the model from these, not from a second read. */
  modelBytes: Uint8Array;
  optimizer: OptimizerState;
  ema: Map<string, Float32Array>;
  emaUpdates: number;
  /** Last finished epoch (0-based). */
  epoch: number;
  bestFitness: number;
  rows: EpochRow[];
  /** Set when the newest weights were written by an epoch that was not saved whole. */
  recovered?: string;
}

export const MODEL_FILE = 'last.train.safetensors';
export const STATE_FILE = 'last.state.safetensors';
const PREV_MODEL_FILE = 'prev.train.safetensors';

export function saveTrainState(
  dir: string,
  s: { model: YoloModel; optimizer: GroupedOptimizer; ema: ModelEma; epoch: number; bestFitness: number; rows: EpochRow[] },
): void {
  const modelFile = path.join(dir, MODEL_FILE);
  const prevFile = path.join(dir, PREV_MODEL_FILE);
  const modelBytes = encodeCheckpoint(s.model);

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
    model_sha256: sha256(modelBytes),
  };

  // The current weights stay reachable until the new state names the new ones.
  if (fs.existsSync(modelFile)) atomically(prevFile, (tmp) => linkOrCopy(modelFile, tmp));
  writeFileAtomic(modelFile, modelBytes);
  writeFileAtomic(path.join(dir, STATE_FILE), encodeSafetensors(tensors, meta));
  fs.rmSync(prevFile, { force: true });
}

/**
 * The state to resume from and the weights it belongs to: last.train, or prev.train when the
 * newest weights belong to no saved state (a kill between the two writes). Reads only.
 */
export function loadTrainState(dir: string): TrainState {
  const stateFile = path.join(dir, STATE_FILE);
  const modelFile = path.join(dir, MODEL_FILE);
  const prevFile = path.join(dir, PREV_MODEL_FILE);
  if (!fs.existsSync(stateFile)) {
    throw new AppError('NOT_FOUND', `nothing to resume in ${dir}: no finished epoch was saved yet (no ${STATE_FILE})`);
  }
  const { tensors, metadata } = decodeSafetensors(fs.readFileSync(stateFile), stateFile);
  const meta = parseStateMeta(metadata.state, stateFile);
  const { bytes: modelBytes, recovered } = pairedWeights(dir, metadata.model_sha256, meta.epoch);

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
    modelFile: recovered ? prevFile : modelFile,
    modelBytes,
    optimizer: { ...meta.optimizer, slots },
    ema,
    emaUpdates: meta.emaUpdates,
    epoch: meta.epoch,
    bestFitness: meta.bestFitness,
    rows: meta.rows,
    ...(recovered ? { recovered } : {}),
  };
}

/**
 * Puts recovered weights back as last.train.safetensors, so the next save keeps them (not the
 * unsaved epoch's) as the previous pair while it writes.
 */
export function restorePairedWeights(dir: string, state: TrainState): void {
  const modelFile = path.join(dir, MODEL_FILE);
  if (state.modelFile !== modelFile) fs.renameSync(state.modelFile, modelFile);
}

interface StateMeta {
  optimizer: Pick<OptimizerState, 'name' | 'step' | 'groups'>;
  emaUpdates: number;
  epoch: number;
  bestFitness: number;
  rows: EpochRow[];
}

function parseStateMeta(json: string | undefined, file: string): StateMeta {
  let meta: Partial<StateMeta>;
  try {
    meta = JSON.parse(json ?? 'null') as Partial<StateMeta>;
  } catch (err) {
    throw new AppError('FILE_UNREADABLE', `${file}: its 'state' metadata is not JSON (${(err as Error).message})`);
  }
  if (!meta || !Number.isInteger(meta.epoch) || !Array.isArray(meta.rows) || !meta.optimizer || typeof meta.emaUpdates !== 'number') {
    throw new AppError('FILE_UNREADABLE', `${file} is not a boxtune training state (no epoch, rows, optimizer or EMA count in its metadata)`);
  }
  return { ...(meta as StateMeta), bestFitness: typeof meta.bestFitness === 'number' ? meta.bestFitness : -Infinity };
}

/**
 * The weights the state names: last.train, or prev.train when a kill came between the writes.
 * A state from before the pair was checked (no hash) must be younger than its weights.
 */
function pairedWeights(dir: string, hash: string | undefined, epoch: number): { bytes: Uint8Array; recovered?: string } {
  const stateFile = path.join(dir, STATE_FILE);
  const modelFile = path.join(dir, MODEL_FILE);
  const prevFile = path.join(dir, PREV_MODEL_FILE);
  const read = (file: string): Uint8Array | null => (fs.existsSync(file) ? fs.readFileSync(file) : null);
  const bytes = read(modelFile);
  if (hash === undefined) {
    if (bytes && fs.statSync(modelFile).mtimeMs <= fs.statSync(stateFile).mtimeMs) return { bytes };
  } else {
    if (bytes && sha256(bytes) === hash) return { bytes };
    const prev = read(prevFile);
    if (prev && sha256(prev) === hash) {
      return { bytes: prev, recovered: `${MODEL_FILE} was written by an epoch that was not saved whole; resuming after epoch ${epoch + 1}, the last one saved whole` };
    }
  }
  const missing = bytes ? '' : ` (${MODEL_FILE} is missing)`;
  throw new AppError(
    'FILE_UNREADABLE',
    `cannot resume: ${stateFile} (epoch ${epoch + 1}) and ${modelFile} do not belong together${missing}; the run was killed while saving them, and no whole pair is left to resume from. Start a new run from ${path.join(dir, 'best.safetensors')} or ${path.join(dir, 'last.safetensors')} instead`,
    { files: [stateFile, modelFile] },
  );
}

/** A second name for the same bytes (a hard link); a copy where the file system has none. */
function linkOrCopy(src: string, dest: string): void {
  try {
    fs.linkSync(src, dest);
  } catch {
    fs.copyFileSync(src, dest);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
