/**
 * @file BoxtuneService: the Api implemented over the services (store, jobs, import/export). Plain
 * Node: the Electron main process, the HTTP server, the CLI and tests all construct this one class.
 * Arguments arrive already validated (dispatch.ts).
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Api, ApiEventMessage, ApiEvents } from '../../shared/api';
import { AppError } from '../../shared/errors';
import type {
  AppInfo,
  BackendReport,
  BoxChange,
  ClassRecord,
  ClassUsage,
  EditResult,
  ImageFilter,
  ImageNeighbors,
  ImageStatus,
  NewBox,
  ExportRequest,
  ExportSummary,
  ImagePageQuery,
  ImageView,
  ImportRequest,
  ImportSummary,
  JobInfo,
  PredictionRecord,
  ProjectInfo,
  Split,
  SplitRequest,
  SplitSummary,
  TrainPreflight,
  TrainRequest,
  TrainRunDetail,
  TrainRunSummary,
  ModelInspection,
  ZooModel,
} from '../../shared/types';
import { SPLITS } from '../../shared/types';
import { planSplits } from '../dataset/splits';
import { JobRegistry } from '../jobs/job-registry';
import { runTask } from './worker-tasks';
import { BoxEditor } from '../store/box-editor';
import { ClassManager } from '../store/class-manager';
import { UI_BUSY_TIMEOUT_MS, withBusyTimeout } from '../store/db';
import { LabelStore } from '../store/label-store';
import { imagePredictions } from '../store/predictions';
import type { PredictSplitResult } from '../infer/predict-split';
import { contentTypeFor } from '../images/content-type';
import { resolveImageAsset, type AssetFile, type ImageAsset } from '../images/image-assets';
import { imageView } from '../images/pyramid';
import { ThumbnailJobs } from '../images/thumbnail-job';
import { preflight, TrainService } from './train-service';
import { describeBackends } from '../model/backend-report';
import { inspectModelFileInWorker, ModelZoo } from '../model/zoo';
import { makeDirs } from '../util/make-dirs';
import { defaultDataDir, modelCacheDir } from './data-dir';
import { Settings } from './settings';

export const APP_VERSION = '0.1.0';

export interface ServiceOptions {
  shell: 'electron' | 'browser';
  /** Where settings (recent projects) and generated sample projects live. */
  dataDir?: string;
}

type Empty = Record<string, never>;

export class BoxtuneService implements Api {
  /** Emits 'event' with an ApiEventMessage for every push to the UI. */
  readonly events = new EventEmitter();
  readonly jobs: JobRegistry;
  private readonly training: TrainService;
  /** Downloadable Ultralytics weights, cached in <dataDir>/models. */
  readonly models: ModelZoo;
  readonly thumbnails: ThumbnailJobs;
  private store: LabelStore | null = null;
  private readonly shell: ServiceOptions['shell'];
  private readonly dataDir: string;
  private readonly settings: Settings;

  constructor(opts: ServiceOptions) {
    this.shell = opts.shell;
    this.dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
    this.settings = new Settings(path.join(this.dataDir, 'settings.json'));
    this.jobs = new JobRegistry((info) => this.emit('job', info));
    this.training = new TrainService(this.jobs, (p) => this.emit('train', p));
    this.thumbnails = new ThumbnailJobs(this.jobs);
    this.models = new ModelZoo(modelCacheDir(this.dataDir));
  }

  private emit<E extends keyof ApiEvents>(event: E, data: ApiEvents[E]): void {
    const msg: ApiEventMessage<E> = { event, data };
    this.events.emit('event', msg);
  }

  /** The open project's store; NO_PROJECT if none is open. */
  requireStore(): LabelStore {
    if (!this.store) throw new AppError('NO_PROJECT', 'no project is open: create or open one first');
    return this.store;
  }

  async close(): Promise<void> {
    await this.jobs.close();
    this.store?.close();
    this.store = null;
  }

  // ---- app & project ---------------------------------------------------------------------------

  async 'app.info'(_args: Empty): Promise<AppInfo> {
    return {
      version: APP_VERSION,
      shell: this.shell,
      project: this.store ? { root: this.store.root, name: this.store.name } : null,
      recentProjects: this.settings.recentProjects().filter((p) => LabelStore.isProject(p)),
    };
  }

  async 'app.backends'(_args: Empty): Promise<BackendReport> {
    return describeBackends();
  }

