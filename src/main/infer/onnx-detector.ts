/**
 * @file An Ultralytics-format ONNX detector on onnxruntime-node: input `images` [1, 3, H, W] RGB
 * 0..1, output `output0` [1, 4 + nc, N]. Loads the model with its metadata (names, stride, imgsz),
 * runs raw predictions, and detects: letterbox -> run -> NMS -> boxes in image pixels.
 *
 * @example
 * const det = await OnnxDetector.load('yolo11n.onnx', { threads: 2 });
 * const boxes = await det.detect('bus.jpg', { conf: 0.25 }); // [{ classId, score, x, y, w, h }]
 * await det.dispose();
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import { AppError } from '../../shared/errors';
import type { DetectionBox } from '../../shared/types';
import type { RgbImage } from '../images/letterbox';
import { nonMaxSuppression, type Detections, type NmsOptions } from './nms';
import { describeInferenceProviders } from '../model/backend-report';
import { checkModelFileSize } from '../model/model-file';
import { parseUltralyticsMetadata, readOnnxMetadataProps, type ModelMetadata } from '../model/onnx/onnx-metadata';
import { prepareInput, scaleBoxes, type ImageSize, type ModelInput, type PreprocessMode } from './preprocess';

const require = createRequire(import.meta.url);
let ortModule: typeof Ort | null = null;
/** onnxruntime-node, loaded on first use (a native module; electron-vite keeps it external). */
function ort(): typeof Ort {
  return (ortModule ??= require('onnxruntime-node') as typeof Ort);
}

export type Device = 'cpu' | 'cuda';

/**
 * Execution providers per device. No silent CPU fallback for 'cuda': a user who asked for the GPU
 * hears why they did not get it.
 */
const DEVICE_PROVIDERS: Record<Device, string[]> = {
  cpu: ['cpu'],
  cuda: ['cuda'],
};

export interface OnnxDetectorOptions {
  /** Default 'cpu'. 'cuda' needs onnxruntime-node's CUDA provider (installed separately). */
  device?: Device;
  /** Intra-op threads (default: onnxruntime's choice, one per core). */
  threads?: number;
}

/** A detection in source image pixels, top-left x, y. */
export type Detection = DetectionBox;

export interface DetectOptions {
  /** Square side or [height, width]; must equal a static model's input size. Default: the model's. */
  imgsz?: ImageSize;
  /** Score threshold. Default 0.25 (Ultralytics predict). */
  conf?: number;
  /** NMS IoU threshold. Default 0.7 (Ultralytics predict). */
  iou?: number;
  /** Detections kept. Default 300. */
  maxDet?: number;
  /** Keep several classes per box (Ultralytics' validator does). Default false. */
  multiLabel?: boolean;
  agnostic?: boolean;
  classes?: readonly number[];
}

/** The raw output of one run. */
export interface RawOutput {
  /** `[1, 4 + nc, N]` for a detect head. */
  data: Float32Array;
  dims: number[];
}

/** NMS output in model-input pixels, plus how the image was letterboxed. */
export interface InputSpaceDetections {
  input: Omit<ModelInput, 'tensor'>;
  detections: Detections;
  /** Milliseconds spent in each stage. */
  timing: { preprocess: number; inference: number; postprocess: number };
}

export class OnnxDetector {
  readonly metadata: ModelMetadata;
  readonly inputName: string;
  readonly outputName: string;
  /** Input shape as the model declares it; strings are symbolic (dynamic) dimensions. */
  readonly inputShape: ReadonlyArray<number | string>;
  readonly device: Device;

  private constructor(
    private readonly session: Ort.InferenceSession,
    metadata: ModelMetadata,
    device: Device,
  ) {
    this.metadata = metadata;
    this.device = device;
    this.inputName = session.inputNames[0] ?? 'images';
    this.outputName = session.outputNames[0] ?? 'output0';
    const meta = session.inputMetadata[0];
    this.inputShape = meta && meta.isTensor ? meta.shape : [];
  }

