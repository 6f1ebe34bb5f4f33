/**
 * @file Reads an Ultralytics `.pt` checkpoint without Python: the torch zip, its pickle (through our
 * pickle VM, which executes nothing), and the raw little-endian storages. Gives back the model's
 * `yaml`, `names`, `stride`, `args`, the checkpoint's metadata and `train_args`, and a state dict
 * keyed exactly like Ultralytics' `model.state_dict()` (`model.0.conv.weight`, ...), with fp16
 * and other dtypes converted to fp32.
 *
 * The file may be hostile, so what it declares is checked before it is used: class indices, tensor
 * sizes and offsets against their storages, how many times storages are decoded, how deep modules
 * nest and how many paths lead to them, how many values a field converts to (objects shared through
 * the pickle memo would make the walks exponential). Each failure names the file and the field.
 */
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import { classNamesFrom } from '../class-names';
import { MAX_MODULE_DEPTH, MAX_MODULE_WALK_STEPS, MAX_MODULES, MAX_TENSOR_DECODE_RATIO } from '../limits';
import { readModelFileBytes } from '../model-file';
import { parseModel } from '../parse-model';
import { isPyObject, PickleError, plainBudget, PyGlobal, setOwn, toPlain, unpickle, type PyDict, type PyObject } from './pickle';
import { readTorchZip, type TorchZip } from './zip';

export type TorchDtype =
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** A tensor read from a checkpoint: its original dtype, torch shape, and values as fp32. */
export interface TensorView {
  dtype: TorchDtype;
  shape: number[];
  data: Float32Array;
}

export function isTensorView(v: unknown): v is TensorView {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as TensorView).data instanceof Float32Array &&
    Array.isArray((v as TensorView).shape)
  );
}

/** One nn.Module of the checkpoint's model, by its state-dict prefix (`model.2.m.0`). */
export interface PtModule {
  /** Python class, e.g. `torch.nn.modules.batchnorm.BatchNorm2d`. */
  className: string;
  /** Its scalar attributes (eps, momentum, stride, num_heads, ...), JSON-friendly. */
  attrs: Record<string, unknown>;
}

/** What boxtune takes from an Ultralytics detection checkpoint. */
export interface PtCheckpoint {
  /** `ema` when the checkpoint holds one, else `model`. */
  source: 'ema' | 'model';
  /** e.g. `ultralytics.nn.tasks.DetectionModel`. */
  modelClass: string;
  /** The model's own yaml dict (nc, scales, backbone, head, and often scale / yaml_file). */
  yaml: Record<string, unknown>;
  /** Class names by index. */
  names: string[];
  /** Detect strides, e.g. [8, 16, 32]. */
  stride: number[];
  /** `model.args` (the hyperparameters the model was built/trained with), when present. */
  args: Record<string, unknown>;
  /** Checkpoint-level `train_args`, when present. */
  trainArgs: Record<string, unknown> | null;
  /** Other top-level entries: date, version, license, epoch, best_fitness, ... (JSON-friendly). */
  meta: Record<string, unknown>;
  /** Ultralytics state-dict keys -> tensors, in module order. */
  stateDict: Map<string, TensorView>;
  /** Every module by state-dict prefix ('' is the model itself). */
  modules: Map<string, PtModule>;
}

const ITEM_BYTES: Record<TorchDtype, number> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

