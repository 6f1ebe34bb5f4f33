/**
 * @file What a model file the user picked is, before boxtune trains or predicts with it: an
 * Ultralytics `.pt`, a boxtune `.safetensors` checkpoint, or an Ultralytics-format `.onnx`. The file
 * is validated as it is read: another task (segmentation, pose, ...) or weights that do not fit the
 * yaml get the readers' clear errors. No tfjs model is built (the yaml is enough for shapes).
 *
 * The file may be hostile (the Train view inspects whatever path is typed): it is refused by its
 * size before it is read, and each reader bounds what the file declares. The app runs this in a
 * worker with a time and memory limit (inspect-in-worker.ts), so what no check foresaw still
 * cannot freeze the app.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import type { ModelInspection } from '../../../shared/types';
import { parseUltralyticsMetadata, readOnnxMetadataProps } from '../onnx/onnx-metadata';
import { decodeCheckpoint } from '../checkpoint';
import { MAX_CLASSES } from '../limits';
import { checkModelFileSize } from '../model-file';
import { readBoxtuneInfo } from '../onnx/metadata';
import { decodeModel, type TensorProto } from '../onnx/onnx-proto';
import { describeModel, type ModelSummary } from '../parse-model';
import { readPt, type TensorView } from '../pt/pt-reader';

const ZIP_MAGIC = 0x04034b50; // "PK\x03\x04"

/** Reads and validates a .pt / .safetensors / .onnx detection model file. */
export async function inspectModelFile(file: string): Promise<ModelInspection> {
  checkModelFileSize(file);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AppError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `cannot read ${file}: ${code ?? (err as Error).message}`);
  }
  const label = path.basename(file);
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === ZIP_MAGIC) return inspectPt(bytes, label);
  if (path.extname(file).toLowerCase() === '.onnx') return inspectOnnx(bytes, label);
  if (path.extname(file).toLowerCase() === '.pt') throw new AppError('FILE_UNREADABLE', `${label} is not a PyTorch checkpoint (not a zip file; truncated or renamed?)`);
  return inspectSafetensors(bytes, label);
}

/** Family of a parsed yaml: C3k2 heads are YOLO11, the legacy Detect head YOLOv8. */
function family(summary: ModelSummary): 'yolov8' | 'yolo11' {
  return summary.parsed.legacy ? 'yolov8' : 'yolo11';
}

/** Checks that the weights are exactly the ones the yaml's network has (names and shapes). */
export function checkWeightsFit(summary: ModelSummary, sd: Map<string, TensorView>, label: string): void {
  const want = new Map(summary.entries.map((e) => [e.name, e.shape]));
  const missing = [...want.keys()].filter((k) => !sd.has(k));
  const unexpected = [...sd.keys()].filter((k) => !want.has(k));
  const wrong = [...want].filter(([k, s]) => sd.has(k) && sd.get(k)!.shape.join(',') !== s.join(',')).map(([k]) => k);
  if (missing.length || unexpected.length || wrong.length) {
    const list = (xs: string[]) => xs.slice(0, 3).join(', ') + (xs.length > 3 ? ` and ${xs.length - 3} more` : '');
    const parts = [missing.length && `missing ${list(missing)}`, unexpected.length && `unexpected ${list(unexpected)}`, wrong.length && `wrong shape ${list(wrong)}`].filter(Boolean);
    throw new AppError('INVALID_INPUT', `${label}: the weights do not fit the network its yaml describes (${parts.join('; ')})`, { missing, unexpected, wrong });
  }
}

function imgszOf(v: unknown): [number, number] | undefined {
  if (typeof v === 'number' && v > 0) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  return undefined;
}

function inspectPt(bytes: Uint8Array, label: string): ModelInspection {
  const pt = readPt(bytes, label); // clear errors for other tasks, unknown modules, truncation
  const summary = describeModel(pt.yaml);
  checkWeightsFit(summary, pt.stateDict, label);
  const imgsz = imgszOf(pt.trainArgs?.imgsz ?? pt.args.imgsz);
  const from = pt.trainArgs?.model;
  return {
    format: 'pt',
    task: 'detect',
    nc: summary.parsed.nc,
    names: pt.names,
    ...(imgsz ? { imgsz } : {}),
    params: summary.params,
    yamlScale: summary.parsed.scale,
    family: family(summary),
    source: typeof from === 'string' ? from : null,
  };
}

function inspectSafetensors(bytes: Uint8Array, label: string): ModelInspection {
  const { meta, stateDict } = decodeCheckpoint(bytes, label);
  const summary = describeModel(meta.yaml);
  checkWeightsFit(summary, stateDict, label);
  return {
    format: 'safetensors',
    task: 'detect',
    nc: summary.parsed.nc,
    names: meta.names,
    ...(meta.imgsz ? { imgsz: [meta.imgsz, meta.imgsz] as [number, number] } : {}),
    params: summary.params,
    yamlScale: summary.parsed.scale,
    family: family(summary),
    source: meta.source,
  };
}

