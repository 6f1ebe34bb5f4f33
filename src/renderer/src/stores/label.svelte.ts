/**
 * @file The Label view's session: the image on the canvas, its boxes, the selection, undo/redo
 * flags, its neighbours in the navigation order, and every edit verb.
 *
 * The store (SQLite, through the Api) is the source of truth. Each edit is one Api call, made at
 * once and in order (one queue), and its EditResult delta is applied to the box list; a failed
 * call shows its error and re-reads the image's boxes. Nothing waits for a save, except while an
 * import writes: then an edit answers BUSY and is sent again until it lands (busy-retry.ts).
 *
 * D must feel instant in a 100k-image project, so the neighbours of the current image are
 * prepared ahead (record, boxes, undo flags and decoded pixels) and the image being left is kept
 * as it is, so A back is instant too. A prepared image is shown at once and re-read behind it.
 */
import type { BoxChange, BoxRecord, EditResult, ImageFilter, ImageNeighbors, ImageRecord, NewBox, PredictionRecord } from '../../../shared/types';
import type { CanvasImage } from '../canvas/types';
import { moveRects, type Rect } from '../canvas/geometry';
import { loadCanvasImage } from '../canvas/image-loader';
import { Lru } from '../canvas/lru';
import { api, errorMessage, imageUrl, previewUrl, tileUrl } from '../lib/api';
import { retryWhileBusy } from './busy-retry';
import { classes } from './classes.svelte';
import { project } from './project.svelte';
import { copyBoxes, duplicateBoxes, pasteBoxes, type Clip } from './label-clipboard';
import { applyDelta, cycle, readingOrder, sameBoxes } from './label-model';

/** An image ready to show. */
interface Prepared {
  image: ImageRecord;
  boxes: BoxRecord[];
  canUndo: boolean;
  canRedo: boolean;
  canvas: CanvasImage;
  /** When it was read (performance.now()); Infinity for the session's own copy of an image it left. */
  readAt: number;
}

/** Prepared images kept: the current one, the ones either side, and a few just visited. */
const PREPARED_KEPT = 8;
/** A prepared image older than this is read again after it is shown (another window may have edited it). */
const STALE_MS = 30_000;
const NOTICE_MS = 2500;
const BUSY_NOTICE = 'The project is busy importing: your edit will be saved as soon as it is free…';