const STORAGE_DTYPES: Record<string, TorchDtype> = {
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** Torch dtype globals (`torch.float16`), used by newer storages and metadata. */
const TORCH_DTYPES: Record<string, TorchDtype> = {
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  float32: 'float32',
  float: 'float32',
  float64: 'float64',
  double: 'float64',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

interface Storage {
  __storage__: true;
  key: string;
  dtype: TorchDtype;
  bytes: Uint8Array;
}

/** Head classes of other tasks, and what to call them in an error. */
const OTHER_TASK_HEADS: Record<string, string> = {
  Segment: 'segmentation',
  YOLOESegment: 'segmentation',
  Pose: 'pose',
  Classify: 'classification',
  OBB: 'oriented-box (OBB)',
  WorldDetect: 'YOLO-World (open-vocabulary)',
  YOLOEDetect: 'YOLOE (open-vocabulary)',
  RTDETRDecoder: 'RT-DETR',
  v10Detect: 'YOLOv10 (end-to-end)',
};

const OTHER_TASK_MODELS: Record<string, string> = {
  SegmentationModel: 'Segment',
  PoseModel: 'Pose',
  ClassificationModel: 'Classify',
  OBBModel: 'OBB',
  WorldModel: 'WorldDetect',
  RTDETRDetectionModel: 'RTDETRDecoder',
};

/** Reads a `.pt` file from disk (refused by its size first when it is larger than any model). */
export function readPtFile(file: string): PtCheckpoint {
  return readPt(readModelFileBytes(file), path.basename(file));
}

/** Reads a `.pt` checkpoint held in memory; `label` names it in error messages. */
export function readPt(bytes: Uint8Array, label = 'the checkpoint'): PtCheckpoint {
  const zip = readTorchZip(bytes, label);
  const order = zip.entries.get('byteorder');
  if (order && new TextDecoder().decode(order).trim() === 'big') {
    throw new AppError('FILE_UNREADABLE', `${label} was saved on a big-endian machine; boxtune reads little-endian checkpoints only`);
  }
  const root = unpickleCheckpoint(zip, label);
  return extractDetectionCheckpoint(root, label);
}

/** Runs the checkpoint's pickle with torch's rebuild functions wired to our storages. */
export function unpickleCheckpoint(zip: TorchZip, label: string): unknown {
  const pkl = zip.entries.get('data.pkl');
  if (!pkl) throw new AppError('FILE_UNREADABLE', `${label} has no data.pkl`);
  const storages = new Map<string, Storage>();
  // Decoding is bounded by the storages the file holds: views may share one, thousands may not.
  let storageBytes = 0;
  for (const [name, data] of zip.entries) if (name.startsWith('data/')) storageBytes += data.length;
  const decode = { bytes: 0, limit: MAX_TENSOR_DECODE_RATIO * storageBytes + 65536 };

  const persistentLoad = (pid: unknown): unknown => {
    if (!Array.isArray(pid) || pid[0] !== 'storage') throw new PickleError(`unknown persistent id ${brief(pid)}`);
    const [, type, rawKey] = pid as [string, unknown, unknown];
    const key = String(rawKey);
    const cached = storages.get(key);
    if (cached) return cached;
    const dtype = storageDtype(type);
    const data = zip.entries.get(`data/${key}`);
    if (!data) throw new AppError('FILE_UNREADABLE', `${label} is missing storage data/${key} (truncated?)`);
    const s: Storage = { __storage__: true, key, dtype, bytes: data };
    storages.set(key, s);
    return s;
  };

  const resolve = (module: string, name: string): ((...a: unknown[]) => unknown) | undefined => {
    const q = `${module}.${name}`;
    switch (q) {
      case 'collections.OrderedDict':
      case 'builtins.dict':
      case '__builtin__.dict':
        return (items?: unknown) => new Map(Array.isArray(items) ? (items as [unknown, unknown][]) : []);
      case 'builtins.set':
      case '__builtin__.set':
      case 'builtins.frozenset':
      case '__builtin__.frozenset':
        return (items?: unknown) => new Set(Array.isArray(items) ? items : []);
      case 'builtins.list':
      case '__builtin__.list':
        return (items?: unknown) => (Array.isArray(items) ? [...items] : []);
      case '_codecs.encode':
        return (s: unknown) => Uint8Array.from(String(s), (c) => c.charCodeAt(0) & 0xff);
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2':
        return (storage, offset, size, stride) => rebuildTensor(storage, offset, size, stride, label, decode);
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        return (data) => data;
      case 'torch.Size':
        return (dims) => dims;
      case 'torch.device':
        return (...a) => a.map(String).join(':');
      default:
        return undefined;
    }
  };

  try {
    return unpickle(pkl, { resolve, persistentLoad });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('FILE_UNREADABLE', `${label}: cannot read its pickle: ${(err as Error).message}`);
  }
}

/** A value from the file, short enough for an error message. */
function brief(v: unknown): string {
  try {
    const s = JSON.stringify(toPlain(v, plainBudget(64))) ?? String(v);
    return s.length > 200 ? `${s.slice(0, 200)}...` : s;
  } catch {
    return 'a large value';
  }
}

function storageDtype(type: unknown): TorchDtype {
  if (type instanceof PyGlobal) {
    const d = STORAGE_DTYPES[type.name] ?? (type.module === 'torch' ? TORCH_DTYPES[type.name] : undefined);
    if (d) return d;
    throw new PickleError(`unsupported storage type ${type.qualname}`);
  }
  if (typeof type === 'string' && TORCH_DTYPES[type]) return TORCH_DTYPES[type];
  throw new PickleError(`unsupported storage type ${brief(type)}`);
}

/**
 * `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...)` for contiguous
 * tensors. `decode` counts the bytes decoded so far against the file's limit.
 */
function rebuildTensor(storage: unknown, offset: unknown, size: unknown, stride: unknown, label: string, decode: { bytes: number; limit: number }): TensorView {
  if (typeof storage !== 'object' || storage === null || !(storage as Storage).__storage__) {
    throw new PickleError('tensor rebuild without a storage');
  }
  const s = storage as Storage;
  const bad = (why: string) => new AppError('FILE_UNREADABLE', `${label}: tensor in storage data/${s.key}: ${why}`);
  const wholeOrNull = (v: unknown): number | null => {
    const n = typeof v === 'bigint' ? Number(v) : v;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
  };
  const show = (v: unknown) => (Array.isArray(v) ? `[${v.map((x) => String(x)).join(', ')}]` : String(v));
  const shape = (Array.isArray(size) ? size : []).map(wholeOrNull);
  if (!Array.isArray(size) || shape.includes(null)) throw bad(`size ${show(size)} has a dimension that is not a whole number >= 0`);
  const strides = (Array.isArray(stride) ? stride : []).map(Number);
  const off = wholeOrNull(offset ?? 0);
  if (off === null) throw bad(`storage offset ${show(offset)} is not a whole number >= 0`);
  // Contiguous means row-major strides; dims of size 1 may carry any stride.
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expect) {
      throw new AppError(
        'FILE_UNREADABLE',
        `${label}: tensor in storage ${s.key} has non-contiguous strides [${strides.join(', ')}] for shape [${shape.join(', ')}]; boxtune reads contiguous tensors only`,
      );
    }
    expect *= shape[d]!;
  }
  const numel = shape.reduce<number>((a, b) => a * b!, 1);
  const item = ITEM_BYTES[s.dtype];
  if ((off + numel) * item > s.bytes.length) {
    throw bad(`offset ${off} + size ${show(size)} needs more bytes than its storage data/${s.key} holds (${s.bytes.length}; truncated?)`);
  }
  decode.bytes += numel * item;
  if (decode.bytes > decode.limit) {
    throw new AppError(
      'FILE_UNREADABLE',
      `${label}: tensors decode to more than ${MAX_TENSOR_DECODE_RATIO}x the bytes of their storages (${decode.bytes} so far): one storage read again and again is not a model`,
    );
  }
  return { dtype: s.dtype, shape: shape as number[], data: decodeStorage(s.bytes, s.dtype, off, numel) };
}

