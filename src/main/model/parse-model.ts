/**
 * @file The model yaml -> layer list, the way Ultralytics' parse_model (ultralytics/nn/tasks.py,
 * 8.3) does it: depth/width/max_channels from `scales[scale]`, `make_divisible(min(c2, max_channels)
 * * width, 8)` channels, `max(round(n * depth), 1)` repeats (Python's round: half to even), the
 * C3k2 `c3k` flag forced on for m/l/x scales, `legacy` Detect heads unless a C3k2 came first,
 * Concat channel sums and Detect input channels. parseModel() is pure (no tfjs), so export and
 * the UI can read a model's shape without building it; buildLayer() instantiates one layer.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { AppError } from '../../shared/errors';
import { MAX_CLASSES, MAX_REPEATS } from './limits';
import { Bottleneck, C2f, C2PSA, C3, C3k2, SPPF, type Block } from './modules/block';
import { Concat, Conv, DWConv } from './modules/conv';
import { Detect } from './modules/head';
import { StateStore, upsampleNearest, type ForwardCtx } from './modules/nn';

/** One yaml row: [from, repeats, module, args]. */
export type YamlRow = [number | number[], number, string, unknown[]];

/** The model yaml dict an Ultralytics model carries (and yolo11n.yaml etc. on disk). */
export interface ModelYaml {
  nc: number;
  scales?: Record<string, number[]>;
  scale?: string;
  yaml_file?: string;
  depth_multiple?: number;
  width_multiple?: number;
  activation?: string;
  channels?: number;
  ch?: number;
  backbone: YamlRow[];
  head: YamlRow[];
  [key: string]: unknown;
}

/** Modules boxtune can build from a yaml row. */
export const SUPPORTED_MODULES = ['Conv', 'DWConv', 'Bottleneck', 'C2f', 'C3', 'C3k2', 'SPPF', 'C2PSA', 'Concat', 'nn.Upsample', 'Detect'] as const;
export type ModuleName = (typeof SUPPORTED_MODULES)[number];

/** Ultralytics' base_modules (c1, c2 prepended, c2 width-scaled) among the ones we build. */
const BASE_MODULES = new Set<string>(['Conv', 'DWConv', 'Bottleneck', 'C2f', 'C3', 'C3k2', 'SPPF', 'C2PSA']);
/** Ultralytics' repeat_modules (the repeat count becomes a constructor argument). */
const REPEAT_MODULES = new Set<string>(['C2f', 'C3', 'C3k2', 'C2PSA']);
/** Heads of other tasks: a clear "not a detection model" instead of "unknown module". */
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
/** Blocks that only exist inside others. */
const INNER_ONLY = new Set(['C3k', 'PSABlock', 'Attention', 'DFL']);

/** One layer of the parsed model. */
export interface LayerSpec {
  /** Index in the model (`model.<i>` in state-dict keys). */
  i: number;
  /** `from` as written in the yaml. */
  fromYaml: number | number[];
  /** Absolute source layer indices; -1 is the input image. */
  from: number[];
  module: ModuleName;
  /** Repeats after the depth gain. */
  n: number;
  /** Copies chained in an nn.Sequential (n for modules that take no repeat argument, else 1). */
  copies: number;
  /** Constructor arguments as Ultralytics passes them: (c1, c2, ...) for base modules. */
  args: unknown[];
  /** Output channels. */
  c2: number;
  /** Output stride relative to the input image (0 for the head). */
  stride: number;
  /** Where it came from, for messages: `backbone[3]` / `head[2]`. */
  where: string;
}

export interface ParsedModel {
  layers: LayerSpec[];
  nc: number;
  /** The scale letter used ('' when the yaml has no scales). */
  scale: string;
  depth: number;
  width: number;
  maxChannels: number;
  /** Input channels. */
  ch: number;
  /** Detect strides from the architecture, e.g. [8, 16, 32]. */
  stride: number[];
  /** Whether the Detect head is the YOLOv8 (legacy) one. */
  legacy: boolean;
  regMax: number;
}

/** make_divisible(x, divisor): the smallest multiple of `divisor` that is >= x. */
export function makeDivisible(x: number, divisor = 8): number {
  return Math.ceil(x / divisor) * divisor;
}

/** Python 3 round(): halves go to the even neighbour (round(2.5) == 2). */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** guess_model_scale: the n/s/m/l/x after yolo[v]<digits> in a yaml file name, or ''. */
export function guessModelScale(file: string): string {
  const stem = (file.split(/[\\/]/).pop() ?? '').replace(/\.[^.]*$/, '');
  return /yolo(e-)?v?\d+([nslmx])/.exec(stem)?.[2] ?? '';
}

