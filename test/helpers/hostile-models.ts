/**
 * @file Hostile model files for tests, made in memory: a zip writer whose declared sizes the test
 * controls (zip bombs, sizes that lie), deflate streams that inflate far beyond their size, pickles
 * that share one object at every level (exponential to walk without a visited set), and the
 * smallest checkpoints that reach a given field of the .pt reader.
 */
import zlib from 'node:zlib';
import { tinyYolo11Yaml } from './model-fixtures';
import { dict, fromJson, Pickler, pyModule, shared, type Py, type PyDict, type PyObj, type PyShared } from './model-pt-writer';
import { varint as pbVarintBytes } from './protobuf-writer';

export interface ZipEntrySpec {
  name: string;
  /** The bytes the entry holds in the file (already deflated when `deflated`). */
  stored: Uint8Array;
  deflated?: boolean;
  /** Uncompressed size written in the headers; defaults to the true size for stored entries. */
  declaredSize?: number;
}

/** A zip of the given entries with no CRCs (our reader does not check them) and honest offsets. */
export function writeZip(entries: ZipEntrySpec[]): Uint8Array {
  const enc = new TextEncoder();
  const local: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const usize = e.declaredSize ?? e.stored.length;
    const method = e.deflated ? 8 : 0;
    const lh = new DataView(new ArrayBuffer(30));
    lh.setUint32(0, 0x04034b50, true);
    lh.setUint16(4, 20, true);
    lh.setUint16(8, method, true);
    lh.setUint16(12, 0x21, true); // 1980-01-01
    lh.setUint32(18, e.stored.length, true);
    lh.setUint32(22, usize, true);
    lh.setUint16(26, name.length, true);
    local.push(new Uint8Array(lh.buffer), name, e.stored);
    const ch = new DataView(new ArrayBuffer(46));
    ch.setUint32(0, 0x02014b50, true);
    ch.setUint16(4, 20, true);
    ch.setUint16(6, 20, true);
    ch.setUint16(10, method, true);
    ch.setUint16(14, 0x21, true);
    ch.setUint32(20, e.stored.length, true);
    ch.setUint32(24, usize, true);
    ch.setUint16(28, name.length, true);
    ch.setUint32(42, offset, true);
    central.push(new Uint8Array(ch.buffer), name);
    offset += 30 + name.length + e.stored.length;
  }
  const cdSize = central.reduce((a, b) => a + b.length, 0);
  const eocd = new DataView(new ArrayBuffer(22));
  eocd.setUint32(0, 0x06054b50, true);
  eocd.setUint16(8, entries.length, true);
  eocd.setUint16(10, entries.length, true);
  eocd.setUint32(12, cdSize, true);
  eocd.setUint32(16, offset, true);
  return concat([...local, ...central, new Uint8Array(eocd.buffer)]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
  let p = 0;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/**
 * A raw deflate stream that inflates to `mib` MiB of zeros in about `mib` KiB: one 1 MiB chunk
 * compressed once with a full flush (self-contained, byte-aligned, not final), repeated, then an
 * empty final block. Takes milliseconds where compressing the zeros would take a second.
 */
export function deflatedZeros(mib: number): Uint8Array {
  const chunk = zlib.deflateRawSync(Buffer.alloc(1 << 20), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  return concat([...Array.from({ length: mib }, () => chunk), Uint8Array.of(0x03, 0x00)]);
}

/** A torch zip (`archive/data.pkl`, storages, version) as entries, so a test can alter one. */
export function torchZipEntries(root: Py): ZipEntrySpec[] {
  const p = new Pickler();
  const pkl = p.dump(root);
  return [
    { name: 'archive/data.pkl', stored: pkl },
    ...p.storages.map((s) => ({ name: `archive/data/${s.key}`, stored: s.bytes })),
    { name: 'archive/version', stored: new TextEncoder().encode('3\n') },
  ];
}

/**
 * The smallest Ultralytics-style checkpoint the .pt reader accepts: a DetectionModel with a valid
 * tiny yaml and no weights. `model` adds to (or replaces) the model's attributes, `top` to the
 * checkpoint dict, so a test reaches exactly the field it attacks.
 */
export function minimalCheckpoint(parts: { model?: Record<string, Py>; modules?: [string, PyObj | PyShared][]; top?: Record<string, Py> } = {}): PyDict {
  const model = pyModule('ultralytics.nn.tasks.DetectionModel', {
    modules: parts.modules ?? [],
    attrs: { yaml: fromJson(tinyYolo11Yaml(2)), names: dict([[0, 'a'] as [Py, Py], [1, 'b'] as [Py, Py]]), ...(parts.model ?? {}) },
  });
  return dict({ date: '2026-01-01', model, ema: null, ...(parts.top ?? {}) });
}

/** Lists nested `levels` deep where every level holds the level below twice: 2^levels leaves, a few bytes per level. */
export function sharedLists(levels: number): Py {
  let v: Py = ['leaf'];
  for (let i = 0; i < levels; i++) {
    const s = shared(v);
    v = [s, s];
  }
  return v;
}

/** nn.Modules nested `levels` deep where every module holds the one below under two names. */
export function sharedModules(levels: number): PyObj {
  let m: PyObj = pyModule('torch.nn.modules.linear.Identity');
  for (let i = 0; i < levels; i++) {
    const s = shared(m);
    m = pyModule('torch.nn.modules.container.Sequential', { modules: [['0', s], ['1', s]] });
  }
  return m;
}

/** nn.Modules nested `levels` deep, one child each (no sharing: only the depth is hostile). */
export function deepModules(levels: number): PyObj {
  let m: PyObj = pyModule('torch.nn.modules.linear.Identity');
  for (let i = 0; i < levels; i++) m = pyModule('torch.nn.modules.container.Sequential', { modules: [['0', m]] });
  return m;
}

/** An ONNX ModelProto holding only metadata_props (key, value): 28 bytes for `{4294967294: 'x'}`. */
export function onnxWithMetadata(props: [string, string][]): Uint8Array {
  const enc = new TextEncoder();
  const field = (num: number, body: Uint8Array): Uint8Array => concat([Uint8Array.of((num << 3) | 2), varint(body.length), body]);
  return concat(props.map(([k, v]) => field(14, concat([field(1, enc.encode(k)), field(2, enc.encode(v))]))));
}

function varint(n: number): Uint8Array {
  return Uint8Array.from(pbVarintBytes(n));
}

/** A safetensors file from a header object (written as JSON, padded to 8 bytes) and its data. */
export function safetensorsFile(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(head.length), true);
  return concat([len, head, data]);
}

/**
 * An honest but big ONNX model: `base` with `n` more Relu nodes in its graph (14 bytes each), for
 * inspections that take real time and memory. The graph field is rewritten with its new length.
 */
export function onnxWithExtraNodes(base: Uint8Array, n: number): Uint8Array {
  const enc = new TextEncoder();
  const field = (num: number, body: Uint8Array): Uint8Array => concat([Uint8Array.of((num << 3) | 2), varint(body.length), body]);
  const node = field(1, concat([field(1, enc.encode('x')), field(2, enc.encode('y')), field(4, enc.encode('Relu'))]));
  const nodes = new Uint8Array(node.length * n);
  for (let i = 0; i < n; i++) nodes.set(node, i * node.length);
  const parts: Uint8Array[] = [];
  for (let pos = 0; pos < base.length; ) {
    const [tag, p] = readVarintAt(base, pos);
    if ((tag & 7) === 2) {
      const [len, q] = readVarintAt(base, p);
      parts.push(tag >> 3 === 7 ? field(7, concat([base.subarray(q, q + len), nodes])) : base.subarray(pos, q + len));
      pos = q + len;
    } else if ((tag & 7) === 0) {
      const [, q] = readVarintAt(base, p);
      parts.push(base.subarray(pos, q));
      pos = q;
    } else throw new Error(`unexpected wire type ${tag & 7}`);
  }
  return concat(parts);
}

function readVarintAt(b: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let scale = 1;
  for (;;) {
    const byte = b[pos++]!;
    v += (byte & 0x7f) * scale;
    if (!(byte & 0x80)) return [v, pos];
    scale *= 128;
  }
}
