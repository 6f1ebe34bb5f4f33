/**
 * @file boxtune's own model checkpoint: a safetensors file. Layout: 8-byte little-endian header
 * length, a JSON header (per tensor: dtype, shape, data_offsets; plus `__metadata__`, a string ->
 * string map) padded with spaces to 8 bytes, then the raw little-endian tensor bytes in header order.
 * Tensors keep Ultralytics' state-dict names and torch shapes (fp32; num_batches_tracked int64),
 * so any safetensors reader can open it. Our metadata (yaml, names, imgsz, stride, train args,
 * metrics, dataset snapshot) sits in `__metadata__`, each value a JSON string.
 * Saving then loading is bit-exact.
 *
 * Reading trusts nothing in the file: tensors must lie in the data without overlapping (as the
 * safetensors format requires; overlapping ones would let a small file decode one region thousands
 * of times), names must be a list no longer than MAX_CLASSES, and the file is refused by its size
 * before it is read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import { writeFileAtomic } from '../util/atomic-write';
import { classNamesFrom } from './class-names';
import { readModelFileBytes } from './model-file';
import type { ModelYaml } from './parse-model';
import { readPtFile, type TensorView, type TorchDtype } from './pt/pt-reader';
import { YoloModel } from './yolo';

export const CHECKPOINT_FORMAT = 'boxtune-yolo/1';

/** What a boxtune checkpoint says about its model and how it was made. */
export interface CheckpointMeta {
  format: string;
  yaml: ModelYaml;
  names: string[];
  stride: number[];
  /** Training image size, when known. */
  imgsz: number | null;
  /** Hyperparameters the weights were trained with. */
  trainArgs: Record<string, unknown> | null;
  /** Validation metrics (mAP50-95, mAP50, ...). */
  metrics: Record<string, number> | null;
  /** The dataset snapshot the weights were trained on. */
  datasetSnapshotId: string | null;
  /** ISO time of saving. */
  created: string;
  /** Where the weights started from (a .pt file name, another checkpoint, 'scratch'). */
  source: string | null;
  /** BatchNorm eps/momentum that differ from Ultralytics' defaults, by module name. */
  batchNorm: Record<string, { eps: number; momentum: number }>;
}

/** The optional parts a caller gives when saving. */
export type CheckpointInfo = Partial<Pick<CheckpointMeta, 'imgsz' | 'trainArgs' | 'metrics' | 'datasetSnapshotId' | 'source'>>;

const DTYPES: Record<string, { torch: TorchDtype; bytes: number }> = {
  F32: { torch: 'float32', bytes: 4 },
  F16: { torch: 'float16', bytes: 2 },
  BF16: { torch: 'bfloat16', bytes: 2 },
  F64: { torch: 'float64', bytes: 8 },
  I64: { torch: 'int64', bytes: 8 },
  I32: { torch: 'int32', bytes: 4 },
};

function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') throw new AppError('INTERNAL', 'boxtune checkpoints need a little-endian machine');
}

