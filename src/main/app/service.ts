/**
 * @file BoxtuneService: the Api over the services. It holds the open project, the registries
 * (jobs, model zoo, training, thumbnails), settings and events; each Api method is a handler in
 * handlers/<domain>.ts. Plain Node: the Electron main process, the HTTP server, the CLI and tests
 * all construct this one class. Arguments arrive already validated (dispatch.ts).
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Api, ApiArgs, ApiEventMessage, ApiEvents, ApiMethod, ApiValue } from '../../shared/api';
import { API_METHODS } from '../../shared/api';
import { AppError } from '../../shared/errors';
import { JobRegistry } from '../jobs/job-registry';
import type { AssetFile, ImageAsset } from '../images/image-assets';
import { ThumbnailJobs } from '../images/thumbnail-job';
import { ModelZoo } from '../model/zoo';
import type { LabelStore } from '../store/label-store';
import { defaultDataDir, modelCacheDir } from './data-dir';
import { appHandlers } from './handlers/app';
import { boxesHandlers } from './handlers/boxes';
import { classesHandlers } from './handlers/classes';
import type { ServiceContext } from './handlers/context';
import { datasetHandlers } from './handlers/dataset';
import { imageAsset, imageFile, imagesHandlers } from './handlers/images';
import { jobsHandlers } from './handlers/jobs';
import { modelsHandlers } from './handlers/models';
import { projectHandlers } from './handlers/project';
import { trainHandlers } from './handlers/train';
import { Settings } from './settings';
import { TrainService } from './train-service';

export { APP_VERSION } from './handlers/app';

export interface ServiceOptions {
  shell: 'electron' | 'browser';
  /** Where settings (recent projects) and generated sample projects live. */
  dataDir?: string;
}

/** Every Api method's handler; each domain's file checks its handlers against its schemas and the Api. */
const HANDLERS: { [M in ApiMethod]: (ctx: ServiceContext, args: ApiArgs<M>) => ApiValue<M> | Promise<ApiValue<M>> } = {
  ...appHandlers,
  ...projectHandlers,
  ...imagesHandlers,
  ...boxesHandlers,
  ...classesHandlers,
  ...datasetHandlers,
  ...trainHandlers,
  ...modelsHandlers,
  ...jobsHandlers,
};

// The Api's methods are the handlers, bound to the service in the constructor.
export interface BoxtuneService extends Api {}

export class BoxtuneService implements ServiceContext {
  /** Emits 'event' with an ApiEventMessage for every push to the UI. */
  readonly events = new EventEmitter();
  readonly jobs: JobRegistry;
  readonly training: TrainService;
  /** Downloadable Ultralytics weights, cached in <dataDir>/models. */
  readonly models: ModelZoo;
  readonly thumbnails: ThumbnailJobs;
  readonly shell: ServiceOptions['shell'];
  readonly dataDir: string;
  readonly settings: Settings;
  private openProject: LabelStore | null = null;

  constructor(opts: ServiceOptions) {
    this.shell = opts.shell;
    this.dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
    this.settings = new Settings(path.join(this.dataDir, 'settings.json'));
    this.jobs = new JobRegistry((info) => this.emit('job', info));
    this.training = new TrainService(this.jobs, (p) => this.emit('train', p));
    this.thumbnails = new ThumbnailJobs(this.jobs);
    this.models = new ModelZoo(modelCacheDir(this.dataDir));
    const table = Object.fromEntries(API_METHODS.map((m) => [m, this.bind(m)])) as unknown as Api;
    Object.assign(this, table);
  }

  /** The method `m` of the Api: its handler on this service, always answering with a promise. */
  private bind<M extends ApiMethod>(m: M): Api[M] {
    const handler = HANDLERS[m] as (ctx: ServiceContext, args: ApiArgs<M>) => ApiValue<M> | Promise<ApiValue<M>>;
    return (async (args: ApiArgs<M>) => handler(this, args)) as Api[M];
  }

  emit<E extends keyof ApiEvents>(event: E, data: ApiEvents[E]): void {
    const msg: ApiEventMessage<E> = { event, data };
    this.events.emit('event', msg);
  }

  get store(): LabelStore | null {
    return this.openProject;
  }

  requireStore(): LabelStore {
    if (!this.openProject) throw new AppError('NO_PROJECT', 'no project is open: create or open one first');
    return this.openProject;
  }

  openStore(store: LabelStore): void {
    this.thumbnails.stop();
    this.openProject?.close();
    this.openProject = store;
    this.training.markInterrupted(store); // runs a killed process left `running`
    this.settings.addRecentProject(store.root);
    this.emit('project', { root: store.root, reason: 'opened' });
    this.thumbnails.startQuietly(store);
  }

  closeStore(): void {
    if (!this.openProject) return;
    this.thumbnails.stop();
    this.openProject.close();
    this.openProject = null;
    this.emit('project', { root: null, reason: 'closed' });
  }

  /** Ends every job and closes the project quietly (the process is going away). */
  async close(): Promise<void> {
    await this.jobs.close();
    this.openProject?.close();
    this.openProject = null;
  }

  /** The file behind an image id (HTTP image route). */
  imageFile(id: number): { absPath: string; contentType: string } {
    return imageFile(this, id);
  }

  /** The file behind an image URL: the original, or its thumbnail, preview or a tile. */
  imageAsset(id: number, asset: ImageAsset): Promise<AssetFile> {
    return imageAsset(this, id, asset);
  }
}