function invalid(message: string): AppError {
  return new AppError('INVALID_INPUT', message);
}

/** Python-style index into a list (negative counts from the end). */
function pyAt<T>(arr: T[], i: number, where: string): T {
  const v = arr[i < 0 ? arr.length + i : i];
  if (v === undefined) throw invalid(`yaml ${where}: 'from' index ${i} points at no earlier layer`);
  return v;
}

/** A yaml string argument as parse_model reads it: a local (nc) or a Python literal, else the string. */
function evalArg(a: unknown, locals: Record<string, unknown>): unknown {
  if (typeof a !== 'string') return a;
  if (a in locals) return locals[a];
  if (a === 'None') return null;
  if (a === 'True') return true;
  if (a === 'False') return false;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(a.trim())) return Number(a);
  return a;
}

/** Checks the yaml's shape: backbone and head lists of [from, n, module, args] rows, an integer nc. */
export function validateYaml(y: unknown): ModelYaml {
  if (typeof y !== 'object' || y === null || Array.isArray(y)) throw invalid('model yaml is not a mapping');
  const d = y as Record<string, unknown>;
  for (const part of ['backbone', 'head'] as const) {
    const rows = d[part];
    if (!Array.isArray(rows)) throw invalid(`model yaml has no '${part}' list`);
    rows.forEach((row, j) => {
      if (!Array.isArray(row) || row.length !== 4) throw invalid(`yaml ${part}[${j}] must be [from, repeats, module, args]`);
      const [f, n, m, args] = row as unknown[];
      const fromOk = Number.isInteger(f) || (Array.isArray(f) && f.length > 0 && f.every((x) => Number.isInteger(x)));
      if (!fromOk) throw invalid(`yaml ${part}[${j}]: 'from' must be an integer or a list of integers`);
      if (typeof n !== 'number' || !(n >= 1)) throw invalid(`yaml ${part}[${j}]: repeats must be a number >= 1`);
      if (typeof m !== 'string') throw invalid(`yaml ${part}[${j}]: module must be a name`);
      if (!Array.isArray(args)) throw invalid(`yaml ${part}[${j}]: args must be a list`);
    });
  }
  if (!Number.isInteger(d.nc) || (d.nc as number) < 1) throw invalid(`model yaml needs an integer nc >= 1 (got ${String(d.nc)})`);
  if ((d.nc as number) > MAX_CLASSES) throw invalid(`model yaml has nc ${String(d.nc)}; boxtune reads at most ${MAX_CLASSES} classes`);
  return d as ModelYaml;
}

