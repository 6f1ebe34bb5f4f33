/**
 * @file Classes as the Label view uses them: the project's list (read from the project store,
 * which re-reads it on every class change), hide and lock flags per class (remembered per project
 * in this browser), the class of the next drawn box, a search, and the class manager's verbs. Each
 * verb is one Api call, committed at once; the project store then re-reads counts and classes.
 */
import type { ClassRecord, ClassUsage } from '../../../shared/types';
import { api, errorMessage } from '../lib/api';
import { project } from './project.svelte';

const FLAGS_KEY = 'boxtune.classFlags:';

export class ClassesStore {
  list = $derived(project.classes);
  byId = $derived(new Map(this.list.map((c) => [c.id, c])));
  /** Boxes per class in the whole project, as of the last project re-read. */
  totals = $derived(new Map((project.current?.classCounts ?? []).map((c) => [c.classId, c.boxes])));
  hidden = $state.raw<ReadonlySet<number>>(new Set());
  locked = $state.raw<ReadonlySet<number>>(new Set());
  search = $state('');
  error = $state<string | null>(null);
  filtered = $derived.by(() => {
    const q = this.search.trim().toLowerCase();
    return q ? this.list.filter((c) => c.name.toLowerCase().includes(q)) : this.list;
  });

  #chosen = $state<number | null>(null);
  /** The class a new box gets: the one picked last (digit or click), else the first. */
  nextId = $derived(this.#chosen !== null && this.byId.has(this.#chosen) ? this.#chosen : (this.list[0]?.id ?? null));

  #flagsFor: string | null = null;

  /** The n-th class of the list (digits 1..9, 0 are 0..9). */
  at(index: number): ClassRecord | undefined {
    return this.list[index];
  }

  color(id: number): string {
    return this.byId.get(id)?.color ?? '#d9dce0';
  }

  setNext = (id: number): void => {
    this.#chosen = id;
  };

  toggleHidden = (id: number): void => {
    this.hidden = toggled(this.hidden, id);
    this.#saveFlags();
  };

  toggleLocked = (id: number): void => {
    this.locked = toggled(this.locked, id);
    this.#saveFlags();
  };

  /** Loads the hide / lock flags saved for this project (call when a project opens). */
  loadFlags(root: string): void {
    if (this.#flagsFor === root) return;
    this.#flagsFor = root;
    try {
      const saved = JSON.parse(localStorage.getItem(FLAGS_KEY + root) ?? '{}') as { hidden?: number[]; locked?: number[] };
      this.hidden = new Set(saved.hidden ?? []);
      this.locked = new Set(saved.locked ?? []);
    } catch {
      this.hidden = new Set();
      this.locked = new Set();
    }
  }

  #saveFlags(): void {
    if (!this.#flagsFor) return;
    try {
      localStorage.setItem(FLAGS_KEY + this.#flagsFor, JSON.stringify({ hidden: [...this.hidden], locked: [...this.locked] }));
    } catch {
      // storage full or disabled: the flags just last for this session
    }
  }

  /** The id of a class to draw with, creating "object" when the project has none yet. */
  async ensureNext(): Promise<number | null> {
    if (this.nextId !== null) return this.nextId;
    const created = await this.create('object');
    return created?.id ?? null;
  }

  create(name: string, color?: string): Promise<ClassRecord | null> {
    return this.#act(() => api['classes.create']({ name, ...(color ? { color } : {}) }));
  }

  rename(id: number, name: string): Promise<ClassRecord | null> {
    return this.#act(() => api['classes.update']({ id, name }));
  }

  recolor(id: number, color: string): Promise<ClassRecord | null> {
    return this.#act(() => api['classes.update']({ id, color }));
  }

  /** Moves a class one place up (-1) or down (+1) in the list (its YOLO id on export). */
  move(id: number, dir: -1 | 1): Promise<ClassRecord[] | null> {
    const ids = this.list.map((c) => c.id);
    const i = ids.indexOf(id);
    const j = i + dir;
    if (i < 0 || j < 0 || j >= ids.length) return Promise.resolve(null);
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    return this.#act(() => api['classes.reorder']({ ids }));
  }

  usage(id: number): Promise<ClassUsage | null> {
    return this.#act(() => api['classes.usage']({ id }), false);
  }

  merge(sourceId: number, targetId: number): Promise<ClassUsage | null> {
    return this.#act(() => api['classes.merge']({ sourceId, targetId }));
  }

  remove(id: number): Promise<ClassUsage | null> {
    return this.#act(() => api['classes.delete']({ id }));
  }

  async #act<T>(run: () => Promise<T>, refresh = true): Promise<T | null> {
    this.error = null;
    try {
      const value = await run();
      if (refresh) await project.refresh();
      return value;
    } catch (err) {
      this.error = errorMessage(err);
      return null;
    }
  }
}

function toggled(set: ReadonlySet<number>, id: number): ReadonlySet<number> {
  const next = new Set(set);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

export const classes = new ClassesStore();
