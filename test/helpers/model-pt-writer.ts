/**
 * @file Writes small torch-style checkpoints by hand, for tests: a pickle (protocol 2, the opcodes
 * torch.save emits: GLOBAL with memo reuse, NEWOBJ + BUILD for modules, REDUCE for OrderedDict and
 * tensor rebuilds, BINPERSID storages) plus raw little-endian storages, in an uncompressed zip
 * under one top folder. Enough to fake an Ultralytics checkpoint of any head class.
 */
import { zipSync } from 'fflate';

/** Python values the writer knows. */
export type Py = null | boolean | number | bigint | string | Py[] | PyTuple | PyDict | PyObj | PyCall | PyFloat | PyTensor | PyShared;
export interface PyTuple {
  __tuple__: Py[];
}
export type PyDict = Map<Py, Py>;
/** `cls.__new__(cls)` then BUILD with `state` (how pickle stores nn.Modules). */
export interface PyObj {
  __cls__: string;
  state: PyDict;
}
/** `fn(*args)` via REDUCE. */
export interface PyCall {
  __call__: string;
  args: Py[];
}
/** A float that happens to be integral (written as BINFLOAT, not an int). */
export interface PyFloat {
  __float__: number;
}
/** One Python object referenced from several places: written once, then fetched from the memo (BINGET). */
export interface PyShared {
  __shared__: Py;
}
export interface PyTensor {
  __tensor__: { data: Float32Array; shape: number[]; dtype: 'float32' | 'float16' | 'int64'; parameter?: boolean; rebuild?: RebuildOverrides };
}
/** What a hostile test writes into a tensor's rebuild call instead of the honest values. */
export interface RebuildOverrides {
  offset?: Py;
  size?: Py[];
  stride?: Py[];
  /** Reuse the storage of an earlier tensor (its key) instead of writing a new one. */
  storageKey?: string;
}

export const tuple = (...items: Py[]): PyTuple => ({ __tuple__: items });
/** Wrap a value once and use the wrapper twice to pickle the same object twice (as pickle's memo does). */
export const shared = (v: Py): PyShared => ({ __shared__: v });
export const pyFloat = (x: number): PyFloat => ({ __float__: x });
export const dict = (entries: Record<string, Py> | [Py, Py][]): PyDict =>
  new Map(Array.isArray(entries) ? entries : Object.entries(entries));
export const odict = (entries: Record<string, Py> | [Py, Py][]): PyCall & { items: PyDict } => ({
  __call__: 'collections.OrderedDict',
  args: [],
  items: dict(entries),
});
export const tensor = (data: Float32Array, shape: number[], dtype: PyTensor['__tensor__']['dtype'] = 'float32', parameter = false): PyTensor => ({
  __tensor__: { data, shape, dtype, parameter },
});

function isObj(v: unknown, key: string): boolean {
  return typeof v === 'object' && v !== null && key in v;
}

