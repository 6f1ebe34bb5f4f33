/**
 * @file The image list behind the virtualized browser: a filter, the total it matches, and pages
 * of PAGE_SIZE rows fetched on demand by offset and kept in a small cache. Rows are read by index,
 * so a list of 100k images costs only the pages the user scrolls past.
 */
import { untrack } from 'svelte';
import { SvelteMap } from 'svelte/reactivity';
import type { ImageFilter, ImageRecord } from '../../../shared/types';
import { api, errorMessage, onEvent, onReconnect } from '../lib/api';

export const PAGE_SIZE = 200;
/** 40 pages = 8,000 rows held at most; pages far from the view are dropped first. */
const MAX_PAGES = 40;

export class ImagesStore {
  filter = $state<ImageFilter>({});
  total = $state(0);
  /** True until the first page for the current filter has arrived. */
  loading = $state(true);
  error = $state<string | null>(null);
  /** Bumped when the filter changes: the list scrolls back to the top. */
  filterVersion = $state(0);

  #pages = new SvelteMap<number, ImageRecord[]>();
  #pending = new Set<number>();
  /** Answers from before the last filter change or invalidation are dropped. */
  #generation = 0;
  #visible: [first: number, last: number] = [0, 0];

  /** Follows the service: new data reloads the view in place, another project starts afresh. */
  connect(): () => void {
    const offs = [
      onEvent('project', (e) => {
        if (e.reason === 'changed') this.invalidate();
        else this.reset();
      }),
      onEvent('job', (job) => {
        if (job.state === 'done' && (job.kind === 'import' || job.kind === 'sample')) this.invalidate();
      }),
      onReconnect(() => this.invalidate()),
    ];
    return () => offs.forEach((off) => off());
  }

  /** The row at `index`, or undefined while its page loads. */
  rowAt(index: number): ImageRecord | undefined {
    return this.#pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** Makes sure the pages covering rows [first, last) are loaded or on their way. */
  ensureRange(first: number, last: number): void {
    untrack(() => {
      this.#visible = [first, last];
      const lastPage = Math.floor(Math.max(first, last - 1) / PAGE_SIZE);
      for (let p = Math.floor(first / PAGE_SIZE); p <= lastPage; p++) {
        if (!this.#pages.has(p)) void this.#load(p);
      }
    });
  }

  setFilter(patch: Partial<ImageFilter>): void {
    const next: ImageFilter = { ...$state.snapshot(this.filter), ...patch };
    for (const key of Object.keys(next) as (keyof ImageFilter)[]) {
      if (next[key] === undefined || next[key] === '') delete next[key];
    }
    this.reset();
    this.filter = next;
    void this.#load(0);
  }

  /**
   * The data changed (an import finished): reload the pages in view in place, so the list does
   * not flash empty, and drop the rest.
   */
  invalidate(): void {
    this.#generation++;
    this.#pending.clear();
    const [first, last] = this.#visible;
    const keep = new Set<number>([0]);
    for (let p = Math.floor(first / PAGE_SIZE); p <= Math.floor(Math.max(first, last - 1) / PAGE_SIZE); p++) keep.add(p);
    for (const p of [...this.#pages.keys()]) if (!keep.has(p)) this.#pages.delete(p);
    for (const p of keep) void this.#load(p);
  }

  /** Another project: no filter, nothing cached; the list loads page 0 when it shows. */
  reset(): void {
    this.filter = {};
    this.filterVersion++;
    this.#generation++;
    this.#pending.clear();
    this.#pages.clear();
    this.#visible = [0, 0];
    this.total = 0;
    this.loading = true;
    this.error = null;
  }

  async #load(page: number): Promise<void> {
    const generation = this.#generation;
    if (this.#pending.has(page)) return;
    this.#pending.add(page);
    try {
      const result = await api['images.page']({
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
        filter: $state.snapshot(this.filter),
      });
      if (generation !== this.#generation) return;
      this.#pages.set(page, result.items);
      this.total = result.total;
      this.error = null;
      this.#evict();
    } catch (err) {
      if (generation === this.#generation) this.error = errorMessage(err);
    } finally {
      if (generation === this.#generation) {
        this.#pending.delete(page);
        this.loading = false;
      }
    }
  }

  #evict(): void {
    if (this.#pages.size <= MAX_PAGES) return;
    const center = Math.floor(this.#visible[0] / PAGE_SIZE);
    const far = [...this.#pages.keys()].sort((a, b) => Math.abs(b - center) - Math.abs(a - center));
    for (const p of far.slice(0, this.#pages.size - MAX_PAGES)) this.#pages.delete(p);
  }
}

export const images = new ImagesStore();