export class LabelSession {
  image = $state.raw<ImageRecord | null>(null);
  boxes = $state.raw<BoxRecord[]>([]);
  canvas = $state.raw<CanvasImage | null>(null);
  selection = $state.raw<ReadonlySet<number>>(new Set());
  neighbors = $state.raw<ImageNeighbors | null>(null);
  canUndo = $state(false);
  canRedo = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);
  /** A short message that goes away by itself ("nothing to paste"). */
  notice = $state<string | null>(null);
  /** Boxes on the clipboard. */
  clipSize = $state(0);
  /** The newest run's predictions for the current image (read-only; [] when there are none). */
  predictions = $state.raw<PredictionRecord[]>([]);

  #filter: ImageFilter = {};
  /** The project the cached images belong to (image ids start over in every project). */
  #root: string | null = null;
  /** The view was left (back to the browser): reopening the same image reads it again. */
  #left = false;
  #generation = 0;
  #prepared = new Lru<number, Promise<Prepared>>(PREPARED_KEPT);
  #neighbors: Promise<ImageNeighbors> | null = null;
  /** The image shown before this one: what "copy the previous image's boxes" copies. */
  #previousId: number | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  /** Bumped by every edit, so a re-read that started before one is not applied over it. */
  #edits = 0;
  #clip: Clip | null = null;
  /** Arrow nudges not yet sent: they are coalesced while a call is in flight. */
  #nudges = new Map<number, BoxChange>();
  #nudgeQueued = false;
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by each predictions read, so only the latest one's answer is applied. */
  #predictionReads = 0;

  // ---- navigation ---------------------------------------------------------------------------------

  /** Shows image `id`, walking `filter`'s order from there. */
  async open(id: number, filter: ImageFilter): Promise<void> {
    const root = project.current?.root ?? null;
    if (root !== this.#root) this.#forget(root);
    const sameFilter = JSON.stringify(filter) === JSON.stringify(this.#filter);
    if (this.image?.id === id && sameFilter && !this.#left) return;
    this.#left = false;
    const generation = ++this.#generation;
    this.#filter = filter;
    const leaving = this.image;
    if (leaving && this.canvas && leaving.id !== id) {
      this.#previousId = leaving.id;
      // Keep the image being left as it is now: A brings it back without a round trip.
      this.#prepared.set(leaving.id, Promise.resolve(this.#current(this.canvas)));
    }
    const predicted = predictNeighbors(this.neighbors, leaving?.id ?? null, id);
    this.loading = true;
    this.error = null;
    this.#neighbors = api['images.neighbors']({ id, filter });
    this.#neighbors.catch(() => undefined);
    let prep: Prepared;
    try {
      prep = await this.#prepare(id);
    } catch (err) {
      if (generation === this.#generation) {
        this.error = errorMessage(err);
        this.loading = false;
      }
      return;
    }
    if (generation !== this.#generation) return;
    this.image = prep.image;
    this.boxes = prep.boxes;
    this.canvas = prep.canvas;
    this.canUndo = prep.canUndo;
    this.canRedo = prep.canRedo;
    this.selection = new Set();
    this.neighbors = predicted;
    this.loading = false;
    // The rest (neighbours' prefetch, a re-read) waits for this image's first frame to be on screen.
    await afterPaint();
    if (generation === this.#generation) void this.#afterOpen(id, generation, performance.now() - prep.readAt > STALE_MS);
  }

  /** The image D, A or Shift+D goes to (null at the end of the order). */
  async target(which: 'next' | 'prev' | 'nextUnlabeled'): Promise<number | null> {
    if (!this.#neighbors) return null;
    try {
      const nb = await this.#neighbors;
      return nb[which];
    } catch (err) {
      this.error = errorMessage(err);
      return null;
    }
  }

  /** The view closes (back to the browser): answers still on their way are dropped; the image stays prepared for a quick return. */
  leave(): void {
    if (this.image && this.canvas) this.#prepared.set(this.image.id, Promise.resolve(this.#current(this.canvas)));
    this.#left = true;
    this.#generation++;
  }

  /** Another project: nothing cached, copied or visited belongs to it. */
  #forget(root: string | null): void {
    this.#root = root;
    this.#generation++;
    this.#prepared.clear();
    this.#clip = null;
    this.clipSize = 0;
    this.#previousId = null;
    this.#neighbors = null;
    this.image = null;
    this.boxes = [];
    this.canvas = null;
    this.neighbors = null;
    this.selection = new Set();
    this.predictions = [];
  }

  /**
   * Reads image `id`'s predictions (on opening it, and after a predict job). Another image's are
   * dropped at once; a failed read shows none, without an error: predictions are an extra.
   */
  async loadPredictions(id: number): Promise<void> {
    const read = ++this.#predictionReads;
    if (this.predictions.length > 0 && this.predictions[0]?.imageId !== id) this.predictions = [];
    let preds: PredictionRecord[];
    try {
      preds = await api['images.predictions']({ id });
    } catch {
      preds = [];
    }
    if (read === this.#predictionReads && this.image?.id === id) this.predictions = preds;
  }

  async #afterOpen(id: number, generation: number, revalidate: boolean): Promise<void> {
    const edits = this.#edits;
    try {
      const nb = await this.#neighbors!;
      if (generation !== this.#generation) return;
      this.neighbors = nb;
      for (const n of [nb.next, nb.prev]) if (n !== null) this.#prepare(n).catch(() => undefined);
    } catch (err) {
      if (generation === this.#generation) this.error = errorMessage(err);
    }
    if (!revalidate) return;
    // Prepared a while ago: read it again in case it changed meanwhile (another window, a job).
    try {
      const [image, boxes, state] = await Promise.all([
        api['images.get']({ id }),
        api['images.boxes']({ id }),
        api['edits.state']({ imageId: id }),
      ]);
      if (generation !== this.#generation || edits !== this.#edits) return;
      this.image = image;
      if (!sameBoxes(boxes, this.boxes)) this.boxes = boxes;
      this.canUndo = state.canUndo;
      this.canRedo = state.canRedo;
    } catch {
      // the shown copy stays; the next edit will report any real problem
    }
  }

  #prepare(id: number): Promise<Prepared> {
    const hit = this.#prepared.get(id);
    if (hit) return hit;
    const p = (async (): Promise<Prepared> => {
      const [image, boxes, state, view] = await Promise.all([
        api['images.get']({ id }),
        api['images.boxes']({ id }),
        api['edits.state']({ imageId: id }),
        api['images.view']({ id }),
      ]);
      const urls = { full: imageUrl(image), preview: previewUrl(image), tile: (l: number, c: number, r: number) => tileUrl(image, l, c, r) };
      const canvas = await loadCanvasImage(image, urls, view);
      return { image, boxes, ...state, canvas, readAt: performance.now() };
    })();
    this.#prepared.set(id, p);
    p.catch(() => {
      if (this.#prepared.peek(id) === p) this.#prepared.delete(id);
    });
    return p;
  }

  #current(canvas: CanvasImage): Prepared {
    return { image: this.image!, boxes: this.boxes, canUndo: this.canUndo, canRedo: this.canRedo, canvas, readAt: Infinity };
  }

  /** Class merges and deletes change boxes anywhere: drop what was prepared and re-read this image. */
  invalidate(): Promise<void> {
    this.#prepared.clear();
    return this.reload();
  }

  /** Re-reads the current image's record, boxes and undo flags (after a failed edit). */
  async reload(): Promise<void> {
    const id = this.image?.id;
    if (id === undefined) return;
    const generation = this.#generation;
    try {
      const [image, boxes, state] = await Promise.all([
        api['images.get']({ id }),
        api['images.boxes']({ id }),
        api['edits.state']({ imageId: id }),
      ]);
      if (generation !== this.#generation) return;
      this.image = image;
      this.boxes = boxes;
      this.canUndo = state.canUndo;
      this.canRedo = state.canRedo;
      this.selection = new Set([...this.selection].filter((s) => boxes.some((b) => b.id === s)));
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  // ---- selection ----------------------------------------------------------------------------------

  select(ids: Iterable<number>): void {
    this.selection = new Set(ids);
  }

  /** Tab / Shift+Tab over the boxes the user can select, in reading order. */
  cycle(selectable: readonly BoxRecord[], dir: 1 | -1): number | null {
    const id = cycle(readingOrder(selectable), this.selection, dir);
    if (id !== null) this.selection = new Set([id]);
    return id;
  }

  #selected(): BoxRecord[] {
    return this.boxes.filter((b) => this.selection.has(b.id) && !classes.locked.has(b.classId) && !classes.hidden.has(b.classId));
  }

  // ---- edits --------------------------------------------------------------------------------------

  async create(rect: Rect): Promise<void> {
    const image = this.image;
    if (!image) return;
    const classId = await classes.ensureNext();
    if (classId === null) return;
    await this.#createBoxes(image.id, [{ classId, ...rect }]);
  }

  update(changes: BoxChange[]): void {
    const image = this.image;
    if (!image || changes.length === 0) return;
    void this.#edit(image.id, () => api['boxes.update']({ imageId: image.id, changes }));
  }

  /** Digit keys: the class of the selected boxes, or of the next box when none is selected. */
  setClass(index: number): void {
    const cls = classes.at(index);
    if (!cls) {
      this.notify(`there is no class ${index === 9 ? 10 : index + 1} yet`);
      return;
    }
    const selected = this.#selected();
    if (selected.length === 0) {
      classes.setNext(cls.id);
      return;
    }
    this.update(selected.filter((b) => b.classId !== cls.id).map((b) => ({ id: b.id, classId: cls.id })));
  }

  deleteSelected(): void {
    const image = this.image;
    const ids = this.#selected().map((b) => b.id);
    if (!image || ids.length === 0) return;
    void this.#edit(image.id, () => api['boxes.delete']({ imageId: image.id, ids }));
  }

  /** Arrow keys: moves the selection at once on screen; calls made while one is in flight are merged. */
  nudge(dx: number, dy: number): void {
    const image = this.image;
    const selected = this.#selected();
    if (!image || selected.length === 0) return;
    const moved = moveRects(selected, dx, dy, image);
    if (moved.every((m, i) => m.x === selected[i]!.x && m.y === selected[i]!.y)) return;
    this.boxes = applyDelta(this.boxes, { upserted: moved, deleted: [] });
    for (const m of moved) this.#nudges.set(m.id, { id: m.id, x: m.x, y: m.y });
    if (this.#nudgeQueued) return;
    this.#nudgeQueued = true;
    // Taken once, when the call is first made: a retry (BUSY) sends the same changes again.
    let changes: BoxChange[] | null = null;
    void this.#edit(image.id, () => {
      if (!changes) {
        this.#nudgeQueued = false;
        changes = [...this.#nudges.values()];
        this.#nudges.clear();
      }
      return api['boxes.update']({ imageId: image.id, changes });
    });
  }

  selectAll(selectable: readonly BoxRecord[]): void {
    this.selection = new Set(selectable.map((b) => b.id));
  }

  copy(): void {
    const image = this.image;
    if (!image) return;
    const clip = copyBoxes(this.boxes, new Set(this.#selected().map((b) => b.id)), image.id);
    if (!clip) return this.notify('select boxes to copy');
    this.#clip = clip;
    this.clipSize = clip.boxes.length;
    this.notify(`copied ${clip.boxes.length} box${clip.boxes.length === 1 ? '' : 'es'}`);
  }

  async paste(): Promise<void> {
    const image = this.image;
    if (!image) return;
    if (!this.#clip) return this.notify('nothing to paste: copy boxes with Ctrl+C');
    const { boxes, clip } = pasteBoxes(this.#clip, image);
    this.#clip = clip;
    if (boxes.length === 0) return this.notify('the copied boxes fall outside this image');
    await this.#createBoxes(image.id, boxes);
  }

  async duplicate(): Promise<void> {
    const image = this.image;
    if (!image) return;
    const boxes = duplicateBoxes(this.#selected(), image);
    if (boxes.length === 0) return this.notify('select boxes to duplicate');
    await this.#createBoxes(image.id, boxes);
  }

  /** Copies every box of the image shown before this one (or the previous in the order). */
  async copyPrevious(): Promise<void> {
    const image = this.image;
    if (!image) return;
    const from = this.#previousId ?? (await this.target('prev'));
    if (from === null || from === image.id) return this.notify('there is no previous image');
    const r = await this.#edit(image.id, () => api['boxes.copyFrom']({ imageId: image.id, fromImageId: from }));
    if (r && r.upserted.length === 0) this.notify('the previous image has no boxes');
    else if (r && this.image?.id === image.id) this.selection = new Set(r.upserted.map((b) => b.id));
  }

  undo(): Promise<void> {
    return this.#step('undo');
  }

  redo(): Promise<void> {
    return this.#step('redo');
  }

  /** Undo or redo, then say what it did ("Undid: draw box 'cat' on img_001.jpg") or why it did nothing. */
  async #step(dir: 'undo' | 'redo'): Promise<void> {
    const image = this.image;
    if (!image) return;
    const r = await this.#edit(image.id, () => api[dir === 'undo' ? 'edits.undo' : 'edits.redo']({ imageId: image.id }));
    if (r?.message && this.image?.id === image.id) this.notify(r.message);
  }

  /** V: reviewed, or back to labeled (unlabeled when it has no boxes). */
  toggleReviewed(): void {
    const image = this.image;
    if (!image) return;
    const status = image.status === 'reviewed' ? (this.boxes.length > 0 ? 'labeled' : 'unlabeled') : 'reviewed';
    void this.#edit(image.id, () => api['images.setStatus']({ id: image.id, status }));
  }

  dismissError(): void {
    this.error = null;
  }

  async #createBoxes(imageId: number, boxes: NewBox[]): Promise<void> {
    const r = await this.#edit(imageId, () => api['boxes.create']({ imageId, boxes }));
    // The new boxes are selected, so a digit right after drawing sets their class.
    if (r && this.image?.id === imageId && r.upserted.length > 0) this.selection = new Set(r.upserted.map((b) => b.id));
  }

  /** Runs an edit after the ones before it, applies its delta, and on failure re-reads the image. */
  #edit(imageId: number, call: () => Promise<EditResult>): Promise<EditResult | null> {
    this.#edits++;
    const run = this.#queue.then(async () => {
      try {
        const result = await retryWhileBusy(call, () => this.notify(BUSY_NOTICE));
        this.#apply(result);
        return result;
      } catch (err) {
        this.#nudges.clear();
        this.error = errorMessage(err);
        if (this.image?.id === imageId) await this.reload();
        return null;
      }
    });
    this.#queue = run;
    return run;
  }

  #apply(r: EditResult): void {
    if (r.image.id !== this.image?.id) {
      // An answer for an image already left: its prepared copy is stale now.
      this.#prepared.delete(r.image.id);
      return;
    }
    // Boxes with a nudge still to send keep their on-screen position.
    const upserted = this.#nudges.size ? r.upserted.filter((b) => !this.#nudges.has(b.id)) : r.upserted;
    this.boxes = applyDelta(this.boxes, { upserted, deleted: r.deleted });
    this.image = r.image;
    this.canUndo = r.canUndo;
    this.canRedo = r.canRedo;
    if (r.deleted.length && [...this.selection].some((id) => r.deleted.includes(id))) {
      this.selection = new Set([...this.selection].filter((id) => !r.deleted.includes(id)));
    }
  }

  notify(text: string): void {
    this.notice = text;
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => (this.notice = null), NOTICE_MS);
  }
}

/** Resolves once the next frame has been produced (a task after its animation frame). */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/**
 * Where the new image sits, guessed from where the old one sat, so the position readout moves
 * with D / A at once; the real answer replaces it a moment later.
 */
function predictNeighbors(old: ImageNeighbors | null, fromId: number | null, toId: number): ImageNeighbors | null {
  if (!old || fromId === null) return null;
  if (old.next === toId) return { prev: fromId, next: null, nextUnlabeled: old.nextUnlabeled === toId ? null : old.nextUnlabeled, index: old.index + 1, total: old.total };
  if (old.prev === toId) return { prev: null, next: fromId, nextUnlabeled: null, index: Math.max(0, old.index - 1), total: old.total };
  return null;
}

export const session = new LabelSession();