/** float -> IEEE half bits (round to nearest even). */
export function floatToHalf(f: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setFloat32(0, f);
  const x = buf.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Pickles `root` (protocol 2) and collects tensor storages. */
export class Pickler {
  private out: number[] = [];
  private memo = 0;
  private globals = new Map<string, number>();
  private sharedAt = new Map<PyShared, number>();
  readonly storages: { key: string; bytes: Uint8Array }[] = [];

  constructor(private readonly opts: { frame?: boolean } = {}) {}

  dump(root: Py): Uint8Array {
    this.out = [0x80, 2];
    this.write(root);
    this.out.push(0x2e); // STOP
    return Uint8Array.from(this.out);
  }

  private u8(...b: number[]): void {
    this.out.push(...b);
  }
  private u32(v: number): void {
    this.out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  private put(): void {
    const i = this.memo++;
    if (i < 256) this.u8(0x71, i); // BINPUT
    else {
      this.u8(0x72); // LONG_BINPUT
      this.u32(i);
    }
  }
  private get(i: number): void {
    if (i < 256) this.u8(0x68, i); // BINGET
    else {
      this.u8(0x6a); // LONG_BINGET
      this.u32(i);
    }
  }
  private str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u8(0x58); // BINUNICODE
    this.u32(b.length);
    this.out.push(...b);
  }
  private global(q: string): void {
    const at = this.globals.get(q);
    if (at !== undefined) return this.get(at);
    const dot = q.lastIndexOf('.');
    this.u8(0x63, ...new TextEncoder().encode(`${q.slice(0, dot)}\n${q.slice(dot + 1)}\n`)); // GLOBAL
    this.globals.set(q, this.memo);
    this.put();
  }
  private int(v: number | bigint): void {
    const n = BigInt(v);
    if (n >= 0n && n < 256n) return this.u8(0x4b, Number(n)); // BININT1
    if (n >= 0n && n < 65536n) return this.u8(0x4d, Number(n) & 0xff, Number(n) >> 8); // BININT2
    if (n >= -(2n ** 31n) && n < 2n ** 31n) {
      this.u8(0x4a); // BININT
      this.u32(Number(BigInt.asUintN(32, n)));
      return;
    }
    const bytes: number[] = [];
    let x = n;
    for (;;) {
      bytes.push(Number(BigInt.asUintN(8, x)));
      x >>= 8n;
      const last = bytes[bytes.length - 1]!;
      if ((x === 0n && !(last & 0x80)) || (x === -1n && last & 0x80)) break;
    }
    this.u8(0x8a, bytes.length, ...bytes); // LONG1
  }
  private float(v: number): void {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setFloat64(0, v, false);
    this.u8(0x47, ...new Uint8Array(dv.buffer)); // BINFLOAT
  }
  private tupleOf(items: Py[]): void {
    if (items.length === 0) this.u8(0x29);
    else if (items.length <= 3) {
      for (const it of items) this.write(it);
      this.u8([0x85, 0x86, 0x87][items.length - 1]!);
    } else {
      this.u8(0x28);
      for (const it of items) this.write(it);
      this.u8(0x74);
    }
    this.put();
  }
  private dictItems(items: PyDict): void {
    if (items.size === 0) return;
    this.u8(0x28); // MARK
    for (const [k, v] of items) {
      this.write(k);
      this.write(v);
    }
    this.u8(0x75); // SETITEMS
  }

  write(v: Py): void {
    if (v === null) return this.u8(0x4e);
    if (v === true) return this.u8(0x88);
    if (v === false) return this.u8(0x89);
    if (typeof v === 'bigint') return this.int(v);
    if (typeof v === 'number') return Number.isInteger(v) ? this.int(v) : this.float(v);
    if (typeof v === 'string') {
      this.str(v);
      return this.put();
    }
    if (Array.isArray(v)) {
      this.u8(0x5d); // EMPTY_LIST
      this.put();
      if (v.length) {
        this.u8(0x28);
        for (const it of v) this.write(it);
        this.u8(0x65); // APPENDS
      }
      return;
    }
    if (v instanceof Map) {
      this.u8(0x7d); // EMPTY_DICT
      this.put();
      return this.dictItems(v);
    }
    if (isObj(v, '__shared__')) {
      const at = this.sharedAt.get(v as PyShared);
      if (at !== undefined) return this.get(at);
      this.write((v as PyShared).__shared__);
      this.sharedAt.set(v as PyShared, this.memo);
      return this.put(); // the finished object is on top of the stack
    }
    if (isObj(v, '__float__')) return this.float((v as PyFloat).__float__);
    if (isObj(v, '__tuple__')) return this.tupleOf((v as PyTuple).__tuple__);
    if (isObj(v, '__cls__')) {
      const o = v as PyObj;
      this.global(o.__cls__);
      this.u8(0x29, 0x81); // EMPTY_TUPLE NEWOBJ
      this.put();
      this.write(o.state);
      this.u8(0x62); // BUILD
      return;
    }
    if (isObj(v, '__call__')) {
      const c = v as PyCall & { items?: PyDict };
      this.global(c.__call__);
      this.tupleOf(c.args);
      this.u8(0x52); // REDUCE
      this.put();
      if (c.items) this.dictItems(c.items);
      return;
    }
    if (isObj(v, '__tensor__')) return this.tensor((v as PyTensor).__tensor__);
    throw new Error(`cannot pickle ${String(v)}`);
  }

  private tensor(t: PyTensor['__tensor__']): void {
    const key = t.rebuild?.storageKey ?? String(this.storages.length);
    const n = t.data.length;
    let bytes: Uint8Array;
    let storage: string;
    if (t.dtype === 'float16') {
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) h[i] = floatToHalf(t.data[i]!);
      bytes = new Uint8Array(h.buffer);
      storage = 'torch.HalfStorage';
    } else if (t.dtype === 'int64') {
      const b = new BigInt64Array(n);
      for (let i = 0; i < n; i++) b[i] = BigInt(Math.round(t.data[i]!));
      bytes = new Uint8Array(b.buffer);
      storage = 'torch.LongStorage';
    } else {
      bytes = new Uint8Array(Float32Array.from(t.data).buffer);
      storage = 'torch.FloatStorage';
    }
    if (t.rebuild?.storageKey === undefined) this.storages.push({ key, bytes });
    const stride: number[] = [];
    let s = 1;
    for (let d = t.shape.length - 1; d >= 0; d--) {
      stride[d] = s;
      s *= t.shape[d]!;
    }
    if (t.parameter) this.global('torch._utils._rebuild_parameter');
    this.global('torch._utils._rebuild_tensor_v2');
    // args: (persistent storage, offset, size, stride, requires_grad, backward_hooks)
    this.u8(0x28); // MARK (args)
    this.u8(0x28); // MARK (persistent id: ('storage', StorageType, key, location, numel))
    this.str('storage');
    this.put();
    this.global(storage);
    this.str(key);
    this.put();
    this.str('cpu');
    this.put();
    this.int(n);
    this.u8(0x74); // TUPLE (the pid)
    this.put();
    this.u8(0x51); // BINPERSID
    this.write(t.rebuild?.offset ?? 0);
    this.tupleOf(t.rebuild?.size ?? t.shape);
    this.tupleOf(t.rebuild?.stride ?? stride);
    this.write(false);
    this.write(odict({}));
    this.u8(0x74); // TUPLE (the args)
    this.put();
    this.u8(0x52); // REDUCE
    this.put();
    if (t.parameter) {
      this.write(true);
      this.write(odict({}));
      this.u8(0x87, 0x52); // TUPLE3 (tensor, requires_grad, hooks) REDUCE
      this.put();
    }
  }
}

