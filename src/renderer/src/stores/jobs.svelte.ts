/**
 * @file Long jobs (import, export, sample generation) as the service reports them. Running and
 * failed jobs stay listed; finished ones linger briefly so the user sees them end.
 */
import type { JobInfo } from '../../../shared/types';
import { api, errorMessage, onEvent, onReconnect } from '../lib/api';

const DONE_LINGER_MS = 6000;
/** Finished jobs kept in memory; older ones are dropped (the service keeps its own list). */
const MAX_FINISHED = 50;

export class JobsStore {
  jobs = $state.raw<JobInfo[]>([]);
  error = $state<string | null>(null);
  #dismissed = new Set<string>();

  visible = $derived(this.jobs.filter((j) => j.state === 'running' || !this.#isDismissed(j.id)));
  running = $derived(this.jobs.filter((j) => j.state === 'running'));

  connect(): () => void {
    const offs = [onEvent('job', (job) => this.upsert(job)), onReconnect(() => void this.sync())];
    void this.sync();
    return () => offs.forEach((off) => off());
  }

  /** Replaces the list with the service's (jobs from before this page loaded included). */
  async sync(): Promise<void> {
    try {
      const all = await api['jobs.list']({});
      // Jobs that ended before this page loaded are history, not news.
      for (const j of all) if (j.state !== 'running') this.#dismissed.add(j.id);
      this.jobs = all;
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  upsert(job: JobInfo): void {
    const i = this.jobs.findIndex((j) => j.id === job.id);
    let next = i < 0 ? [...this.jobs, job] : this.jobs.map((j) => (j.id === job.id ? job : j));
    const finished = next.filter((j) => j.state !== 'running');
    if (finished.length > MAX_FINISHED) {
      const drop = new Set(finished.slice(0, finished.length - MAX_FINISHED).map((j) => j.id));
      next = next.filter((j) => !drop.has(j.id));
    }
    this.jobs = next;
    if (job.state === 'done') setTimeout(() => this.dismiss(job.id), DONE_LINGER_MS);
  }

  async cancel(id: string): Promise<void> {
    try {
      this.upsert(await api['jobs.cancel']({ id }));
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  dismiss(id: string): void {
    this.#dismissed.add(id);
    // Reassign so `visible` re-derives (the Set itself is not reactive).
    this.jobs = [...this.jobs];
  }

  #isDismissed(id: string): boolean {
    return this.#dismissed.has(id);
  }
}

export const jobs = new JobsStore();