  async 'project.create'(args: { dir: string; name?: string }): Promise<ProjectInfo> {
    // A non-empty folder is fine: the images may already live there. Made here first, where a
    // folder that cannot be made (under /proc) is an error rather than a spin.
    makeDirs(args.dir);
    this.setStore(LabelStore.create(path.resolve(args.dir), args.name));
    return this.store!.info();
  }

  async 'project.open'(args: { dir: string }): Promise<ProjectInfo> {
    this.setStore(LabelStore.open(args.dir));
    return this.store!.info();
  }

  async 'project.openSample'(args: { dir?: string; images?: number }): Promise<{ jobId: string; dir: string }> {
    const dir = path.resolve(args.dir ?? path.join(this.dataDir, 'samples', `sample-${timestamp()}`));
    if (LabelStore.isProject(dir)) throw new AppError('PROJECT_EXISTS', `a boxtune project already exists in ${dir}`);
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      throw new AppError('CONFLICT', `${dir} is not empty; the sample project needs a new or empty folder`);
    }
    const job = this.jobs.start(
      'sample',
      'Sample project',
      async (ctx) => {
        const sample = await runTask<{ yamlPath: string }>({ kind: 'sample', dir, ...(args.images ? { images: args.images } : {}) }, ctx);
        const store = LabelStore.create(dir, 'Sample project');
        store.close();
        return runTask<ImportSummary>({ kind: 'import', root: dir, request: { format: 'yolo', source: sample.yamlPath } }, ctx);
      },
      () => this.setStore(LabelStore.open(dir)),
    );
    return { jobId: job.id, dir };
  }

  async 'project.close'(_args: Empty): Promise<null> {
    if (this.store) {
      this.thumbnails.stop();
      this.store.close();
      this.store = null;
      this.emit('project', { root: null, reason: 'closed' });
    }
    return null;
  }

  async 'project.info'(_args: Empty): Promise<ProjectInfo> {
    return this.requireStore().info();
  }

  private setStore(store: LabelStore): void {
    this.thumbnails.stop();
    this.store?.close();
    this.store = store;
    this.training.markInterrupted(store); // runs a killed process left `running`
    this.settings.addRecentProject(store.root);
    this.emit('project', { root: store.root, reason: 'opened' });
    this.thumbnails.startQuietly(store);
  }

  // ---- images & classes ------------------------------------------------------------------------

  async 'images.page'(args: ImagePageQuery) {
    return this.requireStore().page(args);
  }

  async 'images.get'(args: { id: number }) {
    return this.requireStore().getImage(args.id);
  }

  async 'images.boxes'(args: { id: number }) {
    const store = this.requireStore();
    store.getImage(args.id); // NOT_FOUND for an unknown image rather than an empty list
    return store.boxes(args.id);
  }

  async 'images.predictions'(args: { id: number }): Promise<PredictionRecord[]> {
    const store = this.requireStore();
    store.getImage(args.id);
    return imagePredictions(store, args.id);
  }

  async 'images.neighbors'(args: { id: number; filter?: ImageFilter }): Promise<ImageNeighbors> {
    const store = this.requireStore();
    store.getImage(args.id); // NOT_FOUND for an unknown image rather than neighbours of nothing
    return store.neighbors(args.id, args.filter ?? {});
  }

  async 'images.setStatus'(args: { id: number; status: ImageStatus }): Promise<EditResult> {
    return this.edit((e) => e.setStatus(args.id, args.status));
  }

  async 'images.view'(args: { id: number }): Promise<ImageView> {
    return imageView(this.requireStore().getImage(args.id));
  }

  async 'images.generateThumbnails'(_args: Empty): Promise<{ jobId: string | null }> {
    return { jobId: await this.thumbnails.start(this.requireStore()) };
  }

  // ---- box edits (committed as they happen; one undo step each) ---------------------------------

  async 'boxes.create'(args: { imageId: number; boxes: NewBox[] }): Promise<EditResult> {
    return this.edit((e) => e.create(args.imageId, args.boxes));
  }

  async 'boxes.update'(args: { imageId: number; changes: BoxChange[] }): Promise<EditResult> {
    return this.edit((e) => e.update(args.imageId, args.changes));
  }

  async 'boxes.delete'(args: { imageId: number; ids: number[] }): Promise<EditResult> {
    return this.edit((e) => e.delete(args.imageId, args.ids));
  }

  async 'boxes.copyFrom'(args: { imageId: number; fromImageId: number; ids?: number[] }): Promise<EditResult> {
    this.requireStore().getImage(args.fromImageId); // NOT_FOUND rather than an empty copy
    return this.edit((e) => e.copyFrom(args.imageId, args.fromImageId, args.ids));
  }

  async 'edits.undo'(args: { imageId: number }): Promise<EditResult> {
    return this.edit((e) => e.undo(args.imageId));
  }

  async 'edits.redo'(args: { imageId: number }): Promise<EditResult> {
    return this.edit((e) => e.redo(args.imageId));
  }

  async 'edits.state'(args: { imageId: number }): Promise<{ canUndo: boolean; canRedo: boolean }> {
    const store = this.requireStore();
    store.getImage(args.imageId);
    return this.editor().state(args.imageId);
  }

  private editor(): BoxEditor {
    return new BoxEditor(this.requireStore());
  }

  /**
   * Runs a write the UI asked for on the open store. It waits at most UI_BUSY_TIMEOUT_MS for the
   * write lock (an import may hold it for seconds) and fails as BUSY rather than freezing the
   * main process; the renderer sends the edit again (store/db.ts).
   */
  private write<T>(fn: (store: LabelStore) => T): T {
    const store = this.requireStore();
    return withBusyTimeout(store.db, UI_BUSY_TIMEOUT_MS, () => fn(store));
  }

  private edit<T>(fn: (editor: BoxEditor) => T): T {
    return this.write((store) => fn(new BoxEditor(store)));
  }

  // ---- classes ---------------------------------------------------------------------------------

  async 'classes.list'(_args: Empty) {
    return this.requireStore().classes();
  }

  async 'classes.create'(args: { name: string; color?: string }): Promise<ClassRecord> {
    return this.classChange(this.write((s) => new ClassManager(s).create(args.name, args.color)));
  }

  async 'classes.update'(args: { id: number; name?: string; color?: string }): Promise<ClassRecord> {
    return this.classChange(this.write((s) => new ClassManager(s).update(args.id, args)));
  }

  async 'classes.reorder'(args: { ids: number[] }): Promise<ClassRecord[]> {
    return this.classChange(this.write((s) => new ClassManager(s).reorder(args.ids)));
  }

  async 'classes.usage'(args: { id: number }): Promise<ClassUsage> {
    return this.classManager().usage(args.id);
  }

  async 'classes.merge'(args: { sourceId: number; targetId: number }): Promise<ClassUsage> {
    return this.classChange(this.write((s) => new ClassManager(s).merge(args.sourceId, args.targetId)));
  }

  async 'classes.delete'(args: { id: number }): Promise<ClassUsage> {
    return this.classChange(this.write((s) => new ClassManager(s).delete(args.id)));
  }

  private classManager(): ClassManager {
    return new ClassManager(this.requireStore());
  }

  /** Class changes alter counts and colours everywhere: tell every window. */
  private classChange<T>(value: T): T {
    this.projectChanged(this.requireStore().root);
    return value;
  }

  /** The file behind an image id. Only images registered in the open project are ever served. */
  imageFile(id: number): { absPath: string; contentType: string } {
    const store = this.requireStore();
    const absPath = store.absolutePath(store.getImage(id).path);
    return { absPath, contentType: contentTypeFor(absPath) };
  }

  /** The file behind an image URL: the original, or its thumbnail, preview or a tile (made on first request). */
  imageAsset(id: number, asset: ImageAsset): Promise<AssetFile> {
    return resolveImageAsset(this.requireStore(), id, asset);
  }

  // ---- dataset jobs ----------------------------------------------------------------------------

  async 'dataset.import'(args: ImportRequest): Promise<{ jobId: string }> {
    const root = this.requireStore().root;
    // A source that is not there is said now, not by a job a moment later.
    if (!fs.existsSync(args.source)) throw new AppError('FILE_NOT_FOUND', `nothing to import at ${args.source}: no such file or folder`);
    if (args.imagesDir !== undefined && !fs.statSync(args.imagesDir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new AppError('FILE_NOT_FOUND', `images folder not found: ${args.imagesDir}`);
    }
    const job = this.jobs.start(
      'import',
      `Import ${path.basename(args.source)}`,
      (ctx) => runTask<ImportSummary>({ kind: 'import', root, request: { ...args, source: path.resolve(args.source) } }, ctx),
      () => {
        this.projectChanged(root);
        if (this.store?.root === root) this.thumbnails.startQuietly(this.store);
      },
    );
    return { jobId: job.id };
  }

  async 'dataset.export'(args: ExportRequest): Promise<{ jobId: string }> {
    const root = this.requireStore().root;
    const job = this.jobs.start('export', `Export ${args.format.toUpperCase()}`, (ctx) =>
      runTask<ExportSummary>({ kind: 'export', root, request: { ...args, dir: path.resolve(args.dir) } }, ctx),
    );
    return { jobId: job.id };
  }

  async 'dataset.assignSplits'(args: SplitRequest): Promise<SplitSummary> {
    const store = this.requireStore();
    const images = store.imageClasses();
    const updates =
      args.scope === 'train'
        ? planSplits(images.filter((i) => i.split === 'train'), { ...args, scope: 'all' })
        : planSplits(images, { ...args, scope: args.scope ?? 'unassigned' });
    this.write((s) => s.setSplits(updates));
    const counts = Object.fromEntries(SPLITS.map((s) => [s, 0])) as SplitSummary['counts'];
    for (const s of store.info().splits) counts[s.split] = s.images;
    this.projectChanged(store.root);
    return { assigned: updates.size, counts };
  }

  private projectChanged(root: string): void {
    if (this.store?.root === root) this.emit('project', { root, reason: 'changed' });
  }

  // ---- training --------------------------------------------------------------------------------

  async 'train.preflight'(_args: Empty): Promise<TrainPreflight> {
    return preflight(this.requireStore());
  }

  async 'train.start'(args: TrainRequest): Promise<{ jobId: string; runId: number }> {
    const store = this.requireStore();
    if (args.resumeRunId === undefined && !args.model.startsWith('run:')) {
      // A file that is no trainable detection model gets the reader's error now, before a run is recorded.
      const model = await inspectModelFileInWorker(args.model);
      if (model.format === 'onnx') throw new AppError('INVALID_INPUT', `${path.basename(args.model)} is an ONNX file, which cannot be fine-tuned: pick its .pt or .safetensors`);
    }
    return this.training.start(store, args);
  }

  async 'train.runs'(_args: Empty): Promise<TrainRunSummary[]> {
    return this.training.runs(this.requireStore());
  }

  async 'train.run'(args: { id: number }): Promise<TrainRunDetail> {
    return this.training.run(this.requireStore(), args.id);
  }

  async 'train.csv'(args: { id: number }): Promise<string> {
    return this.training.csv(this.requireStore(), args.id);
  }

  async 'train.predict'(args: { runId: number; split?: Split; conf?: number }): Promise<{ jobId: string }> {
    const store = this.requireStore();
    const { weights, imgsz, name } = this.training.weightsOf(store, args.runId);
    const split = args.split ?? 'val';
    const root = store.root;
    const request = { runId: args.runId, weights, imgsz, split, ...(args.conf !== undefined ? { conf: args.conf } : {}) };
    const job = this.jobs.start(
      'predict',
      `Predict ${split} with ${name}`,
      (ctx) => runTask<PredictSplitResult>({ kind: 'predict', root, request }, ctx),
      () => this.projectChanged(root),
    );
    return { jobId: job.id };
  }

  // ---- model zoo -------------------------------------------------------------------------------

  async 'models.list'(_args: Empty): Promise<ZooModel[]> {
    return this.models.list();
  }

  async 'models.download'(args: { name: string }): Promise<{ jobId: string }> {
    return this.models.startDownload(this.jobs, args.name);
  }

  async 'models.inspect'(args: { path: string }): Promise<ModelInspection> {
    // Off the main thread, with a time and memory limit: the path is whatever the user typed.
    return inspectModelFileInWorker(path.resolve(args.path));
  }

  // ---- jobs ------------------------------------------------------------------------------------

  async 'jobs.list'(_args: Empty): Promise<JobInfo[]> {
    return this.jobs.list();
  }

  async 'jobs.get'(args: { id: string }): Promise<JobInfo> {
    return this.jobs.get(args.id);
  }

  async 'jobs.cancel'(args: { id: string }): Promise<JobInfo> {
    return this.jobs.cancel(args.id);
  }
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