/** Bytes per element of TensorProto's data types (onnx.proto DataType). */
const ONNX_ITEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/** Elements of an initializer, once its dims are checked against the data it holds. */
function initializerSize(t: TensorProto, label: string): number {
  const dims = t.dims ?? [];
  const where = `${label}: initializer '${t.name}' has dims [${dims.join(', ')}]`;
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new AppError('FILE_UNREADABLE', `${where}: each must be a whole number >= 0`);
  const n = dims.reduce((a, b) => a * b, 1);
  const item = ONNX_ITEM_BYTES[t.data_type];
  const raw = t.raw_data?.length ?? 0;
  const values = t.float_data?.length || t.int32_data?.length || t.int64_data?.length || 0;
  const holds = raw > 0 ? (item !== undefined && raw === n * item ? n : -1) : values;
  if (holds !== n) {
    const what = raw > 0 ? `${raw} bytes` : values > 0 ? `${values} values` : 'no data (external data files are not read)';
    throw new AppError('FILE_UNREADABLE', `${where} but holds ${what}`);
  }
  return n;
}

const TASK_NAMES: Record<string, string> = { segment: 'a segmentation', pose: 'a pose', classify: 'a classification', obb: 'an oriented-box (OBB)' };

function inspectOnnx(bytes: Uint8Array, label: string): ModelInspection {
  let props: Record<string, string>;
  let proto: ReturnType<typeof decodeModel>;
  let meta: ReturnType<typeof parseUltralyticsMetadata>;
  try {
    props = readOnnxMetadataProps(bytes);
    meta = parseUltralyticsMetadata(props);
    proto = decodeModel(bytes);
  } catch (err) {
    throw new AppError('FILE_UNREADABLE', `${label} is not a readable ONNX model: ${(err as Error).message}`);
  }
  if (meta.task && meta.task !== 'detect') {
    throw new AppError('INVALID_INPUT', `${label} is ${TASK_NAMES[meta.task] ?? `a '${meta.task}'`} model (task '${meta.task}'); boxtune works with detection models only`);
  }
  const graph = proto.graph;
  const dims = (v: (typeof graph.input)[number] | undefined) => v?.type?.tensor_type?.shape?.dim?.map((d) => d.dim_value ?? null) ?? [];
  const inDims = dims(graph?.input?.[0]);
  const outDims = dims(graph?.output?.[0]);
  if (!graph || inDims.length !== 4 || outDims.length !== 3 || typeof outDims[1] !== 'number' || outDims[1] <= 4) {
    throw new AppError('INVALID_INPUT', `${label} does not have Ultralytics' detection interface (input [1, 3, H, W], output [1, 4 + nc, N])`, { input: inDims, output: outDims });
  }
  const nc = outDims[1] - 4;
  if (nc > MAX_CLASSES) {
    throw new AppError('FILE_UNREADABLE', `${label}: ${graph.output[0]!.name} [${outDims.join(', ')}] says ${nc} classes; boxtune reads at most ${MAX_CLASSES}`);
  }
  const names = meta.names.length === nc ? meta.names : Array.from({ length: nc }, (_, i) => meta.names[i] ?? String(i));
  const [h, w] = [inDims[2], inDims[3]];
  const imgsz = typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? ([h, w] as [number, number]) : (meta.imgsz ?? undefined);

  // Parameters of the exported (BN-fused) network: the weights and biases its Conv/MatMul/Gemm nodes read.
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name, t]));
  const used = new Set<string>();
  for (const n of graph.node ?? []) if (n.op_type === 'Conv' || n.op_type === 'Gemm' || n.op_type === 'MatMul') for (const i of n.input.slice(1)) if (inits.has(i)) used.add(i);
  const params = [...used].reduce((a, k) => a + initializerSize(inits.get(k)!, label), 0);

  const info = readBoxtuneInfo(props);
  let yamlScale = '';
  let fam: ModelInspection['family'] = null;
  if (info?.yaml) {
    let summary: ModelSummary;
    try {
      summary = describeModel(info.yaml);
    } catch (err) {
      if (err instanceof AppError) throw new AppError(err.code, `${label}: the yaml in its boxtune metadata: ${err.message}`, err.details);
      throw err;
    }
    yamlScale = summary.parsed.scale;
    fam = family(summary);
  } else {
    const m = /YOLO(v8|11)([nslmx])\b/i.exec(props.description ?? '');
    if (m) {
      fam = m[1] === '11' ? 'yolo11' : 'yolov8';
      yamlScale = m[2]!.toLowerCase();
    }
  }
  return {
    format: 'onnx',
    task: 'detect',
    nc,
    names,
    ...(imgsz ? { imgsz } : {}),
    params,
    yamlScale,
    family: fam,
    source: info?.source ?? props.description ?? null,
  };
}