/** parse_model(d, ch): the layer list of a detection yaml. Throws AppError for what we cannot build. */
export function parseModel(yamlIn: unknown, opts: { ch?: number } = {}): ParsedModel {
  const d = validateYaml(yamlIn);
  const nc = d.nc;
  let depth = d.depth_multiple ?? 1.0;
  let width = d.width_multiple ?? 1.0;
  let maxChannels = Number.POSITIVE_INFINITY;
  let scale = d.scale ?? (d.yaml_file ? guessModelScale(d.yaml_file) : '');
  if (d.scales && Object.keys(d.scales).length > 0) {
    if (!scale) scale = Object.keys(d.scales)[0]!;
    const s = d.scales[scale];
    if (!Array.isArray(s) || s.length < 3) throw invalid(`model yaml has no scale '${scale}' in scales (${Object.keys(d.scales).join(', ')})`);
    [depth, width, maxChannels] = s as [number, number, number];
  }
  if (d.activation && !/^(nn\.)?SiLU\(\)$/.test(d.activation)) {
    throw invalid(`activation '${d.activation}' is not supported; boxtune builds SiLU models`);
  }
  const chIn = opts.ch ?? d.channels ?? d.ch ?? 3;

  let legacy = true;
  let legacyAtDetect = true;
  let ch: number[] = [chIn];
  const strides: number[] = [1]; // stride of each layer's output; index shifted like ch
  const layers: LayerSpec[] = [];
  let detectStride: number[] = [];
  let regMax = 16;
  const rows: [string, YamlRow][] = [
    ...d.backbone.map((r, j) => [`backbone[${j}]`, r] as [string, YamlRow]),
    ...d.head.map((r, j) => [`head[${j}]`, r] as [string, YamlRow]),
  ];

  rows.forEach(([where, [f, nRaw, m, argsRaw]], i) => {
    if (OTHER_TASK_HEADS[m]) {
      const what = OTHER_TASK_HEADS[m];
      const article = /^[aeiou]/i.test(what) ? 'an' : 'a';
      throw invalid(`this is ${article} ${what} model (${m} head in yaml ${where}); boxtune trains detection models only`);
    }
    if (INNER_ONLY.has(m)) throw invalid(`module '${m}' in yaml ${where} cannot be a layer of its own (Ultralytics builds it inside another block)`);
    if (!(SUPPORTED_MODULES as readonly string[]).includes(m)) {
      throw invalid(`unknown module '${m}' in yaml ${where}; boxtune builds ${SUPPORTED_MODULES.join(', ')}`);
    }
    const module = m as ModuleName;
    const locals = { nc };
    let args = argsRaw.map((a) => evalArg(a, locals));
    const n = nRaw > 1 ? Math.max(pyRound(nRaw * depth), 1) : nRaw;
    // Each repeat is a block built in a loop: a yaml from a file must not ask for a billion.
    if (n > MAX_REPEATS) throw invalid(`yaml ${where}: ${n} repeats; boxtune builds at most ${MAX_REPEATS}`);
    let copies = n;
    const fromList = Array.isArray(f) ? f : [f];
    const from = fromList.map((x) => (x < 0 ? i + x : x));
    if (from.some((x) => x >= i || x < -1)) throw invalid(`yaml ${where}: 'from' ${JSON.stringify(f)} must point at earlier layers`);
    const inStride = from.map((x) => (x === -1 ? 1 : strides[x + 1]!));
    let c2: number;
    let stride = inStride[0]!;

    if (BASE_MODULES.has(module)) {
      if (Array.isArray(f)) throw invalid(`yaml ${where}: ${module} takes one input, got from ${JSON.stringify(f)}`);
      const c1 = pyAt(ch, f, where);
      c2 = Number(args[0]);
      if (!Number.isFinite(c2)) throw invalid(`yaml ${where}: ${module} needs its output channels first, got ${JSON.stringify(argsRaw[0])}`);
      if (c2 !== nc) c2 = makeDivisible(Math.min(c2, maxChannels) * width, 8);
      args = [c1, c2, ...args.slice(1)];
      if (REPEAT_MODULES.has(module)) {
        args.splice(2, 0, n);
        copies = 1;
      }
      if (module === 'C3k2') {
        legacy = false;
        // Ultralytics: `if scale in "mlx": args[3] = True` (in Python, '' is "in" any string).
        if (typeof scale === 'string' && 'mlx'.includes(scale)) {
          while (args.length < 4) args.push(false);
          args[3] = true;
        }
      }
      if (module === 'Conv' || module === 'DWConv') stride *= Number(args[3] ?? 1);
    } else if (module === 'Concat') {
      c2 = fromList.reduce((acc: number, x) => acc + pyAt(ch, x, where), 0);
      if (new Set(inStride).size > 1) throw invalid(`yaml ${where}: Concat joins layers of different strides (${inStride.join(', ')})`);
    } else if (module === 'Detect') {
      if (i !== rows.length - 1) throw invalid(`yaml ${where}: Detect must be the last layer`);
      const chs = fromList.map((x) => pyAt(ch, x, where));
      args = [args[0], chs];
      if (typeof args[0] !== 'number' || args[0] !== nc) throw invalid(`yaml ${where}: Detect must be given nc`);
      c2 = 0;
      detectStride = inStride;
      stride = 0;
      regMax = typeof d.reg_max === 'number' ? d.reg_max : 16;
    } else {
      // nn.Upsample(size=None, scale_factor=2, mode='nearest')
      if (Array.isArray(f)) throw invalid(`yaml ${where}: nn.Upsample takes one input`);
      const [size, sf, mode] = args;
      if ((size !== null && size !== undefined) || typeof sf !== 'number' || !Number.isInteger(sf) || (mode ?? 'nearest') !== 'nearest') {
        throw invalid(`yaml ${where}: only nn.Upsample(None, <integer>, 'nearest') is supported`);
      }
      c2 = pyAt(ch, f, where);
      stride = stride / sf;
    }

    if (copies > 1 && !BASE_MODULES.has(module)) throw invalid(`yaml ${where}: ${module} cannot be repeated`);
    if (copies > 1 && args[0] !== args[1]) {
      throw invalid(`yaml ${where}: ${copies} chained copies of ${module} need equal in/out channels (got ${String(args[0])} -> ${c2})`);
    }
    layers.push({ i, fromYaml: f, from, module, n, copies, args, c2, stride, where });
    if (i === 0) ch = [];
    ch.push(c2);
    strides.push(stride);
    if (module === 'Detect') legacyAtDetect = legacy;
  });

  const last = layers[layers.length - 1];
  if (!last || last.module !== 'Detect') throw invalid('model yaml must end with a Detect head');
  return { layers, nc, scale, depth, width, maxChannels, ch: chIn, stride: detectStride, legacy: legacyAtDetect, regMax };
}