/** Little-endian storage bytes -> fp32 values. */
function decodeStorage(bytes: Uint8Array, dtype: TorchDtype, offset: number, n: number): Float32Array {
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const item = ITEM_BYTES[dtype];
  let p = offset * item;
  switch (dtype) {
    case 'float16': {
      const table = halfTable();
      for (let i = 0; i < n; i++, p += 2) out[i] = table[dv.getUint16(p, true)]!;
      break;
    }
    case 'bfloat16':
      {
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++, p += 2) bits[i] = dv.getUint16(p, true) << 16;
      }
      break;
    case 'float32':
      for (let i = 0; i < n; i++, p += 4) out[i] = dv.getFloat32(p, true);
      break;
    case 'float64':
      for (let i = 0; i < n; i++, p += 8) out[i] = dv.getFloat64(p, true);
      break;
    case 'int64':
      for (let i = 0; i < n; i++, p += 8) out[i] = Number(dv.getBigInt64(p, true));
      break;
    case 'int32':
      for (let i = 0; i < n; i++, p += 4) out[i] = dv.getInt32(p, true);
      break;
    case 'int16':
      for (let i = 0; i < n; i++, p += 2) out[i] = dv.getInt16(p, true);
      break;
    case 'int8':
      for (let i = 0; i < n; i++, p += 1) out[i] = dv.getInt8(p);
      break;
    case 'uint8':
    case 'bool':
      for (let i = 0; i < n; i++, p += 1) out[i] = dv.getUint8(p);
      break;
  }
  return out;
}