/** Encodes a state dict and metadata strings as safetensors bytes. Only float32 and int64 tensors. */
export function encodeSafetensors(sd: Map<string, TensorView>, metadata: Record<string, string>): Uint8Array {
  assertLittleEndian();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of sd) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`${name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    let bytes: Uint8Array;
    let dtype: string;
    if (t.dtype === 'int64') {
      const v = new BigInt64Array(n);
      for (let i = 0; i < n; i++) v[i] = BigInt(Math.round(t.data[i]!));
      bytes = new Uint8Array(v.buffer);
      dtype = 'I64';
    } else {
      bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      dtype = 'F32';
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** Decodes safetensors bytes into tensors (as fp32 values) and the metadata map. */
export function decodeSafetensors(bytes: Uint8Array, label = 'the checkpoint'): { tensors: Map<string, TensorView>; metadata: Record<string, string> } {
  assertLittleEndian();
  const bad = (why: string) => new AppError('FILE_UNREADABLE', `${label} is not a readable safetensors file: ${why}`);
  if (bytes.length < 8) throw bad('shorter than its 8-byte header length (truncated?)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (hlen > bytes.length - 8 || hlen > 100 * 1024 * 1024) throw bad(`header length ${hlen} exceeds the file (truncated?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as Record<string, unknown>;
  } catch (err) {
    throw bad(`header is not JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + hlen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; b: number; e: number; n: number }[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (v && typeof v === 'object') for (const [k, s] of Object.entries(v)) if (typeof s === 'string') metadata[k] = s;
      continue;
    }
    const info = (v ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dt = typeof info.dtype === 'string' ? DTYPES[info.dtype] : undefined;
    if (!dt) throw bad(`tensor ${name} has unsupported dtype ${String(info.dtype)}`);
    const shape = info.shape;
    const offs = info.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${name} has a bad shape`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o))) throw bad(`tensor ${name} has bad data_offsets`);
    const [b, e] = offs as [number, number];
    const n = (shape as number[]).reduce((a, c) => a * c, 1);
    if (b < 0 || e > dataLen || e - b !== n * dt.bytes) throw bad(`tensor ${name} lies outside the data (truncated?)`);
    entries.push({ name, dtype: info.dtype as string, shape: shape as number[], b, e, n });
  }
  // Checked before any tensor is copied: each byte of the data belongs to one tensor at most.
  const byStart = entries.filter((t) => t.e > t.b).sort((x, y) => x.b - y.b);
  for (let i = 1; i < byStart.length; i++) {
    if (byStart[i]!.b < byStart[i - 1]!.e) throw bad(`tensors '${byStart[i - 1]!.name}' and '${byStart[i]!.name}' overlap in the data`);
  }
  const tensors = new Map<string, TensorView>();
  for (const { name, dtype, shape, b, e, n } of entries) {
    // An aligned copy (Uint8Array's slice: a Buffer's slice would be a view into a shared pool).
    const raw = Uint8Array.prototype.slice.call(bytes, dataStart + b, dataStart + e);
    tensors.set(name, { dtype: DTYPES[dtype]!.torch, shape, data: toF32(raw, dtype, n) });
  }
  return { tensors, metadata };
}

function toF32(raw: Uint8Array, dtype: string, n: number): Float32Array {
  const buf = raw.buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf, 0, n);
    case 'F64':
      return Float32Array.from(new Float64Array(buf, 0, n));
    case 'I64':
      return Float32Array.from(new BigInt64Array(buf, 0, n), (x) => Number(x));
    case 'I32':
      return Float32Array.from(new Int32Array(buf, 0, n));
    case 'BF16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      const src = new Uint16Array(buf, 0, n);
      for (let i = 0; i < n; i++) bits[i] = src[i]! << 16;
      return out;
    }
    default: {
      // F16
      const src = new Uint16Array(buf, 0, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const h = src[i]!;
        const s = h & 0x8000 ? -1 : 1;
        const e = (h >> 10) & 0x1f;
        const f = h & 0x3ff;
        out[i] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
      }
      return out;
    }
  }
}

/** The metadata a model plus caller info turns into. */
export function checkpointMeta(model: YoloModel, info: CheckpointInfo = {}): CheckpointMeta {
  return {
    format: CHECKPOINT_FORMAT,
    yaml: model.yaml,
    names: model.names,
    stride: model.stride,
    imgsz: info.imgsz ?? null,
    trainArgs: info.trainArgs ?? null,
    metrics: info.metrics ?? null,
    datasetSnapshotId: info.datasetSnapshotId ?? null,
    created: new Date().toISOString(),
    source: info.source ?? null,
    batchNorm: Object.fromEntries(model.batchNormOverrides()),
  };
}

/** The model as safetensors bytes. */
export function encodeCheckpoint(model: YoloModel, info: CheckpointInfo = {}, meta: CheckpointMeta = checkpointMeta(model, info)): Uint8Array {
  const metadata: Record<string, string> = {
    format: meta.format,
    yaml: JSON.stringify(meta.yaml),
    names: JSON.stringify(meta.names),
    stride: JSON.stringify(meta.stride),
    imgsz: JSON.stringify(meta.imgsz),
    train_args: JSON.stringify(meta.trainArgs),
    metrics: JSON.stringify(meta.metrics),
    dataset_snapshot_id: JSON.stringify(meta.datasetSnapshotId),
    created: meta.created,
    source: JSON.stringify(meta.source),
    batch_norm: JSON.stringify(meta.batchNorm),
  };
  return encodeSafetensors(model.stateDict(), metadata);
}

