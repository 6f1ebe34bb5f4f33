/**
 * @file The background thumbnail job of the open project: started after an import, when a project
 * opens and on request, only when some thumbnail is missing, never twice for one project at once,
 * and cancelled when its project closes.
 */
import type { JobRegistry } from '../jobs/job-registry';
import type { LabelStore } from '../store/label-store';
import { SingleFlight } from '../util/single-flight';
import { makeThumbnails, missingThumbnails } from './thumbnails';

export class ThumbnailJobs {
  private current: { root: string; jobId: string } | null = null;
  /** Two callers checking the same project at once (an import ends as the user clicks) share one check. */
  private readonly starting = new SingleFlight<string | null>();

  constructor(private readonly jobs: JobRegistry) {}

  /** Starts a job for the missing thumbnails of `store`'s project; its id, or null when none is missing. */
  start(store: LabelStore): Promise<string | null> {
    return this.starting.run(store.root, async () => {
      const running = this.runningJob(store.root);
      if (running) return running;
      const missing = await missingThumbnails(store);
      if (missing.length === 0) return null;
      // The job needs only paths (root, absolutePath), never the database: it may outlive the store.
      const job = this.jobs.start('thumbnails', 'Thumbnails', (ctx) => makeThumbnails(store, missing, ctx));
      this.current = { root: store.root, jobId: job.id };
      return job.id;
    });
  }

  /** Like start(), for the hooks that fire and forget: a failed check only means no job now. */
  startQuietly(store: LabelStore): void {
    this.start(store).catch(() => undefined);
  }

  /** Cancels the running job (its project is closing or another one opens). */
  stop(): void {
    const id = this.current && this.runningJob(this.current.root);
    if (id) this.jobs.cancel(id);
    this.current = null;
  }

  private runningJob(root: string): string | null {
    if (!this.current || this.current.root !== root) return null;
    const id = this.current.jobId;
    const running = this.jobs.list().some((j) => j.id === id && j.state === 'running');
    return running ? id : null;
  }
}
