/**
 * @file Custom metadata of an ONNX model (ModelProto.metadata_props), which onnxruntime-node does
 * not expose, read with a minimal protobuf reader; and the Ultralytics entries in it (names,
 * stride, imgsz, task, batch), whose values are Python literals (`{0: 'person', ...}`, `[640, 640]`).
 *
 * ModelProto fields used: 14 metadata_props, repeated StringStringEntryProto { 1: key, 2: value }.
 * Everything else (the graph, field 7, is most of the file) is skipped by its length.
 *
 * The file may be hostile: class indices and counts are checked (see class-names.ts) and literals
 * may not nest without end, so a crafted names entry gets an error instead of a giant array.
 */
import { classNamesFrom } from '../class-names';

/** What Ultralytics writes into an exported model's metadata, parsed. */
export interface ModelMetadata {
  /** Class names by id (index = class id). */
  names: string[];
  /** Largest stride of the model (Ultralytics stores one number, e.g. 32). */
  stride: number | null;
  /** Export image size [height, width]. */
  imgsz: [number, number] | null;
  /** 'detect', 'segment', ... */
  task: string | null;
  batch: number | null;
  /** Every key and value as stored. */
  raw: Record<string, string>;
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Reads a protobuf varint at `pos`; returns [value, next position]. Values up to 2^53. */
export function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new RangeError('truncated varint');
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, pos];
    scale *= 128;
  }
  throw new RangeError('varint longer than 10 bytes');
}

/** One field of a message: its number, wire type, and for length-delimited fields the bytes. */
interface Field {
  field: number;
  wire: number;
  /** Varint value, or the start of the bytes of a length-delimited field. */
  value: number;
  /** Length-delimited fields: end of the bytes. */
  end: number;
}

/** Walks the top-level fields of a message in buf[start, end). */
function* fields(buf: Uint8Array, start = 0, end = buf.length): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    switch (wire) {
      case WIRE_VARINT: {
        const [v, q] = readVarint(buf, pos);
        pos = q;
        yield { field, wire, value: v, end: pos };
        break;
      }
      case WIRE_I64:
        pos += 8;
        break;
      case WIRE_I32:
        pos += 4;
        break;
      case WIRE_LEN: {
        const [len, q] = readVarint(buf, pos);
        const s = q;
        pos = q + len;
        if (pos > end) throw new RangeError(`field ${field} runs past the end of the message`);
        yield { field, wire, value: s, end: pos };
        break;
      }
      default:
        throw new RangeError(`unsupported protobuf wire type ${wire} (field ${field}): not an ONNX model?`);
    }
  }
  if (pos !== end) throw new RangeError('message ends inside a field');
}

const utf8 = new TextDecoder('utf-8');

/** metadata_props of an ONNX ModelProto, as a key -> value map (later keys win). */
export function readOnnxMetadataProps(model: Uint8Array): Record<string, string> {
  const props: Record<string, string> = {};
  for (const f of fields(model)) {
    if (f.field !== 14 || f.wire !== WIRE_LEN) continue;
    let key = '';
    let value = '';
    for (const e of fields(model, f.value, f.end)) {
      if (e.wire !== WIRE_LEN) continue;
      if (e.field === 1) key = utf8.decode(model.subarray(e.value, e.end));
      else if (e.field === 2) value = utf8.decode(model.subarray(e.value, e.end));
    }
    props[key] = value;
  }
  return props;
}

/**
 * Ultralytics' entries parsed from the metadata map; missing or odd values become null / []. A
 * names entry with an index or a count no model has is an error (an AppError saying "metadata
 * 'names': ..."; callers prefix the file).
 */
export function parseUltralyticsMetadata(raw: Record<string, string>): ModelMetadata {
  const names = raw.names ? classNamesFrom(parsePyLiteral(raw.names), "metadata 'names'") : [];
  const num = (s: string | undefined) => {
    if (s === undefined) return null;
    const v = Number(s.trim());
    return Number.isFinite(v) ? v : null;
  };
  let imgsz: [number, number] | null = null;
  if (raw.imgsz) {
    const v = parsePyLiteral(raw.imgsz);
    if (typeof v === 'number') imgsz = [v, v];
    else if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) imgsz = [v[0] as number, v[1] as number];
  }
  let stride = num(raw.stride);
  if (stride === null && raw.stride) {
    const v = parsePyLiteral(raw.stride);
    if (Array.isArray(v) && v.length) stride = v.reduce<number>((a, x) => (typeof x === 'number' && x > a ? x : a), Number.NEGATIVE_INFINITY);
  }
  return { names, stride, imgsz, task: raw.task ?? null, batch: num(raw.batch), raw };
}

/** A parsed Python literal: dicts become Maps (keys keep their types), lists/tuples arrays. */
export type PyValue = number | string | boolean | null | PyValue[] | Map<PyValue, PyValue>;

/** A scalar token, matched where the parser stands (sticky: no copy of the rest of the text). */
const TOKEN = /True|False|None|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan/y;

/** How deep lists and dicts may nest in a literal (Ultralytics' are 1 deep). */
const MAX_LITERAL_DEPTH = 64;

/**
 * Parses the Python literals Ultralytics writes with str(): numbers, quoted strings (with escapes),
 * True/False/None, lists, tuples, dicts. Nesting deeper than 64 is a SyntaxError.
 *
 * @example parsePyLiteral("{0: 'person', 1: \"people's\"}") // => Map { 0 => 'person', 1 => "people's" }
 */
export function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at ${i} in ${text.length > 60 ? `${text.slice(0, 60)}...` : text}`);
  };
  let depth = 0;
  const value = (): PyValue => {
    ws();
    const ch = text[i];
    if (ch === undefined) return fail('unexpected end');
    if ((ch === '{' || ch === '[' || ch === '(') && depth >= MAX_LITERAL_DEPTH) fail(`nested deeper than ${MAX_LITERAL_DEPTH}`);
    if (ch === '{') {
      depth++;
      i++;
      const map = new Map<PyValue, PyValue>();
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          depth--;
          return map;
        }
        const k = value();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        map.set(k, value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (ch === '[' || ch === '(') {
      const close = ch === '[' ? ']' : ')';
      i++;
      depth++;
      const arr: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          depth--;
          return arr;
        }
        arr.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (ch === "'" || ch === '"') return str(ch);
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(text);
    if (!m) return fail('unexpected token');
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace('inf', 'Infinity').replace('nan', 'NaN'));
  };
  const str = (q: string): string => {
    i++;
    let out = '';
    for (;;) {
      const ch = text[i++];
      if (ch === undefined) return fail('unterminated string');
      if (ch === q) return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = text[i++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
      if (e !== undefined && simple[e] !== undefined) out += simple[e];
      else if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = text.slice(i, i + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail('bad escape');
        out += String.fromCodePoint(parseInt(hex, 16));
        i += len;
      } else out += `\\${e ?? ''}`;
    }
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}