/** Reads a boxtune checkpoint's metadata and tensors from bytes (no model is built). */
export function decodeCheckpoint(bytes: Uint8Array, label = 'the checkpoint'): { meta: CheckpointMeta; stateDict: Map<string, TensorView> } {
  const { tensors, metadata } = decodeSafetensors(bytes, label);
  if (!metadata.format?.startsWith('boxtune-yolo/')) {
    throw new AppError('INVALID_INPUT', `${label} is a safetensors file but not a boxtune model checkpoint (no boxtune metadata)`);
  }
  const json = <T>(key: string, dflt: T): T => {
    const s = metadata[key];
    if (s === undefined) return dflt;
    try {
      return JSON.parse(s) as T;
    } catch {
      throw new AppError('FILE_UNREADABLE', `${label}: metadata '${key}' is not valid JSON`);
    }
  };
  const meta: CheckpointMeta = {
    format: metadata.format,
    yaml: json<ModelYaml>('yaml', null as unknown as ModelYaml),
    names: json<string[]>('names', []),
    stride: json<number[]>('stride', []),
    imgsz: json<number | null>('imgsz', null),
    trainArgs: json<Record<string, unknown> | null>('train_args', null),
    metrics: json<Record<string, number> | null>('metrics', null),
    datasetSnapshotId: json<string | null>('dataset_snapshot_id', null),
    created: metadata.created ?? '',
    source: json<string | null>('source', null),
    batchNorm: json<Record<string, { eps: number; momentum: number }>>('batch_norm', {}),
  };
  if (!meta.yaml) throw new AppError('FILE_UNREADABLE', `${label}: the checkpoint has no model yaml`);
  if (!Array.isArray(meta.names) || !meta.names.every((n) => typeof n === 'string')) {
    throw new AppError('FILE_UNREADABLE', `${label}: metadata 'names' is not a list of class names`);
  }
  classNamesFrom(meta.names, `${label}: metadata 'names'`); // its length
  return { meta, stateDict: tensors };
}

/** Builds the model a checkpoint describes, with its weights. */
export function modelFromCheckpoint(bytes: Uint8Array, label = 'the checkpoint'): { model: YoloModel; meta: CheckpointMeta } {
  const { meta, stateDict } = decodeCheckpoint(bytes, label);
  const model = YoloModel.fromStateDict(meta.yaml, meta.names, stateDict, new Map(Object.entries(meta.batchNorm)));
  return { model, meta };
}

/** Writes a checkpoint atomically (temp file, fsync, rename), so a crash never leaves half a file. */
export function saveCheckpoint(file: string, model: YoloModel, info: CheckpointInfo = {}): CheckpointMeta {
  const meta = checkpointMeta(model, info);
  writeFileAtomic(file, encodeCheckpoint(model, info, meta));
  return meta;
}

/** Loads a boxtune checkpoint file into a model. */
export function loadCheckpoint(file: string): { model: YoloModel; meta: CheckpointMeta } {
  return modelFromCheckpoint(readModelFileBytes(file), path.basename(file));
}

/**
 * Opens any model file boxtune reads: an Ultralytics `.pt` or a boxtune `.safetensors` checkpoint
 * (told apart by content, not name).
 */
export function loadModelFile(file: string): { model: YoloModel; meta: CheckpointMeta | null; kind: 'pt' | 'checkpoint' } {
  const head = Buffer.alloc(4);
  try {
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, head, 0, 4, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AppError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `cannot read ${file}: ${code ?? (err as Error).message}`);
  }
  if (head.readUInt32LE(0) === 0x04034b50) {
    // "PK\x03\x04": a zip, so a torch checkpoint (a safetensors header that long would be 64 MiB)
    return { model: YoloModel.fromCheckpoint(readPtFile(file)), meta: null, kind: 'pt' };
  }
  const { model, meta } = loadCheckpoint(file);
  return { model, meta, kind: 'checkpoint' };
}
