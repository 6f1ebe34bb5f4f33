/**
 * @file The one contract between the UI and the Node side. The Electron preload exposes these as
 * named methods; the HTTP server exposes the same names at POST /api/<method>. Every method takes
 * one plain-object argument and resolves to `Result<T>` on the wire; clients unwrap it.
 */
import type { Result } from './errors';
import type {
  AppInfo,
  BackendReport,
  BoxChange,
  BoxRecord,
  ClassRecord,
  ClassUsage,
  EditResult,
  ImageFilter,
  ImageNeighbors,
  ImageStatus,
  NewBox,
  ExportRequest,
  ImagePage,
  ImagePageQuery,
  ImageRecord,
  ImageView,
  ImportRequest,
  JobInfo,
  PredictionRecord,
  ProjectInfo,
  Split,
  SplitRequest,
  SplitSummary,
  TrainPreflight,
  TrainProgress,
  TrainRequest,
  TrainRunDetail,
  TrainRunSummary,
  ModelInspection,
  ZooModel,
} from './types';

export interface Api {
  'app.info'(args: Record<string, never>): Promise<AppInfo>;
  /** What trains (tfjs backend) and predicts (onnxruntime provider) here, and why the better ones cannot. */
  'app.backends'(args: Record<string, never>): Promise<BackendReport>;

  /** Creates `dir` (or uses it if empty) and opens it as a new project. */
  'project.create'(args: { dir: string; name?: string }): Promise<ProjectInfo>;
  /** Opens the project whose folder holds boxtune.db. */
  'project.open'(args: { dir: string }): Promise<ProjectInfo>;
  /** Generates a small synthetic dataset in `dir` (default: a fresh folder) and opens it. Returns a job id. */
  'project.openSample'(args: { dir?: string; images?: number }): Promise<{ jobId: string; dir: string }>;
  'project.close'(args: Record<string, never>): Promise<null>;
  'project.info'(args: Record<string, never>): Promise<ProjectInfo>;

  'images.page'(args: ImagePageQuery): Promise<ImagePage>;
  'images.get'(args: { id: number }): Promise<ImageRecord>;
  'images.boxes'(args: { id: number }): Promise<BoxRecord[]>;
  /** The newest run's predictions for an image (none: []). Kept apart from its boxes. */
  'images.predictions'(args: { id: number }): Promise<PredictionRecord[]>;

  /** Previous / next image in the filter's order, and the next unlabeled one after `id`. */
  'images.neighbors'(args: { id: number; filter?: ImageFilter }): Promise<ImageNeighbors>;
  /** Marks an image unlabeled / labeled / reviewed (undoable like a box edit). */
  'images.setStatus'(args: { id: number; status: ImageStatus }): Promise<EditResult>;
  /** What to draw at each zoom: the size, and whether a preview and a tile pyramid exist for it. */
  'images.view'(args: { id: number }): Promise<ImageView>;
  /** Starts making every missing thumbnail in the background; null when none is missing. */
  'images.generateThumbnails'(args: Record<string, never>): Promise<{ jobId: string | null }>;

  // Box edits: each call is committed at once and is one undo step of its image.
  'boxes.create'(args: { imageId: number; boxes: NewBox[] }): Promise<EditResult>;
  'boxes.update'(args: { imageId: number; changes: BoxChange[] }): Promise<EditResult>;
  'boxes.delete'(args: { imageId: number; ids: number[] }): Promise<EditResult>;
  /** Copies boxes of another image (all, or `ids`) onto `imageId`. */
  'boxes.copyFrom'(args: { imageId: number; fromImageId: number; ids?: number[] }): Promise<EditResult>;
  'edits.undo'(args: { imageId: number }): Promise<EditResult>;
  'edits.redo'(args: { imageId: number }): Promise<EditResult>;
  'edits.state'(args: { imageId: number }): Promise<{ canUndo: boolean; canRedo: boolean }>;

  'classes.list'(args: Record<string, never>): Promise<ClassRecord[]>;
  'classes.create'(args: { name: string; color?: string }): Promise<ClassRecord>;
  'classes.update'(args: { id: number; name?: string; color?: string }): Promise<ClassRecord>;
  'classes.reorder'(args: { ids: number[] }): Promise<ClassRecord[]>;
  /** Boxes and images of a class: what a delete would remove (for the confirmation). */
  'classes.usage'(args: { id: number }): Promise<ClassUsage>;
  'classes.merge'(args: { sourceId: number; targetId: number }): Promise<ClassUsage>;
  'classes.delete'(args: { id: number }): Promise<ClassUsage>;