  /** Opens an ONNX model file: reads its metadata and creates an onnxruntime session. */
  static async load(modelPath: string, options: OnnxDetectorOptions = {}): Promise<OnnxDetector> {
    const device = options.device ?? 'cpu';
    const providers = DEVICE_PROVIDERS[device];
    if (!providers) {
      throw new AppError('INVALID_INPUT', `Unsupported device: "${String(device)}". Should be one of: ${Object.keys(DEVICE_PROVIDERS).join(', ')}`);
    }
    // Asking onnxruntime for a provider whose library is absent makes it log a red "Failed to load
    // libonnxruntime_providers_shared.so" before it fails: the backend report checks the files first.
    if (device === 'cuda') {
      const cuda = describeInferenceProviders().find((p) => p.name === 'cuda');
      if (!cuda?.available) throw new AppError('INVALID_INPUT', `cannot predict on device 'cuda': ${cuda?.detail ?? 'no CUDA provider'}. It needs CUDA 12 and cuDNN 9; or use device 'cpu'`, { device });
    }
    checkModelFileSize(modelPath); // a device, a FIFO or a 50 GB file is refused before any read
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(modelPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new AppError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `cannot read model ${modelPath}: ${(err as Error).message}`);
    }
    let metadata: ModelMetadata;
    try {
      metadata = parseUltralyticsMetadata(readOnnxMetadataProps(bytes));
    } catch (err) {
      throw new AppError('FILE_UNREADABLE', `${modelPath} is not a readable ONNX model: ${(err as Error).message}`);
    }
    const sessionOptions: Ort.InferenceSession.SessionOptions = { executionProviders: providers };
    if (options.threads !== undefined) sessionOptions.intraOpNumThreads = options.threads;
    let session: Ort.InferenceSession;
    try {
      session = await ort().InferenceSession.create(bytes, sessionOptions);
    } catch (err) {
      throw new AppError('INTERNAL', sessionError(device, err), { device, providers });
    }
    return new OnnxDetector(session, metadata, device);
  }

  /** Class names by id (from the model's metadata; ids as strings when it has none). */
  get names(): string[] {
    return this.metadata.names;
  }

  /** The input size a static model requires, or null when its height/width are dynamic. */
  get staticInputSize(): [number, number] | null {
    const h = this.inputShape[2];
    const w = this.inputShape[3];
    return typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? [h, w] : null;
  }

  /** Input size to use for `imgsz` (default: the model's own). */
  resolveImgsz(imgsz?: ImageSize): [number, number] {
    const fixed = this.staticInputSize;
    const wanted: [number, number] | null =
      imgsz === undefined ? null : typeof imgsz === 'number' ? [imgsz, imgsz] : [imgsz[0], imgsz[1]];
    if (fixed) {
      if (wanted && (wanted[0] !== fixed[0] || wanted[1] !== fixed[1])) {
        throw new AppError(
          'INVALID_INPUT',
          `this model was exported for ${fixed[0]}x${fixed[1]} input; imgsz ${wanted[0]}x${wanted[1]} needs a model exported with that size (or dynamic=True)`,
        );
      }
      return fixed;
    }
    return wanted ?? this.metadata.imgsz ?? [640, 640];
  }

  /** Runs the model on a `[1, 3, H, W]` float tensor (RGB, 0..1). Returns the first output. */
  async predict(input: Float32Array, dims: readonly [number, number, number, number]): Promise<RawOutput> {
    const tensor = new (ort().Tensor)('float32', input, [...dims]); // [1, 3, H, W]
    const results = await this.session.run({ [this.inputName]: tensor });
    const out = results[this.outputName]; // [1, 4 + nc, N]
    if (!out || out.type !== 'float32') throw new AppError('INTERNAL', `model output ${this.outputName} missing or not float32`);
    const data = out.data as Float32Array;
    const res = { data, dims: [...out.dims] };
    tensor.dispose();
    return res;
  }

  /**
   * Letterbox -> run -> NMS, boxes left in model-input pixels (what Ultralytics' validator
   * compares against labels). `mode` picks the predictor's or the validator's letterbox.
   */
  async detectInputSpace(
    image: string | Buffer | RgbImage,
    options: DetectOptions & { mode?: PreprocessMode } = {},
  ): Promise<InputSpaceDetections> {
    const [h, w] = this.resolveImgsz(options.imgsz);
    const t0 = performance.now();
    const { tensor, ...input } = await prepareInput(image, [h, w], options.mode ?? 'predict');
    const t1 = performance.now();
    const raw = await this.predict(tensor, [1, 3, input.inputHeight, input.inputWidth]);
    const t2 = performance.now();
    const nms: NmsOptions = {
      conf: options.conf ?? 0.25,
      iou: options.iou ?? 0.7,
      maxDet: options.maxDet ?? 300,
      multiLabel: options.multiLabel ?? false,
      agnostic: options.agnostic ?? false,
    };
    if (options.classes) nms.classes = options.classes;
    if (this.metadata.names.length) nms.nc = this.metadata.names.length;
    const [detections] = nonMaxSuppression(raw.data, raw.dims, nms);
    const t3 = performance.now();
    return {
      input,
      detections: detections!,
      timing: { preprocess: t1 - t0, inference: t2 - t1, postprocess: t3 - t2 },
    };
  }

  /** Detects objects in one image: boxes in the image's pixels (x, y top-left, w, h), most confident first. */
  async detect(image: string | Buffer | RgbImage, options: DetectOptions = {}): Promise<Detection[]> {
    const { input, detections } = await this.detectInputSpace(image, options);
    return toImageDetections(detections, input);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** NMS output (input pixels) -> image-pixel detections via scale_boxes. */
export function toImageDetections(d: Detections, input: Omit<ModelInput, 'tensor'>): Detection[] {
  const boxes = scaleBoxes(d.boxes.slice(), input.inputHeight, input.inputWidth, input.sourceHeight, input.sourceWidth);
  const out: Detection[] = [];
  for (let i = 0; i < d.count; i++) {
    const x1 = boxes[4 * i]!;
    const y1 = boxes[4 * i + 1]!;
    out.push({ classId: d.classes[i]!, score: d.scores[i]!, x: x1, y: y1, w: boxes[4 * i + 2]! - x1, h: boxes[4 * i + 3]! - y1 });
  }
  return out;
}

function sessionError(device: Device, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (device === 'cuda') return `cannot start onnxruntime on device 'cuda': ${msg}. Check that CUDA 12 and cuDNN 9 libraries are on the library path, or use device 'cpu'.`;
  return `cannot create an onnxruntime session on device '${device}': ${msg}`;
}

export interface BatchPredictItem {
  image: string;
  detections: Detection[];
  /** Set instead of detections when this image failed (unreadable file, ...). */
  error?: string;
}

export interface BatchProgress {
  done: number;
  total: number;
  /** Images per second so far. */
  rate: number;
  /** Seconds left at that rate. */
  eta: number;
  image: string;
}

export interface BatchPredictOptions extends DetectOptions {
  onProgress?: (p: BatchProgress) => void;
  signal?: AbortSignal;
}

/**
 * Detects over a list of images, one at a time (batch 1, as the exported model takes), reporting
 * progress after each. An unreadable image is reported in its item and does not stop the batch;
 * an abort does (AppError JOB_CANCELLED).
 */
export async function predictBatch(detector: OnnxDetector, images: readonly string[], options: BatchPredictOptions = {}): Promise<BatchPredictItem[]> {
  const { onProgress, signal, ...detect } = options;
  const out: BatchPredictItem[] = [];
  const t0 = performance.now();
  for (let i = 0; i < images.length; i++) {
    if (signal?.aborted) throw new AppError('JOB_CANCELLED', `prediction cancelled after ${i} of ${images.length} images`);
    const image = images[i]!;
    try {
      out.push({ image, detections: await detector.detect(image, detect) });
    } catch (err) {
      if (err instanceof AppError && err.code === 'INVALID_INPUT') throw err;
      out.push({ image, detections: [], error: err instanceof Error ? err.message : String(err) });
    }
    if (onProgress) {
      const elapsed = (performance.now() - t0) / 1000;
      const rate = (i + 1) / Math.max(elapsed, 1e-9);
      onProgress({ done: i + 1, total: images.length, rate, eta: (images.length - i - 1) / rate, image });
    }
  }
  return out;
}
