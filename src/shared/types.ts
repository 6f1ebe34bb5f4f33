/**
 * @file Domain types shared by main, preload and renderer. Plain data only (structured-clone safe).
 * Box coordinates are image pixels, top-left origin: x, y, w, h.
 */

import type { DeviceChoice, OPTIMIZER_CHOICES, TrainingBackendName } from './training';

export const SPLITS = ['train', 'val', 'test', 'none'] as const;
export type Split = (typeof SPLITS)[number];

export const IMAGE_STATUSES = ['unlabeled', 'labeled', 'reviewed'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

export const BOX_SOURCES = ['human', 'model', 'import'] as const;
export type BoxSource = (typeof BOX_SOURCES)[number];

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff'] as const;

/** Free-form per-record attributes kept from the source format (COCO iscrowd, VOC difficult/truncated...). */
export type Attrs = Record<string, string | number | boolean>;

export interface ImageRecord {
  id: number;
  /** Relative to the project root, forward slashes. */
  path: string;
  hash: string;
  width: number;
  height: number;
  split: Split;
  status: ImageStatus;
  boxCount: number;
  attrs?: Attrs;
}

export interface ClassRecord {
  id: number;
  name: string;
  /** `#rrggbb` */
  color: string;
  /** Position in the class list; YOLO class id on export is the rank by this. */
  order: number;
}

/** A detection in source image pixels, top-left x, y. */
export interface DetectionBox {
  classId: number;
  score: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A run's detection on a project image, as stored for review (same coordinates as a box). */
export interface PredictionRecord extends DetectionBox {
  id: number;
  runId: number;
  imageId: number;
}

export interface BoxRecord {
  id: number;
  imageId: number;
  classId: number;
  x: number;
  y: number;
  w: number;
  h: number;
  source: BoxSource;
  runId: number | null;
  score: number | null;
  attrs?: Attrs;
}

/** A box to create; coordinates are clipped to the image by the store. */
export interface NewBox {
  classId: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A change to an existing box: only the given fields change. */
export interface BoxChange {
  id: number;
  classId?: number;
  x?: number;
  y?: number;
  w?: number;
  h?: number;
}

/**
 * What an edit (or an undo/redo) did to one image, as a delta the canvas applies without
 * reloading the image's other boxes.
 */
export interface EditResult {
  image: ImageRecord;
  upserted: BoxRecord[];
  deleted: number[];
  canUndo: boolean;
  canRedo: boolean;
  /** Undo/redo only: what was undone or redone, or why nothing was ("Undid: draw box 'cat' on img_001.jpg"). */
  message?: string;
}

export interface ClassUsage {
  classId: number;
  boxes: number;
  images: number;
}

/** Where an image sits in a filtered order; ids are null at the ends. */
export interface ImageNeighbors {
  prev: number | null;
  next: number | null;
  /** The next image after this one (in the filter's order) whose status is unlabeled. */
  nextUnlabeled: number | null;
  /** 0-based position of the image in the filtered order, and the count. */
  index: number;
  total: number;
}

export interface ClassCount {
  classId: number;
  name: string;
  /** Instances (boxes) of the class. */
  boxes: number;
}

export interface SplitCount {
  split: Split;
  images: number;
  boxes: number;
}

/** Counts per split and class: what `boxtune info` prints and the project header shows. */
export interface ProjectInfo {
  root: string;
  name: string;
  images: number;
  boxes: number;
  classes: ClassRecord[];
  splits: SplitCount[];
  statuses: Record<ImageStatus, number>;
  /** Instances per class per split: perClassSplit[classId][split] = boxes. */
  perClassSplit: Record<number, Partial<Record<Split, number>>>;
  classCounts: ClassCount[];
}

/** Filters of the image browser; every field optional. */
export interface ImageFilter {
  split?: Split;
  status?: ImageStatus;
  /** Images holding at least one box of this class. */
  classId?: number;
  hasPredictions?: boolean;
  /** Case-insensitive substring of the relative path. */
  search?: string;
}

export interface ImagePageQuery {
  filter?: ImageFilter;
  /** Keyset pagination: return images with id greater than this. */
  afterId?: number;
  /** Offset pagination for the virtualized list (random access by row). */
  offset?: number;
  limit?: number;
}

export interface ImagePage {
  items: ImageRecord[];
  /** Total rows matching the filter. */
  total: number;
}

// ---- image views (large images) ---------------------------------------------------------------

/** File extension of pyramid tiles: `/api/images/<id>/tiles/<level>/<col>_<row>.jpeg`. */
export const TILE_EXT = 'jpeg';

/**
 * How to show an image at any zoom. Small images: the file alone (`preview` and `tiles` null).
 * Longest side over 2048: a `preview` (longest side 2048) to draw while zoomed out. Longest side
 * over 4096: also a DeepZoom tile pyramid for full resolution where zoomed in; its level math is in
 * shared/deepzoom.ts (level L is ceil(W / 2^(maxLevel - L)) wide, maxLevel = ceil(log2(max(W, H))),
 * `levels` = maxLevel + 1).
 */
export interface ImageView {
  id: number;
  width: number;
  height: number;
  preview: { width: number; height: number } | null;
  tiles: { tileSize: number; levels: number } | null;
}

// ---- import / export -------------------------------------------------------------------------

export const IMPORT_FORMATS = ['folder', 'yolo', 'coco', 'voc'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export const EXPORT_FORMATS = ['yolo', 'coco', 'voc'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ImportRequest {
  format: ImportFormat;
  /** folder: a directory; yolo: a data.yaml; coco: a json file; voc: a VOC root or Annotations folder. */
  source: string;
  /** COCO: folder the `file_name`s are relative to (default: the json's folder). */
  imagesDir?: string;
  /** COCO: split for all images of this file (default: guessed from the file name, else none). */
  split?: Split;
  /** Copy images into the project's images/ folder instead of referencing them where they are. */
  copy?: boolean;
}

export interface ImportSummary {
  images: number;
  boxes: number;
  classesAdded: string[];
  /** Images already in the project (same relative path), left as they were. */
  skippedExisting: number;
  /** Files that could not be read as images: listed, not fatal. */
  unreadable: { file: string; reason: string }[];
  warnings: string[];
}

export interface ExportRequest {
  format: ExportFormat;
  /** Output folder; created if missing; must be empty or absent. */
  dir: string;
  /**
   * 'copy' (the default) copies images; 'link' hard-links them (falling back to a copy across
   * devices), which saves space but shares the file: editing a linked image changes the source.
   */
  images?: 'link' | 'copy';
  /** Splits to export (default: all that have images). */
  splits?: Split[];
}

export interface ExportSummary {
  dir: string;
  images: number;
  boxes: number;
  /** Top-level files written (data.yaml, annotation files). */
  files: string[];
  /** Images left out because they have no split (train/val/test). */
  skippedUnsplit: number;
}

export interface SplitRequest {
  ratios: { train: number; val: number; test: number };
  seed?: number;
  /**
   * 'unassigned' keeps images that already have a split (the default); 'all' reassigns everything;
   * 'train' re-splits only the current train images (e.g. to carve a val split out of train).
   */
  scope?: 'unassigned' | 'all' | 'train';
}

export interface SplitSummary {
  assigned: number;
  counts: Record<Split, number>;
}

// ---- jobs ------------------------------------------------------------------------------------

export const JOB_KINDS = ['import', 'export', 'sample', 'thumbnails', 'train', 'predict', 'model-download'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

/** What every long job reports: counts, rate and ETA, so the UI can show a real progress bar. */
export interface JobInfo {
  id: string;
  kind: JobKind;
  title: string;
  state: JobState;
  /** Current phase, e.g. 'scanning', 'reading labels', 'writing'. */
  phase: string;
  done: number;
  total: number;
  /** Items per second over the current phase. */
  rate: number;
  /** Seconds left in the current phase, or null when unknown. */
  etaSec: number | null;
  message: string;
  startedAt: number;
  finishedAt: number | null;
  result?: unknown;
  error?: { code: string; message: string; details?: unknown };
}

// ---- app -------------------------------------------------------------------------------------

export interface AppInfo {
  version: string;
  /** 'electron' when in the desktop window, 'browser' when served over HTTP. */
  shell: 'electron' | 'browser';
  project: { root: string; name: string } | null;
  recentProjects: string[];
}

/** A tfjs training backend, best first: CUDA libtensorflow, CPU libtensorflow, WebAssembly, plain JS. */
export type { TrainingBackendName };
/** An onnxruntime execution provider for predictions. */
export type InferenceProviderName = 'cuda' | 'cpu';

/** One way to compute, and whether it works on this machine. */
export interface BackendStatus<N extends string = string> {
  name: N;
  /** For people: 'tfjs-node-gpu (CUDA)'. */
  label: string;
  available: boolean;
  /** Why not, when unavailable ('libtensorflow is installed but CUDA 11.x libraries (...) were not found'); else what it runs with. */
  detail: string;
}

/** What trains and what predicts here, best option first, and why the better ones cannot (app.backends). */
export interface BackendReport {
  training: {
    backends: BackendStatus<TrainingBackendName>[];
    /** What a training run with device 'auto' uses; null when nothing can train. */
    chosen: TrainingBackendName | null;
    /** True when a started backend confirmed it; false when judged from the installed files. */
    verified: boolean;
    summary: string;
  };
  inference: {
    /** 'onnxruntime-node 1.30.0' */
    runtime: string;
    providers: BackendStatus<InferenceProviderName>[];
    /** The best provider that can run; null when none can. */
    chosen: InferenceProviderName | null;
    summary: string;
  };
}

// ---- training ----------------------------------------------------------------------------------

/** What the Train view sends; anything left out takes Ultralytics' default. Data is the open project. */
export interface TrainRequest {
  /** A .pt / .safetensors path, or `run:<id>` to start from a previous run's best weights. */
  model: string;
  epochs?: number;
  imgsz?: number;
  batch?: number;
  freeze?: number;
  optimizer?: (typeof OPTIMIZER_CHOICES)[number];
  lr0?: number;
  patience?: number;
  cosLr?: boolean;
  closeMosaic?: number;
  seed?: number;
  device?: DeviceChoice;
  /** Continue this run (killed mid-epoch, or finished and extended to `epochs`). */
  resumeRunId?: number;
}

export interface TrainPreflight {
  /** Training cannot work until these are fixed. */
  blockers: string[];
  warnings: string[];
  /** The project has no val images but has train images: offer to split some off. */
  canCreateVal: boolean;
  trainImages: number;
  valImages: number;
  classes: { name: string; train: number; val: number }[];
}

/** One epoch of a run (results.csv row). */
export interface TrainEpochRow {
  epoch: number;
  time: number;
  trainLosses: [number, number, number];
  precision: number;
  recall: number;
  mAP50: number;
  mAP50_95: number;
  fitness: number;
  valLosses: [number, number, number];
  lr: [number, number, number];
}

export interface TrainRunSummary {
  id: number;
  name: string;
  /** interrupted: its process died while it trained (a crash, a kill); it can be resumed. */
  status: 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';
  createdAt: number;
  finishedAt: number | null;
  epochs: number;
  epochsDone: number;
  bestMAP50_95: number | null;
  bestMAP50: number | null;
  /** Run folder, relative to the project root. */
  dir: string;
}

export interface TrainRunDetail extends TrainRunSummary {
  /** Effective arguments (what was really used: optimizer, lr, momentum, backend, ...). */
  config: Record<string, unknown>;
  rows: TrainEpochRow[];
  perClass: { name: string; images: number; instances: number; ap50: number; ap50_95: number }[];
}

/** Live training progress, pushed as the `train` event. */
export type TrainProgress =
  | { runId: number; type: 'start'; backend: string; backendReasons: string[]; optimizer: string; trainImages: number; valImages: number; epochs: number; startEpoch: number; warnings: string[] }
  | {
      runId: number;
      type: 'batch';
      epoch: number;
      epochs: number;
      batch: number;
      batches: number;
      losses: [number, number, number];
      lr: [number, number, number];
      imagesPerSec: number;
      etaSec: number | null;
    }
  | { runId: number; type: 'validating'; epoch: number; done: number; total: number }
  | { runId: number; type: 'epoch'; row: TrainEpochRow; best: boolean }
  | { runId: number; type: 'done'; stoppedEarly: boolean };

// ---- model zoo -------------------------------------------------------------------------------

/** One of Ultralytics' official detection models, as the model picker lists it. */
export interface ZooModel {
  /** e.g. 'yolo11n' */
  name: string;
  /** e.g. 'yolo11n.pt' */
  file: string;
  family: 'yolov8' | 'yolo11';
  /** n, s or m */
  scale: string;
  params: number;
  /** Classes of the pretrained head (80, COCO). */
  nc: number;
  /** Bytes: the file's size when cached, else an estimate (fp16 weights plus the pickle). */
  size: number;
  url: string;
  cached: boolean;
  /** The cached file, when cached. */
  path?: string;
}

/** What a model file the user picked holds (after validating it). */
export interface ModelInspection {
  format: 'pt' | 'safetensors' | 'onnx';
  task: 'detect';
  nc: number;
  names: string[];
  /** Training or export size [height, width], when the file records it. */
  imgsz?: [number, number];
  /** Parameters (for .onnx: of the exported, BN-fused network). */
  params: number;
  /** Ultralytics scale letter of its yaml (n/s/m/l/x), '' when unknown. */
  yamlScale: string;
  family: 'yolov8' | 'yolo11' | null;
  /** Where its weights came from, when recorded (the model it was trained or exported from). */
  source: string | null;
}