/** A torch.save-style zip: `<top>/data.pkl`, `<top>/data/<key>`, `<top>/version`, stored uncompressed. */
export function writeTorchZip(root: Py, top = 'archive'): Uint8Array {
  const p = new Pickler();
  const pkl = p.dump(root);
  const files: Record<string, [Uint8Array, { level: 0 }]> = {
    [`${top}/data.pkl`]: [pkl, { level: 0 }],
    [`${top}/version`]: [new TextEncoder().encode('3\n'), { level: 0 }],
  };
  for (const s of p.storages) files[`${top}/data/${s.key}`] = [s.bytes, { level: 0 }];
  return zipSync(files);
}

/** An nn.Module as pickle stores it: its __dict__ with _parameters / _buffers / _modules. */
export function pyModule(cls: string, parts: { params?: [string, PyTensor][]; buffers?: [string, PyTensor][]; modules?: [string, PyObj | PyShared][]; attrs?: Record<string, Py> } = {}): PyObj {
  return {
    __cls__: cls,
    state: dict({
      training: false,
      _parameters: odict(parts.params ?? []),
      _buffers: odict(parts.buffers ?? []),
      _non_persistent_buffers_set: { __call__: '__builtin__.set', args: [[]] },
      _modules: odict(parts.modules ?? []),
      ...(parts.attrs ?? {}),
    }),
  };
}

/** A plain JSON value (a yaml) as Python data: objects -> dicts, arrays -> lists. */
export function fromJson(v: unknown): Py {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(fromJson);
  if (typeof v === 'object') return dict(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromJson(x)] as [Py, Py]));
  if (typeof v === 'number' && !Number.isInteger(v)) return v;
  return v as Py;
}

export interface FakeCheckpointOptions {
  /** Model class, e.g. ultralytics.nn.tasks.SegmentationModel. */
  modelClass?: string;
  /** Class of the last layer (the head). */
  headClass?: string;
  /** Storage dtype for float tensors. */
  dtype?: 'float32' | 'float16';
  /** Put the model under 'ema' (with 'model' None), as a training checkpoint does. */
  asEma?: boolean;
  /** Top folder inside the zip. */
  top?: string;
  /** Class of every other module by its state-dict prefix, when a test cares. */
  classOf?: (prefix: string) => string | undefined;
}