let HALF_TABLE: Float32Array | null = null;
/** All 65536 halves as fp32, built once (decoding is then a lookup). */
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  return HALF_TABLE;
}

/** IEEE 754 half -> number (exact; every half is representable in fp32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Picks the model out of the checkpoint dict and checks it is a detection model we can build. */
function extractDetectionCheckpoint(root: unknown, label: string): PtCheckpoint {
  let model: unknown;
  let source: 'ema' | 'model' = 'model';
  const top = root instanceof Map ? root : null;
  if (top) {
    const ema = top.get('ema');
    if (isPyObject(ema)) {
      model = ema;
      source = 'ema';
    } else model = top.get('model');
  } else model = root;
  if (!isPyObject(model)) {
    throw new AppError('INVALID_INPUT', `${label} is not an Ultralytics checkpoint: it has no 'model' (or 'ema') entry`);
  }

  /** A pickled field as plain values; all fields share one budget (a PickleError names the field). */
  const budget = plainBudget();
  const plain = (v: unknown, field: string): unknown => {
    try {
      return toPlain(v, budget);
    } catch (err) {
      if (err instanceof PickleError) throw new AppError('FILE_UNREADABLE', `${label}: ${field}: ${err.message}`);
      throw err;
    }
  };
  const yaml = plain(model.yaml, `${source}.yaml`);
  const modules = new Map<string, PtModule>();
  const stateDict = new Map<string, TensorView>();
  walkModule(model, '', { sd: stateDict, modules, visits: 0, steps: 0, label });

  const headClass = findHeadClass(model, yaml);
  const shortModel = model.__class__.split('.').pop() ?? model.__class__;
  const taskHead = headClass && OTHER_TASK_HEADS[headClass] ? headClass : OTHER_TASK_MODELS[shortModel];
  if (taskHead) {
    const what = OTHER_TASK_HEADS[taskHead] ?? taskHead;
    const article = /^[aeiou]/i.test(what) ? 'an' : 'a';
    throw new AppError(
      'INVALID_INPUT',
      `${label}: this is ${article} ${what} checkpoint (${taskHead} head); boxtune trains detection models only`,
      { head: taskHead, modelClass: model.__class__ },
    );
  }
  if (typeof yaml !== 'object' || yaml === null || Array.isArray(yaml)) {
    throw new AppError('INVALID_INPUT', `${label}: the model carries no yaml dict, so its architecture is unknown`);
  }
  try {
    parseModel(yaml); // an unknown or unsupported module fails here, naming the file
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.code, `${label}: ${err.message}`, err.details);
    throw err;
  }

  const names = classNamesFrom(model.names, `${label}: ${source}.names`);

  const strideRaw = model.stride;
  const stride = isTensorView(strideRaw) ? Array.from(strideRaw.data) : Array.isArray(strideRaw) ? strideRaw.map(Number) : [];

  const args = plain(model.args, `${source}.args`);
  const meta: Record<string, unknown> = {};
  let trainArgs: Record<string, unknown> | null = null;
  if (top) {
    for (const [k, v] of top) {
      const key = String(k);
      if (key === 'model' || key === 'ema' || key === 'optimizer') continue;
      if (key === 'train_args') trainArgs = (plain(v, key) as Record<string, unknown> | null) ?? null;
      else setOwn(meta, key, isTensorView(v) ? tensorMeta(v) : plain(v, key));
    }
  }

  return {
    source,
    modelClass: model.__class__,
    yaml: yaml as Record<string, unknown>,
    names,
    stride,
    args: typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {},
    trainArgs,
    meta,
    stateDict,
    modules,
  };
}

