/**
 * @file The metadata_props of an exported model, in Ultralytics' form (ultralytics/engine/exporter.py
 * writes str() of Python values: `names` as `{0: 'person', 1: 'bicycle'}`, `imgsz` as `[640, 640]`,
 * `stride` as `32`), so Ultralytics' AutoBackend and any tool reading their ONNX files read ours;
 * plus a `boxtune` entry (JSON) with what we know and they do not (all strides, the yaml, the source).
 */

/**
 * Python's repr() of a str: single quotes unless the text has a single quote and no double quote,
 * backslash escapes for the quote, backslash and control characters.
 *
 * @example pyStr("people's") // => "\"people's\""
 * @example pyStr('tv') // => "'tv'"
 */
export function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + q;
}

/**
 * str() of Ultralytics' names dict.
 *
 * @example pyNamesDict(['person', 'bicycle']) // => "{0: 'person', 1: 'bicycle'}"
 */
export function pyNamesDict(names: readonly string[]): string {
  return `{${names.map((n, i) => `${i}: ${pyStr(n)}`).join(', ')}}`;
}

/** Our own entry, JSON under the `boxtune` key. */
export interface BoxtuneOnnxInfo {
  format: 'boxtune-onnx/1';
  /** Export size [height, width]. */
  imgsz: [number, number];
  names: string[];
  /** Detect strides of every level, e.g. [8, 16, 32]. */
  stride: number[];
  /** The model yaml the graph was built from. */
  yaml: unknown;
  /** The checkpoint the weights came from (a file name), when the caller said. */
  source: string | null;
}

export interface ExportMetadataInput {
  /** e.g. 'YOLO11n' */
  prettyName: string;
  names: string[];
  stride: number[];
  imgsz: [number, number];
  yaml: unknown;
  source: string | null;
  /** boxtune's version. */
  version: string;
  /** ISO date; defaults to now. */
  date?: string;
}

/** Ultralytics' keys in their order, then ours. Values are strings, as ONNX metadata requires. */
export function exportMetadata(m: ExportMetadataInput): { key: string; value: string }[] {
  const info: BoxtuneOnnxInfo = { format: 'boxtune-onnx/1', imgsz: m.imgsz, names: m.names, stride: m.stride, yaml: m.yaml, source: m.source };
  const props: [string, string][] = [
    ['description', `boxtune export of ${m.prettyName}${m.source ? ` (${m.source})` : ''}`],
    ['author', 'boxtune'],
    ['date', m.date ?? new Date().toISOString()],
    ['version', m.version],
    // The architecture and pretrained weights are Ultralytics' (AGPL-3.0); an export stays under it.
    ['license', 'AGPL-3.0 License (https://ultralytics.com/license)'],
    ['docs', 'https://docs.ultralytics.com'],
    ['stride', String(Math.max(...m.stride))],
    ['task', 'detect'],
    ['batch', '1'],
    ['imgsz', `[${m.imgsz[0]}, ${m.imgsz[1]}]`],
    ['names', pyNamesDict(m.names)],
    ['args', "{'batch': 1, 'half': False, 'dynamic': False, 'simplify': False, 'opset': 17, 'nms': False}"],
    ['channels', '3'],
    ['boxtune', JSON.stringify(info)],
  ];
  return props.map(([key, value]) => ({ key, value }));
}

/**
 * Our entry from a model's metadata map, or null when the model is not a boxtune export. The file
 * may be anyone's, so the fields are checked for their types (`source` is shown to the user as
 * text; the yaml is left to parse-model, which checks it).
 */
export function readBoxtuneInfo(props: Record<string, string>): BoxtuneOnnxInfo | null {
  const raw = props.boxtune;
  if (!raw) return null;
  let v: Partial<BoxtuneOnnxInfo>;
  try {
    v = JSON.parse(raw) as Partial<BoxtuneOnnxInfo>;
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || typeof v.format !== 'string' || !v.format.startsWith('boxtune-onnx/')) return null;
  const nums = (x: unknown): x is number[] => Array.isArray(x) && x.every((n) => typeof n === 'number');
  return {
    format: v.format as BoxtuneOnnxInfo['format'],
    imgsz: nums(v.imgsz) && v.imgsz.length === 2 ? (v.imgsz as [number, number]) : [0, 0],
    names: Array.isArray(v.names) && v.names.every((n) => typeof n === 'string') ? v.names : [],
    stride: nums(v.stride) ? v.stride : [],
    yaml: v.yaml ?? null,
    source: typeof v.source === 'string' ? v.source : null,
  };
}