/**
 * An Ultralytics-style checkpoint dict holding a model whose weights are `stateDict` (torch layout)
 * and whose yaml, names and stride are given. Module classes follow the state-dict names:
 * `*.bn` are BatchNorm2d (eps 1e-3, momentum 0.03), `model` a Sequential, the last layer `headClass`.
 */
export function fakeUltralyticsCheckpoint(
  yaml: Record<string, unknown>,
  names: string[],
  stride: number[],
  stateDict: Map<string, { shape: number[]; data: Float32Array; dtype?: string }>,
  opts: FakeCheckpointOptions = {},
): Uint8Array {
  interface Node {
    params: [string, PyTensor][];
    buffers: [string, PyTensor][];
    children: Map<string, Node>;
  }
  const newNode = (): Node => ({ params: [], buffers: [], children: new Map() });
  const root = newNode();
  for (const [key, t] of stateDict) {
    const parts = key.split('.');
    const leaf = parts.pop()!;
    let node = root;
    for (const p of parts) {
      let c = node.children.get(p);
      if (!c) node.children.set(p, (c = newNode()));
      node = c;
    }
    const isBuffer = /^(running_mean|running_var|num_batches_tracked)$/.test(leaf);
    const dtype = t.dtype === 'int64' ? 'int64' : (opts.dtype ?? 'float32');
    const pt = tensor(t.data, t.shape, dtype, !isBuffer);
    (isBuffer ? node.buffers : node.params).push([leaf, pt]);
  }
  const layerCount = Math.max(...[...(root.children.get('model')?.children.keys() ?? [])].map(Number)) + 1;
  const toPy = (node: Node, prefix: string): PyObj => {
    const last = prefix === `model.${layerCount - 1}`;
    let cls = opts.classOf?.(prefix);
    const attrs: Record<string, Py> = {};
    if (!cls) {
      if (prefix === 'model') cls = 'torch.nn.modules.container.Sequential';
      else if (last) cls = opts.headClass ?? 'ultralytics.nn.modules.head.Detect';
      else if (prefix.endsWith('.bn')) cls = 'torch.nn.modules.batchnorm.BatchNorm2d';
      else if (node.children.size === 0 && node.params.some(([n]) => n === 'weight')) cls = 'torch.nn.modules.conv.Conv2d';
      else cls = 'ultralytics.nn.modules.block.Block';
    }
    if (cls.endsWith('BatchNorm2d')) Object.assign(attrs, { eps: 0.001, momentum: 0.03, num_features: node.params[0]?.[1].__tensor__.shape[0] ?? 0 });
    if (last) Object.assign(attrs, { nc: names.length, reg_max: 16, stride: tensor(Float32Array.from(stride), [stride.length]) });
    return pyModule(cls, {
      params: node.params,
      buffers: node.buffers,
      modules: [...node.children].map(([k, c]) => [k, toPy(c, prefix ? `${prefix}.${k}` : k)] as [string, PyObj]),
      attrs,
    });
  };
  const model = toPy(root, '');
  model.__cls__ = opts.modelClass ?? 'ultralytics.nn.tasks.DetectionModel';
  model.state.set('yaml', fromJson(yaml));
  model.state.set('names', dict(names.map((n, i) => [i, n] as [Py, Py])));
  model.state.set('stride', tensor(Float32Array.from(stride), [stride.length]));
  model.state.set('args', dict({ task: 'detect', imgsz: 640 }));
  const ckpt = dict({
    date: '2026-01-01T00:00:00',
    version: '8.3.186',
    epoch: -1,
    best_fitness: null,
    model: opts.asEma ? null : model,
    ema: opts.asEma ? model : null,
    updates: opts.asEma ? 10 : null,
    optimizer: null,
    train_args: dict({ epochs: 3, lr0: pyFloat(0.01) as Py, imgsz: 64 }),
  });
  return writeTorchZip(ckpt, opts.top ?? 'archive');
}
