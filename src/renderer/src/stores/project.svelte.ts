/**
 * @file The open project (or none): app info, project counts and classes. Re-reads itself when the
 * service says the project changed, so every view shows what the store holds.
 */
import type {
  AppInfo,
  ClassRecord,
  ExportRequest,
  ImportRequest,
  ProjectInfo,
  SplitRequest,
  SplitSummary,
} from '../../../shared/types';
import { api, errorMessage, onEvent, onReconnect } from '../lib/api';

export class ProjectStore {
  app = $state.raw<AppInfo | null>(null);
  current = $state.raw<ProjectInfo | null>(null);
  classes = $state.raw<ClassRecord[]>([]);
  /** False until the first app.info answer: the UI shows nothing rather than a flash of the start screen. */
  ready = $state(false);
  /** Set by actions the user started (create, open...), shown beside the form that failed. */
  error = $state<string | null>(null);
  busy = $state(false);
  /** Bumped after every re-read of project data; lists reload when it changes. */
  revision = $state(0);

  #refreshing: Promise<void> | null = null;
  #again = false;

  /** Starts listening to service events and loads the initial state; returns the cleanup. */
  connect(): () => void {
    const offs = [
      onEvent('project', (e) => {
        if (e.reason === 'closed') this.#clear();
        else void this.refresh();
      }),
      onEvent('job', (job) => {
        // The service also sends project 'changed'; this covers a job whose event arrives alone.
        if (job.state === 'done' && (job.kind === 'import' || job.kind === 'sample')) void this.refresh();
      }),
      onReconnect(() => void this.refresh()),
    ];
    void this.refresh();
    return () => offs.forEach((off) => off());
  }

  /** Re-reads app info, project counts and classes. Calls during a refresh coalesce into one more. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#load();
        } while (this.#again);
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  async #load(): Promise<void> {
    try {
      const app = await api['app.info']({});
      this.app = app;
      if (app.project) {
        const [info, classes] = await Promise.all([api['project.info']({}), api['classes.list']({})]);
        this.current = info;
        this.classes = classes;
      } else {
        this.#clear();
      }
      this.revision++;
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.ready = true;
    }
  }

  create(dir: string, name: string): Promise<boolean> {
    return this.#act(() => api['project.create']({ dir, ...(name.trim() ? { name: name.trim() } : {}) }));
  }

  open(dir: string): Promise<boolean> {
    return this.#act(() => api['project.open']({ dir }));
  }

  /** Starts generating the sample project; the job's progress shows in the jobs panel. */
  openSample(): Promise<boolean> {
    return this.#act(() => api['project.openSample']({}), false);
  }

  close(): Promise<boolean> {
    return this.#act(() => api['project.close']({}));
  }

  /** Starts an import job; progress arrives as job events. Throws AppError when refused at once. */
  async importDataset(req: ImportRequest): Promise<string> {
    return (await api['dataset.import'](req)).jobId;
  }

  async exportDataset(req: ExportRequest): Promise<string> {
    return (await api['dataset.export'](req)).jobId;
  }

  async assignSplits(req: SplitRequest): Promise<SplitSummary> {
    const summary = await api['dataset.assignSplits'](req);
    await this.refresh();
    return summary;
  }

  /** Runs a user action: busy while it runs, its error kept for display, state re-read after. */
  async #act(run: () => Promise<unknown>, refreshAfter = true): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      await run();
      if (refreshAfter) await this.refresh();
      return true;
    } catch (err) {
      this.error = errorMessage(err);
      return false;
    } finally {
      this.busy = false;
    }
  }

  #clear(): void {
    this.current = null;
    this.classes = [];
  }
}

export const project = new ProjectStore();