  'dataset.import'(args: ImportRequest): Promise<{ jobId: string }>;
  'dataset.export'(args: ExportRequest): Promise<{ jobId: string }>;
  'dataset.assignSplits'(args: SplitRequest): Promise<SplitSummary>;

  /** Checks the open project can be trained on: blockers stop a run, warnings don't. */
  'train.preflight'(args: Record<string, never>): Promise<TrainPreflight>;
  /** Starts fine-tuning on the open project's train/val splits, in a worker. */
  'train.start'(args: TrainRequest): Promise<{ jobId: string; runId: number }>;
  'train.runs'(args: Record<string, never>): Promise<TrainRunSummary[]>;
  'train.run'(args: { id: number }): Promise<TrainRunDetail>;
  /** The run's per-epoch table as Ultralytics' results.csv text. */
  'train.csv'(args: { id: number }): Promise<string>;
  /** Runs the run's best weights over a split (default val) in a worker, replacing its predictions. */
  'train.predict'(args: { runId: number; split?: Split; conf?: number }): Promise<{ jobId: string }>;

  /** Ultralytics' official detection models, and which are in the local cache. */
  'models.list'(args: Record<string, never>): Promise<ZooModel[]>;
  /** Downloads one into the cache as a job (progress in bytes); offline: MODEL_DOWNLOAD_FAILED. */
  'models.download'(args: { name: string }): Promise<{ jobId: string }>;
  /** Reads and validates a local .pt / .safetensors / .onnx detection model. */
  'models.inspect'(args: { path: string }): Promise<ModelInspection>;

  'jobs.list'(args: Record<string, never>): Promise<JobInfo[]>;
  'jobs.get'(args: { id: string }): Promise<JobInfo>;
  'jobs.cancel'(args: { id: string }): Promise<JobInfo>;
}

export type ApiMethod = keyof Api;
export type ApiArgs<M extends ApiMethod> = Parameters<Api[M]>[0];
export type ApiValue<M extends ApiMethod> = Awaited<ReturnType<Api[M]>>;

/** Every method name, at run time (the preload maps each to a named function). */
export const API_METHODS = [
  'app.info',
  'app.backends',
  'project.create',
  'project.open',
  'project.openSample',
  'project.close',
  'project.info',
  'images.page',
  'images.get',
  'images.boxes',
  'images.predictions',
  'images.neighbors',
  'images.setStatus',
  'images.view',
  'images.generateThumbnails',
  'boxes.create',
  'boxes.update',
  'boxes.delete',
  'boxes.copyFrom',
  'edits.undo',
  'edits.redo',
  'edits.state',
  'classes.list',
  'classes.create',
  'classes.update',
  'classes.reorder',
  'classes.usage',
  'classes.merge',
  'classes.delete',
  'dataset.import',
  'dataset.export',
  'dataset.assignSplits',
  'train.preflight',
  'train.start',
  'train.runs',
  'train.run',
  'train.csv',
  'train.predict',
  'models.list',
  'models.download',
  'models.inspect',
  'jobs.list',
  'jobs.get',
  'jobs.cancel',
] as const satisfies readonly ApiMethod[];

// Compile-time check that API_METHODS lists every method of Api.
type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
const _allListed: Missing extends never ? true : Missing = true;
void _allListed;

/** Events pushed from the Node side (IPC `api:event`, or the WebSocket at /api/events). */
export interface ApiEvents {
  /** A job started, progressed (throttled to about 10 Hz) or ended. */
  job: JobInfo;
  /** The open project changed (opened, closed, or its data changed by a job). */
  project: { root: string | null; reason: 'opened' | 'closed' | 'changed' };
  /** Training progress of a run: batches (throttled), validation, epochs, the end. */
  train: TrainProgress;
}

export type ApiEventName = keyof ApiEvents;
export interface ApiEventMessage<E extends ApiEventName = ApiEventName> {
  event: E;
  data: ApiEvents[E];
}

/** The shape of `window.boxtune`, the Electron preload's bridge: the Api as named methods plus events. */
export type BoxtuneBridge = {
  readonly [M in ApiMethod]: (args: ApiArgs<M>) => Promise<Result<ApiValue<M>>>;
} & {
  /** Subscribes to service events; returns the unsubscribe function. */
  onEvent(cb: (msg: ApiEventMessage) => void): () => void;
};