/** A built layer: runs on the outputs of its `from` layers. */
export interface BuiltLayer {
  spec: LayerSpec;
  /** Blocks chained for single-input layers (length `copies`); empty for Concat/Upsample/Detect. */
  blocks: Block[];
  detect: Detect | null;
}

/** Instantiates one parsed layer, registering its state under `model.<i>`. */
export function buildLayer(spec: LayerSpec, store: StateStore, parsed: ParsedModel): BuiltLayer {
  const base = `model.${spec.i}`;
  const a = spec.args;
  const num = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);
  const bool = (v: unknown, dflt: boolean): boolean => (typeof v === 'boolean' ? v : dflt);
  const make = (name: string): Block => {
    const c1 = a[0] as number;
    const c2 = a[1] as number;
    switch (spec.module) {
      case 'Conv':
        return new Conv(store, name, c1, c2, num(a[2], 1), num(a[3], 1), (a[4] as number | null | undefined) ?? null, num(a[5], 1), num(a[6], 1), bool(a[7], true));
      case 'DWConv':
        return new DWConv(store, name, c1, c2, num(a[2], 1), num(a[3], 1), num(a[4], 1), bool(a[5], true));
      case 'Bottleneck': {
        const k = Array.isArray(a[4]) ? (a[4] as [number, number]) : ([3, 3] as [number, number]);
        return new Bottleneck(store, name, c1, c2, bool(a[2], true), num(a[3], 1), k, num(a[5], 0.5));
      }
      case 'C2f':
        return new C2f(store, name, c1, c2, num(a[2], 1), bool(a[3], false), num(a[4], 1), num(a[5], 0.5));
      case 'C3':
        return new C3(store, name, c1, c2, num(a[2], 1), bool(a[3], true), num(a[4], 1), num(a[5], 0.5));
      case 'C3k2':
        return new C3k2(store, name, c1, c2, num(a[2], 1), bool(a[3], false), num(a[4], 0.5), num(a[5], 1), bool(a[6], true));
      case 'SPPF':
        if (a.length > 3) throw invalid(`yaml ${spec.where}: SPPF takes (c2, k) only`);
        return new SPPF(store, name, c1, c2, num(a[2], 5));
      case 'C2PSA':
        return new C2PSA(store, name, c1, c2, num(a[2], 1), num(a[3], 0.5));
      default:
        throw new Error(`not a block: ${spec.module}`);
    }
  };
  if (spec.module === 'Concat' || spec.module === 'nn.Upsample') return { spec, blocks: [], detect: null };
  if (spec.module === 'Detect') {
    const [nc, chs] = a as [number, number[]];
    return { spec, blocks: [], detect: new Detect(store, base, nc, chs, parsed.legacy, parsed.regMax) };
  }
  const blocks = spec.copies > 1 ? Array.from({ length: spec.copies }, (_, j) => make(`${base}.${j}`)) : [make(base)];
  return { spec, blocks, detect: null };
}

/** Runs a non-head layer on its inputs (already gathered from `from`). [B,H,W,C]... -> [B,H',W',c2] */
export function runLayer(layer: BuiltLayer, inputs: tf.Tensor4D[], ctx: ForwardCtx): tf.Tensor4D {
  const { spec } = layer;
  if (spec.module === 'Concat') return new Concat(Number(spec.args[0] ?? 1)).forward(inputs);
  if (spec.module === 'nn.Upsample') return upsampleNearest(inputs[0]!, spec.args[1] as number);
  let x = inputs[0]!;
  for (const b of layer.blocks) x = b.forward(x, ctx);
  return x;
}

/** A model's layers and state entries from its yaml, without allocating any tensor. */
export interface ModelSummary {
  parsed: ParsedModel;
  /** Parameters (what Ultralytics' model summary counts). */
  params: number;
  /** Every state-dict entry with its torch shape. */
  entries: { name: string; shape: number[] }[];
}

/** Summarises the model a yaml describes (parameter count, state-dict names and shapes). */
export function describeModel(yaml: unknown): ModelSummary {
  const parsed = parseModel(yaml);
  const store = new StateStore({ uniform: () => new Float32Array(0) }, true);
  for (const spec of parsed.layers) buildLayer(spec, store, parsed);
  let params = 0;
  const entries: ModelSummary['entries'] = [];
  for (const e of store.entries.values()) {
    entries.push({ name: e.name, shape: e.torchShape });
    if (e.role === 'param' || e.role === 'fixed') params += e.torchShape.reduce((a, b) => a * b, 1);
  }
  return { parsed, params, entries };
}