/** A top-level tensor (e.g. a metric) as numbers; a large one only by its shape. */
function tensorMeta(t: TensorView): number[] | string {
  return t.data.length <= 4096 ? Array.from(t.data) : `<tensor [${t.shape.join(', ')}]>`;
}

interface Walk {
  sd: Map<string, TensorView>;
  modules: Map<string, PtModule>;
  /** Modules visited so far, every path to a shared one counted. */
  visits: number;
  /** Attributes, tensors and children looked at so far (a shared dict is looked at on every visit). */
  steps: number;
  label: string;
}

/** Longest attribute / parameter / child name (torch's are a few characters). */
const MAX_NAME_LENGTH = 256;

/**
 * nn.Module.state_dict(): parameters, then persistent buffers, then children, depth first. Like
 * torch, a module reached by two paths is walked twice, so the walk is bounded: by depth (which
 * also ends a module that contains itself), by the number of visits (a module shared at every
 * level doubles them per level) and by the entries looked at (one big dict shared by every module).
 */
function walkModule(m: PyObject, prefix: string, w: Walk, depth = 0): void {
  const fail = (why: string) => new AppError('FILE_UNREADABLE', `${w.label}: ${why}`);
  if (++w.visits > MAX_MODULES) throw fail(`the model has more than ${MAX_MODULES} modules (one module shared at every level?); not an Ultralytics checkpoint`);
  if (depth > MAX_MODULE_DEPTH) throw fail(`modules nested more than ${MAX_MODULE_DEPTH} deep at ${prefix.replace(/\.$/, '')} (a module inside itself?)`);
  const { sd, modules } = w;
  const step = (n: number): void => {
    if ((w.steps += n) > MAX_MODULE_WALK_STEPS) throw fail(`its modules hold more than ${MAX_MODULE_WALK_STEPS} attributes, tensors and children; not an Ultralytics checkpoint`);
  };
  const name = (k: unknown): string => {
    const s = String(k);
    if (s.length > MAX_NAME_LENGTH) throw fail(`module ${prefix.replace(/\.$/, '') || '(the model)'} has a member named with ${s.length} characters`);
    return s;
  };
  const entries = Object.entries(m);
  step(entries.length);
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    if (k.startsWith('_') || k === 'training') continue;
    if (v === null || ['number', 'string', 'boolean'].includes(typeof v)) attrs[k] = v;
    else if (Array.isArray(v) && v.length <= 64 && v.every((x) => typeof x === 'number')) attrs[k] = v;
  }
  modules.set(prefix.replace(/\.$/, ''), { className: m.__class__, attrs });
  const params = m._parameters;
  if (params instanceof Map) {
    step(params.size);
    for (const [k, v] of params) if (isTensorView(v)) sd.set(prefix + name(k), v);
  }
  const buffers = m._buffers;
  const nonPersistent = m._non_persistent_buffers_set;
  if (buffers instanceof Map) {
    step(buffers.size);
    for (const [k, v] of buffers) {
      if (nonPersistent instanceof Set && nonPersistent.has(k)) continue;
      if (isTensorView(v)) sd.set(prefix + name(k), v);
    }
  }
  const children = m._modules;
  if (children instanceof Map) {
    step(children.size);
    for (const [k, v] of children as PyDict) if (isPyObject(v)) walkModule(v, `${prefix}${name(k)}.`, w, depth + 1);
  }
}

/** Short class name of the model's last layer (the head), from the modules or else the yaml. */
function findHeadClass(model: PyObject, yaml: unknown): string | null {
  const seq = model._modules instanceof Map ? model._modules.get('model') : undefined;
  if (isPyObject(seq) && seq._modules instanceof Map && seq._modules.size > 0) {
    const last = [...seq._modules.values()].pop();
    if (isPyObject(last)) return last.__class__.split('.').pop() ?? null;
  }
  const head = (yaml as { head?: unknown } | null)?.head;
  if (Array.isArray(head)) {
    const row = head[head.length - 1];
    if (Array.isArray(row) && typeof row[2] === 'string') return row[2];
  }
  return null;
}
