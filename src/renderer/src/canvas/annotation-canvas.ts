/**
 * @file AnnotationCanvas: the imperative Konva controller behind the Label view's canvas, owned by
 * one Svelte component (AnnotationCanvas.svelte) that creates it on mount and destroys it.
 *
 * Three layers, none listening to Konva events (pointer input is read from the container and
 * hit-tested in geometry.ts, which needs no hit canvas):
 *   - image: the picture (a decoded full image or preview, plus DeepZoom tiles when zoomed in),
 *     then the model's predictions over it, dashed and read-only (never picked, selected or
 *     dragged: the pointer code only knows the boxes). Not a layer of their own: a visible canvas
 *     costs a copy in each frame's commit, and they change only with the view or the image;
 *   - boxes: every box, drawn by one custom shape: outlines rasterized into a pixel buffer
 *     (box-raster.ts) and put in one call, class tags only when few boxes are on screen;
 *   - ui: selection, handles, hover, the box being drawn, crosshair guides, and the boxes being
 *     dragged, which leave the boxes layer for the gesture so that each frame of a drag redraws
 *     this small layer only.
 * Why one shape per layer instead of a Konva.Rect per box: with 2,000 boxes, drawing 2,000 Rect
 * nodes costs a frame's budget or more in software Chromium, twice that listening (the hit
 * canvas); bench/canvas.ts measures them side by side. Boxes are still reconciled by id: records
 * that did not change keep their identity, and the optimistic geometry of a move is keyed by id.
 * The image layer goes through image-painter.ts (mipmaps, a cache at the current zoom: a pan is a
 * 1:1 copy), which is why the view's translation is kept on whole device pixels.
 *
 * Draws happen in one requestAnimationFrame callback per frame, for the layers marked dirty
 * (Konva.autoDrawEnabled is off), and each frame reports its cost as a FRAME_EVENT on the
 * container (what bench/canvas.ts and the e2e tests read).
 */
import Konva from 'konva';
import type { BoxRecord, PredictionRecord } from '../../../shared/types';
import {
  centeredView,
  clampPoint,
  finishDrawnRect,
  fitView,
  handleCursor,
  handlePoint,
  HANDLES,
  moveRects,
  pickBox,
  pickHandle,
  rectToScreen,
  resizeRect,
  roundRect,
  toImage,
  visibleImageRect,
  wheelZoomFactor,
  zoomAt,
  zoomLimits,
  type Handle,
  type Point,
  type Rect,
  type Size,
  type View,
} from './geometry';
import { BoxRaster, pixelColor } from './box-raster';
import { groupByClass, predictionLabel, predictionsInView } from '../lib/predictions';
import { ImagePainter } from './image-painter';
import { TileLoader } from './tile-loader';

export type CanvasMode = 'select' | 'draw';

export interface ClassStyle {
  name: string;
  color: string;
  hidden: boolean;
  locked: boolean;
}

/** DeepZoom tiles of an image (see tiles.ts for the pyramid). */
export interface TileSource {
  tileSize: number;
  url(level: number, col: number, row: number): string;
}

/** The pixels of one image, ready to draw. */
export interface CanvasImage {
  imageId: number;
  /** Full-resolution size: the space boxes live in. */
  width: number;
  height: number;
  /** A decoded full image or a downscaled preview, drawn stretched over width x height. */
  base: CanvasImageSource;
  baseWidth: number;
  baseHeight: number;
  /** Full-resolution tiles for when the zoom passes the base's resolution; null: base only. */
  tiles: TileSource | null;
}

export interface BoxGeometry extends Rect {
  id: number;
}

export interface CanvasCallbacks {
  /** A box was drawn (image pixels, clipped, at least MIN_BOX_SIZE). */
  create(rect: Rect): void;
  /** Boxes were moved or resized (their new geometry). */
  change(boxes: BoxGeometry[]): void;
  /** The user changed the selection by clicking. */
  select(ids: number[]): void;
  /** The box under the pointer (and where the pointer is, in container pixels), or null. */
  hover(hit: { box: BoxRecord; x: number; y: number } | null): void;
  /** The view changed (zoom readout). */
  view(view: View): void;
}

/** Detail of FRAME_EVENT: what one frame drew and what it cost. */
export interface FrameInfo {
  imageId: number | null;
  /** The image's pixels have been drawn (in this frame or before, for this image). */
  imageDrawn: boolean;
  /** Boxes of this image the boxes layer drew (last time it was drawn). */
  boxesDrawn: number;
  /** Predictions the predictions layer drew (last time it was drawn; 0 while it is hidden). */
  predictionsDrawn: number;
  /** Layers drawn in this frame, e.g. 'image,boxes,ui'. */
  layers: string;
  /** Main-thread milliseconds of this frame's draw. */
  workMs: number;
  /** performance.now() at the frame's start, and of the first input event it handled (or null). */
  frameAt: number;
  inputAt: number | null;
  /** performance.now() when this draw began. */
  drawAt: number;
}

export const FRAME_EVENT = 'canvasframe';

/** Screen pixels within which a handle or a box edge can be grabbed. */
const HANDLE_RADIUS = 7;
const EDGE_TOLERANCE = 3;
/** A press that moves less than this (screen pixels) is a click. */
const CLICK_SLOP = 4;
/** Class tags are drawn when at most this many boxes are on screen. */
const LABEL_LIMIT = 150;
/** Dark halos around the outlines (legibility on bright images) up to this many boxes on screen. */
const HALO_LIMIT = 800;
/** Two-pixel outlines up to this many boxes on screen, one pixel above. */
const THICK_LIMIT = 400;
const HALO_COLOR = pixelColor('#000000', 0.45);
const DEFAULT_PIXEL = pixelColor('#d9dce0');
const DEFAULT_COLOR = '#d9dce0';
/** Predictions: dashed so they never pass for boxes, thinner than boxes, with a dashed halo. */
const PREDICTION_DASH = [6, 4];
const PREDICTION_WIDTH = 1.5;
const PREDICTION_HALO_WIDTH = 3.5;
const PREDICTION_LABEL_BG = 'rgba(20, 22, 25, 0.78)';
const FIT_MARGIN = 24;

type Gesture =
  | { kind: 'pan'; from: Point; view: View }
  | { kind: 'draw'; from: Point; start: Point; end: Point; hit: number | null; shift: boolean }
  | { kind: 'move'; from: Point; start: Point; origin: BoxGeometry[]; live: BoxGeometry[]; moved: boolean; hit: number; shift: boolean; wasSelected: boolean }
  | { kind: 'resize'; id: number; handle: Handle; grab: Point; origin: Rect; live: Rect; moved: boolean }
  | { kind: 'click'; shift: boolean };

export class AnnotationCanvas {
  readonly #container: HTMLDivElement;
  readonly #cb: CanvasCallbacks;
  readonly #stage: Konva.Stage;
  readonly #imageLayer: Konva.Layer;
  readonly #boxLayer: Konva.Layer;
  readonly #uiLayer: Konva.Layer;
  readonly #tiles: TileLoader;
  readonly #painter: ImagePainter;
  readonly #raster = new BoxRaster();
  #imageData: ImageData | null = null;
  /** Pixel words of the class colours (box-raster.ts). */
  #pixelColors = new Map<number, number>();
  #uiShown = true;
  readonly #resize: ResizeObserver;
  readonly #offs: (() => void)[] = [];

  #size: Size = { width: 1, height: 1 };
  /** The view as drawn: its translation on whole device pixels (see #setView). */
  #view: View = { scale: 1, x: 0, y: 0 };
  /** The view before snapping: zoom and pan steps start from it, so rounding never accumulates. */
  #exact: View = { scale: 1, x: 0, y: 0 };
  /** True until the user zooms or pans: the view then follows resizes of the container. */
  #fitted = true;
  #image: CanvasImage | null = null;
  #imageDrawn = false;
  #boxes: readonly BoxRecord[] = [];
  #byId = new Map<number, BoxRecord>();
  /** Geometry of moved/resized boxes until the store's answer replaces their records. */
  #overrides = new Map<number, { rect: Rect; record: BoxRecord }>();
  /** Drawn boxes waiting for the store to give them an id. */
  #ghosts: { rect: Rect; until: number }[] = [];
  #styles = new Map<number, ClassStyle>();
  #nextColor = '#5b9cf5';
  #selection = new Set<number>();
  #mode: CanvasMode = 'select';
  #showBoxes = true;
  #predictions: readonly PredictionRecord[] = [];
  #showPredictions = true;
  #spaceHeld = false;

  #gesture: Gesture | null = null;
  /** Boxes the ui layer draws for a gesture (the boxes layer skips them). */
  #dragIds = new Set<number>();
  #pointer: Point | null = null;
  #hoverId: number | null = null;
  #hoverPending = false;
  #cursor = '';
  #boxesDrawn = 0;
  #predictionsDrawn = 0;

  #dirty = { image: false, boxes: false, ui: false };
  #raf = 0;
  #inputAt: number | null = null;

  constructor(container: HTMLDivElement, callbacks: CanvasCallbacks) {
    this.#container = container;
    this.#cb = callbacks;
    // Crisp on HiDPI screens but never more than 2x: a 3x canvas costs 2.25x the fill of a 2x one.
    Konva.pixelRatio = Math.min(window.devicePixelRatio || 1, 2);
    // Draws are scheduled here, once per frame, for the dirty layers only.
    Konva.autoDrawEnabled = false;
    this.#size = { width: Math.max(1, container.clientWidth), height: Math.max(1, container.clientHeight) };
    this.#stage = new Konva.Stage({ container, width: this.#size.width, height: this.#size.height, listening: false });
    this.#tiles = new TileLoader(() => this.#request('image'));
    this.#painter = new ImagePainter(this.#tiles, () => this.#request('image'));
    // Predictions above the image, under the boxes: the user's labels stay on top of the model's guesses.
    this.#imageLayer = this.#layer((ctx) => {
      ctx.save();
      this.#drawImage(ctx);
      ctx.restore();
      this.#drawPredictions(ctx);
    });
    this.#boxLayer = this.#layer((ctx) => this.#drawBoxes(ctx));
    this.#uiLayer = this.#layer((ctx) => this.#drawUi(ctx));

    this.#resize = new ResizeObserver(() => this.#onResize());
    this.#resize.observe(container);
    this.#listen('pointerdown', (e) => this.#onPointerDown(e as PointerEvent));
    this.#listen('pointermove', (e) => this.#onPointerMove(e as PointerEvent));
    this.#listen('pointerup', (e) => this.#onPointerUp(e as PointerEvent));
    this.#listen('pointercancel', () => this.cancel());
    this.#listen('pointerleave', () => this.#onPointerLeave());
    this.#listen('wheel', (e) => this.#onWheel(e as WheelEvent), { passive: false });
    this.#listen('contextmenu', (e) => e.preventDefault());
    // The middle button's autoscroll would fight the pan.
    this.#listen('mousedown', (e) => {
      if ((e as MouseEvent).button === 1) e.preventDefault();
    });
  }

  destroy(): void {
    cancelAnimationFrame(this.#raf);
    this.#resize.disconnect();
    for (const off of this.#offs) off();
    this.#tiles.clear();
    this.#painter.dispose();
    this.#stage.destroy();
  }

  // ---- inputs from the component ------------------------------------------------------------------

  /** Shows another image with its boxes: the view fits it, gestures and hover end. */
  setImage(image: CanvasImage | null, boxes: readonly BoxRecord[]): void {
    if (image === this.#image) {
      this.setBoxes(boxes);
      return;
    }
    this.#image = image;
    this.#imageDrawn = false;
    this.#gesture = null;
    this.#dragIds.clear();
    this.#overrides.clear();
    this.#ghosts = [];
    // Another image's predictions never show on this one; the component sends this image's.
    this.#predictions = [];
    this.#request('image');
    this.#setHover(null);
    this.#tiles.want([]);
    this.#painter.setImage(image);
    this.#assignBoxes(boxes);
    this.fit();
  }

  /** The image's boxes changed (an edit's delta applied): unchanged records keep their identity. */
  setBoxes(boxes: readonly BoxRecord[]): void {
    if (boxes === this.#boxes) return;
    this.#assignBoxes(boxes);
    this.#request('boxes', 'ui');
  }

  setSelection(ids: ReadonlySet<number>): void {
    if (ids.size === this.#selection.size && [...ids].every((id) => this.#selection.has(id))) return;
    this.#selection = new Set(ids);
    this.#request('ui');
  }

  /** Class colours, names, hidden and locked flags; `nextColor` is the colour of a box being drawn. */
  setStyles(styles: ReadonlyMap<number, ClassStyle>, nextColor: string): void {
    this.#styles = new Map(styles);
    this.#pixelColors = new Map([...styles].map(([id, st]) => [id, pixelColor(st.color)]));
    this.#nextColor = nextColor;
    this.#request('image', 'boxes', 'ui');
  }

  setMode(mode: CanvasMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    this.#updateCursor();
    this.#request('ui');
  }

  /** The model's predictions for the current image, drawn read-only when `visible`. */
  setPredictions(preds: readonly PredictionRecord[], visible: boolean): void {
    if (preds === this.#predictions && visible === this.#showPredictions) return;
    this.#predictions = preds;
    this.#showPredictions = visible;
    this.#request('image');
  }

  setShowBoxes(show: boolean): void {
    if (show === this.#showBoxes) return;
    this.#showBoxes = show;
    this.#request('boxes', 'ui');
  }

  /** Space held: a left drag pans. */
  setSpaceHeld(held: boolean): void {
    if (held === this.#spaceHeld) return;
    this.#spaceHeld = held;
    this.#updateCursor();
  }

  /** Esc: ends a drawing, move or resize in progress, putting things back. True if there was one. */
  cancel(): boolean {
    const g = this.#gesture;
    if (!g || g.kind === 'click') return false;
    this.#gesture = null;
    this.#dragIds.clear();
    this.#request('boxes', 'ui');
    this.#updateCursor();
    return g.kind !== 'pan';
  }

  get view(): View {
    return this.#view;
  }

  fit(): void {
    if (!this.#image) return;
    this.#setView(fitView(this.#image, this.#size, FIT_MARGIN), true);
  }

  /** 100 %: one image pixel per screen pixel, around the middle of what is shown now. */
  zoomTo100(): void {
    if (!this.#image) return;
    const center = toImage(this.#view, { x: this.#size.width / 2, y: this.#size.height / 2 });
    this.#setView(centeredView(1, center, this.#size), false);
  }

  /** Zooms around the pointer when it is over the canvas, else around the middle. */
  zoomBy(factor: number): void {
    if (!this.#image) return;
    const at = this.#pointer ?? { x: this.#size.width / 2, y: this.#size.height / 2 };
    this.#setView(zoomAt(this.#exact, at, factor, zoomLimits(this.#image, this.#size)), false);
  }

  /** Pans so that the box is on screen (Tab cycling), keeping the zoom. */
  reveal(id: number): void {
    const b = this.#rectOf(id);
    if (!b) return;
    const s = rectToScreen(this.#view, b);
    const m = 40;
    if (s.x >= m && s.y >= m && s.x + s.w <= this.#size.width - m && s.y + s.h <= this.#size.height - m) return;
    this.#setView(centeredView(this.#view.scale, { x: b.x + b.w / 2, y: b.y + b.h / 2 }, this.#size), false);
  }

  /** Boxes the user can select (class not hidden or locked), for Tab and Ctrl+A. */
  selectableBoxes(): BoxRecord[] {
    return this.#boxes.filter((b) => this.#selectable(b));
  }

  // ---- state helpers ----------------------------------------------------------------------------

  #assignBoxes(boxes: readonly BoxRecord[]): void {
    const known = this.#byId;
    this.#boxes = boxes;
    this.#byId = new Map(boxes.map((b) => [b.id, b]));
    // An override ends when the store's record for the box is a new one (the edit's answer, or a reload).
    for (const [id, o] of this.#overrides) if (this.#byId.get(id) !== o.record) this.#overrides.delete(id);
    if (boxes.some((b) => !known.has(b.id))) this.#ghosts = [];
    for (const id of this.#selection) if (!this.#byId.has(id)) this.#selection.delete(id);
    if (this.#hoverId !== null && !this.#byId.has(this.#hoverId)) this.#setHover(null);
  }

  #rectOf(id: number): Rect | undefined {
    return this.#overrides.get(id)?.rect ?? this.#byId.get(id);
  }

  #selectable(b: BoxRecord): boolean {
    const st = this.#styles.get(b.classId);
    return this.#showBoxes && !st?.hidden && !st?.locked;
  }

  #hitList(): BoxGeometry[] {
    if (this.#overrides.size === 0) return this.#boxes as BoxRecord[];
    return this.#boxes.map((b) => {
      const o = this.#overrides.get(b.id);
      return o ? { ...b, ...o.rect } : b;
    });
  }

  #pick(p: Point): BoxRecord | null {
    const hit = pickBox(this.#hitList(), p, EDGE_TOLERANCE / this.#view.scale, (b) => this.#selectable(this.#byId.get(b.id)!));
    return hit ? (this.#byId.get(hit.id) ?? null) : null;
  }

  #setView(view: View, fitted: boolean): void {
    // Whole device pixels, so the image layer's cached picture is copied 1:1 (image-painter.ts).
    const pr = Konva.pixelRatio;
    // A zoom moves every box under the pointer: the hover card goes until the pointer moves again
    // (and the ui layer stays hidden while the wheel turns, when nothing is selected).
    if (view.scale !== this.#view.scale) this.#setHover(null);
    this.#exact = view;
    this.#view = { scale: view.scale, x: Math.round(view.x * pr) / pr, y: Math.round(view.y * pr) / pr };
    this.#fitted = fitted;
    this.#request('image', 'boxes', 'ui');
    this.#cb.view(view);
  }

  #select(ids: Iterable<number>): void {
    const next = new Set(ids);
    if (next.size === this.#selection.size && [...next].every((id) => this.#selection.has(id))) return;
    this.#selection = next;
    this.#request('ui');
    this.#cb.select([...next]);
  }

  #setHover(id: number | null): void {
    if (id === this.#hoverId) return;
    this.#hoverId = id;
    if (id === null) this.#cb.hover(null);
    this.#request('ui');
  }

  // ---- pointer ------------------------------------------------------------------------------------

  #point(e: MouseEvent): Point {
    const r = this.#container.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  #markInput(e: Event): void {
    this.#inputAt ??= e.timeStamp;
  }

  #onPointerDown(e: PointerEvent): void {
    this.#markInput(e);
    const s = this.#point(e);
    this.#pointer = s;
    if (e.button === 1 || (e.button === 0 && this.#spaceHeld)) {
      e.preventDefault();
      this.#capture(e);
      this.#gesture = { kind: 'pan', from: s, view: this.#exact };
      this.#setHover(null);
      this.#updateCursor();
      return;
    }
    if (e.button !== 0 || !this.#image) return;
    this.#container.focus({ preventScroll: true });
    this.#capture(e);
    const p = toImage(this.#view, s);

    // A handle of the one selected box.
    if (this.#selection.size === 1) {
      const [id] = this.#selection as Set<number>;
      const rec = id === undefined ? undefined : this.#byId.get(id);
      const r = id === undefined ? undefined : this.#rectOf(id);
      if (id !== undefined && rec && r && this.#selectable(rec)) {
        const handle = pickHandle(rectToScreen(this.#view, r), s, HANDLE_RADIUS);
        if (handle) {
          const hp = handlePoint(r, handle);
          this.#gesture = { kind: 'resize', id, handle, grab: { x: hp.x - p.x, y: hp.y - p.y }, origin: { ...r }, live: { ...r }, moved: false };
          this.#updateCursor();
          return;
        }
      }
    }

    const hit = this.#pick(p);
    const inside = p.x >= 0 && p.y >= 0 && p.x <= this.#image.width && p.y <= this.#image.height;
    if (this.#mode === 'draw' || (!hit && inside)) {
      const start = clampPoint(p, this.#image);
      this.#gesture = { kind: 'draw', from: s, start, end: start, hit: hit?.id ?? null, shift: e.shiftKey };
      this.#setHover(null);
      this.#request('ui');
      return;
    }
    if (!hit) {
      this.#gesture = { kind: 'click', shift: e.shiftKey };
      return;
    }
    const wasSelected = this.#selection.has(hit.id);
    if (e.shiftKey) {
      const next = new Set(this.#selection);
      if (wasSelected) next.delete(hit.id);
      else next.add(hit.id);
      this.#select(next);
      if (wasSelected) {
        this.#gesture = { kind: 'click', shift: true };
        return;
      }
    } else if (!wasSelected) {
      this.#select([hit.id]);
    }
    const origin = [...this.#selection].flatMap((id) => {
      const r = this.#rectOf(id);
      return r ? [{ id, x: r.x, y: r.y, w: r.w, h: r.h }] : [];
    });
    this.#gesture = { kind: 'move', from: s, start: p, origin, live: origin, moved: false, hit: hit.id, shift: e.shiftKey, wasSelected };
  }

  #onPointerMove(e: PointerEvent): void {
    const s = this.#point(e);
    this.#pointer = s;
    const g = this.#gesture;
    if (!g || g.kind === 'click') {
      // Hover is resolved once per frame, not per event.
      this.#hoverPending = true;
      if (this.#mode === 'draw') this.#markInput(e);
      this.#request('ui');
      return;
    }
    this.#markInput(e);
    const image = this.#image;
    if (g.kind === 'pan') {
      this.#setView({ scale: g.view.scale, x: g.view.x + s.x - g.from.x, y: g.view.y + s.y - g.from.y }, false);
      return;
    }
    if (!image) return;
    const p = toImage(this.#view, s);
    if (g.kind === 'draw') {
      g.end = clampPoint(p, image);
      this.#request('ui');
    } else if (g.kind === 'move') {
      if (!g.moved && Math.hypot(s.x - g.from.x, s.y - g.from.y) < CLICK_SLOP) return;
      if (!g.moved) {
        g.moved = true;
        this.#dragIds = new Set(g.origin.map((b) => b.id));
        this.#request('boxes');
        this.#updateCursor();
      }
      g.live = moveRects(g.origin, p.x - g.start.x, p.y - g.start.y, image);
      this.#request('ui');
    } else {
      if (!g.moved) {
        g.moved = true;
        this.#dragIds = new Set([g.id]);
        this.#request('boxes');
      }
      g.live = resizeRect(g.origin, g.handle, { x: p.x + g.grab.x, y: p.y + g.grab.y }, image);
      this.#request('ui');
    }
  }

  #onPointerUp(e: PointerEvent): void {
    this.#markInput(e);
    const g = this.#gesture;
    this.#gesture = null;
    if (this.#container.hasPointerCapture(e.pointerId)) this.#container.releasePointerCapture(e.pointerId);
    if (!g) return;
    const s = this.#point(e);
    if (g.kind === 'click') {
      if (!g.shift) this.#select([]);
    } else if (g.kind === 'draw') {
      if (Math.hypot(s.x - g.from.x, s.y - g.from.y) < CLICK_SLOP) {
        // A click: select what is under it (Shift adds), or clear.
        if (g.hit !== null) {
          const next = g.shift ? new Set(this.#selection) : new Set<number>();
          if (g.shift && next.has(g.hit)) next.delete(g.hit);
          else next.add(g.hit);
          this.#select(next);
        } else if (!g.shift) {
          this.#select([]);
        }
      } else if (this.#image) {
        const rect = finishDrawnRect(g.start, g.end, this.#image);
        if (rect) {
          this.#ghosts.push({ rect, until: performance.now() + 2000 });
          this.#cb.create(rect);
        }
      }
    } else if (g.kind === 'move') {
      if (g.moved) {
        const moved = g.live.map((b) => ({ id: b.id, ...roundRect(b) }));
        this.#keep(moved);
        this.#cb.change(moved.filter((b, i) => b.x !== g.origin[i]?.x || b.y !== g.origin[i]?.y));
      } else if (!g.shift && g.wasSelected && this.#selection.size > 1) {
        this.#select([g.hit]);
      }
    } else if (g.kind === 'resize') {
      if (g.moved) {
        const r = { id: g.id, ...roundRect(g.live) };
        this.#keep([r]);
        if (r.x !== g.origin.x || r.y !== g.origin.y || r.w !== g.origin.w || r.h !== g.origin.h) this.#cb.change([r]);
      }
    }
    this.#dragIds.clear();
    this.#request('boxes', 'ui');
    this.#hoverPending = true;
    this.#updateCursor();
  }

  /** Keeps the boxes where the gesture left them until the store answers. */
  #keep(boxes: BoxGeometry[]): void {
    for (const b of boxes) {
      const record = this.#byId.get(b.id);
      if (record) this.#overrides.set(b.id, { rect: { x: b.x, y: b.y, w: b.w, h: b.h }, record });
    }
  }

  #onPointerLeave(): void {
    if (this.#gesture) return;
    this.#pointer = null;
    this.#setHover(null);
    this.#request('ui');
  }

  #onWheel(e: WheelEvent): void {
    e.preventDefault();
    if (!this.#image) return;
    this.#markInput(e);
    const s = this.#point(e);
    this.#pointer = s;
    this.#setView(zoomAt(this.#exact, s, wheelZoomFactor(e.deltaY, e.deltaMode), zoomLimits(this.#image, this.#size)), false);
  }

  #capture(e: PointerEvent): void {
    try {
      this.#container.setPointerCapture(e.pointerId);
    } catch {
      // synthetic events have no capturable pointer
    }
  }

  #onResize(): void {
    const size = { width: Math.max(1, this.#container.clientWidth), height: Math.max(1, this.#container.clientHeight) };
    if (size.width === this.#size.width && size.height === this.#size.height) return;
    this.#size = size;
    this.#stage.size(size);
    if (this.#fitted) this.fit();
    this.#request('image', 'boxes', 'ui');
  }

  /** Hover and cursor for the pointer's current position (once per frame). */
  #updateHover(): void {
    this.#hoverPending = false;
    const s = this.#pointer;
    if (!s || !this.#image || this.#gesture) return this.#updateCursor();
    const box = this.#pick(toImage(this.#view, s));
    this.#setHover(box?.id ?? null);
    if (box) this.#cb.hover({ box, x: s.x, y: s.y });
    this.#updateCursor();
  }

  #updateCursor(): void {
    const g = this.#gesture;
    let cursor = 'default';
    if (g?.kind === 'pan') cursor = 'grabbing';
    else if (this.#spaceHeld) cursor = 'grab';
    else if (g?.kind === 'resize') cursor = handleCursor(g.handle);
    else if (g?.kind === 'move' && g.moved) cursor = 'move';
    else if (this.#image && this.#pointer) {
      const handle = this.#handleUnder(this.#pointer);
      const p = toImage(this.#view, this.#pointer);
      const inside = p.x >= 0 && p.y >= 0 && p.x <= this.#image.width && p.y <= this.#image.height;
      if (handle) cursor = handleCursor(handle);
      else if (this.#mode === 'draw') cursor = 'crosshair';
      else if (this.#hoverId !== null) cursor = 'move';
      else if (inside) cursor = 'crosshair';
    }
    if (cursor !== this.#cursor) {
      this.#cursor = cursor;
      this.#container.style.cursor = cursor;
    }
  }

  #handleUnder(s: Point): Handle | null {
    if (this.#selection.size !== 1) return null;
    const [id] = this.#selection as Set<number>;
    const rec = id === undefined ? undefined : this.#byId.get(id);
    const r = id === undefined ? undefined : this.#rectOf(id);
    if (!rec || !r || !this.#selectable(rec)) return null;
    return pickHandle(rectToScreen(this.#view, r), s, HANDLE_RADIUS);
  }

  // ---- drawing ------------------------------------------------------------------------------------

  #layer(draw: (ctx: CanvasRenderingContext2D) => void): Konva.Layer {
    const layer = new Konva.Layer({ listening: false });
    layer.add(
      new Konva.Shape({
        listening: false,
        perfectDrawEnabled: false,
        shadowForStrokeEnabled: false,
        sceneFunc: (ctx) => draw(ctx._context),
      }),
    );
    this.#stage.add(layer);
    return layer;
  }

  #listen(type: string, fn: (e: Event) => void, opts?: AddEventListenerOptions): void {
    this.#container.addEventListener(type, fn, opts);
    this.#offs.push(() => this.#container.removeEventListener(type, fn, opts));
  }

  #request(...layers: ('image' | 'boxes' | 'ui')[]): void {
    for (const l of layers) this.#dirty[l] = true;
    if (this.#raf === 0) this.#raf = requestAnimationFrame(this.#frame);
  }

  #frame = (frameAt: number): void => {
    this.#raf = 0;
    const t0 = performance.now();
    if (this.#hoverPending) this.#updateHover();
    const drawn: string[] = [];
    const d = this.#dirty;
    if (d.image) {
      this.#imageLayer.draw();
      drawn.push('image');
    }
    if (d.boxes) {
      this.#boxLayer.draw();
      drawn.push('boxes');
    }
    // An empty ui layer is hidden rather than redrawn blank: a canvas that changes costs a copy of
    // its pixels in the frame's commit (a few ms each without a GPU), a hidden one nothing.
    if (d.ui) {
      const show = !this.#uiIsEmpty();
      if (show !== this.#uiShown) {
        this.#uiShown = show;
        this.#uiLayer.visible(show);
      }
      if (show) {
        this.#uiLayer.draw();
        drawn.push('ui');
      }
    }
    this.#dirty = { image: false, boxes: false, ui: false };
    const workMs = performance.now() - t0;
    const info: FrameInfo = {
      imageId: this.#image?.imageId ?? null,
      imageDrawn: this.#imageDrawn,
      boxesDrawn: this.#boxesDrawn,
      predictionsDrawn: this.#predictionsDrawn,
      layers: drawn.join(','),
      workMs,
      frameAt,
      inputAt: this.#inputAt,
      drawAt: t0,
    };
    this.#inputAt = null;
    // The view for tests and tools (before snapping: what zoom steps keep exact).
    const v = this.#exact;
    this.#container.dataset.view = `${v.scale.toFixed(6)},${v.x.toFixed(3)},${v.y.toFixed(3)}`;
    this.#container.dispatchEvent(new CustomEvent<FrameInfo>(FRAME_EVENT, { detail: info }));
    // Ghost boxes of failed creates fade out on their own.
    if (this.#ghosts.length && this.#ghosts.some((g) => g.until < t0)) {
      this.#ghosts = this.#ghosts.filter((g) => g.until >= t0);
      this.#request('ui');
    }
  };

  #drawImage(ctx: CanvasRenderingContext2D): void {
    if (this.#painter.draw(ctx, this.#view, this.#size, Konva.pixelRatio)) this.#imageDrawn = true;
  }

  #drawBoxes(ctx: CanvasRenderingContext2D): void {
    this.#boxesDrawn = 0;
    if (!this.#image || !this.#showBoxes) return;
    const pr = Konva.pixelRatio;
    const raster = this.#raster;
    if (raster.resize(this.#size.width * pr, this.#size.height * pr) || !this.#imageData) {
      this.#imageData = new ImageData(new Uint8ClampedArray(raster.pixels.buffer), raster.width, raster.height);
    }
    raster.clear();
    const { scale, x: tx, y: ty } = this.#view;
    const k = scale * pr;
    const ox = tx * pr;
    const oy = ty * pr;
    const vis = visibleImageRect(this.#view, this.#size);
    const vx2 = vis.x + vis.w;
    const vy2 = vis.y + vis.h;
    const shown: BoxRecord[] = [];
    for (const b of this.#boxes) {
      if (this.#dragIds.has(b.id)) continue;
      const r = this.#overrides.get(b.id)?.rect ?? b;
      if (r.x > vx2 || r.y > vy2 || r.x + r.w < vis.x || r.y + r.h < vis.y) continue;
      if (this.#styles.get(b.classId)?.hidden) continue;
      shown.push(b);
    }
    this.#boxesDrawn = shown.length;
    // Thin lines when the image is crowded, thicker when there are few boxes to see.
    const thickness = Math.max(1, Math.round((shown.length <= THICK_LIMIT ? 2 : 1) * pr));
    const halo = shown.length <= HALO_LIMIT;
    for (let pass = halo ? 0 : 1; pass < 2; pass++) {
      for (const b of shown) {
        const r = this.#overrides.get(b.id)?.rect ?? b;
        const x0 = Math.round(r.x * k + ox);
        const y0 = Math.round(r.y * k + oy);
        const x1 = Math.max(x0 + 1, Math.round((r.x + r.w) * k + ox));
        const y1 = Math.max(y0 + 1, Math.round((r.y + r.h) * k + oy));
        if (pass === 0) {
          raster.outline(x0 - 1, y0 - 1, x1 + 1, y1 + 1, HALO_COLOR, 1);
        } else {
          const locked = this.#styles.get(b.classId)?.locked ?? false;
          raster.outline(x0, y0, x1, y1, this.#pixelColors.get(b.classId) ?? DEFAULT_PIXEL, thickness, locked ? Math.round(5 * pr) : 0);
        }
      }
    }
    const d = raster.dirty;
    if (d.x1 > d.x0 && d.y1 > d.y0) ctx.putImageData(this.#imageData!, 0, 0, d.x0, d.y0, d.x1 - d.x0, d.y1 - d.y0);
    if (shown.length <= LABEL_LIMIT) {
      for (const b of shown) this.#drawTag(ctx, this.#overrides.get(b.id)?.rect ?? b, b.classId);
    }
  }

  /**
   * The predictions on screen: dashed outlines stroked one path per class (hundreds stay cheap),
   * in screen pixels so the line keeps its width at any zoom, as the boxes' outlines do.
   */
  #drawPredictions(ctx: CanvasRenderingContext2D): void {
    this.#predictionsDrawn = 0;
    const img = this.#image;
    if (!img || !this.#showPredictions) return;
    const shown = predictionsInView(this.#predictions, img.imageId, visibleImageRect(this.#view, this.#size), (id) => this.#styles.get(id)?.hidden ?? false);
    this.#predictionsDrawn = shown.length;
    if (shown.length === 0) return;
    ctx.setLineDash(PREDICTION_DASH);
    if (shown.length <= HALO_LIMIT) {
      ctx.lineWidth = PREDICTION_HALO_WIDTH;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.45)';
      this.#strokeRects(ctx, shown);
    }
    ctx.lineWidth = PREDICTION_WIDTH;
    for (const [classId, list] of groupByClass(shown)) {
      ctx.strokeStyle = this.#styles.get(classId)?.color ?? DEFAULT_COLOR;
      this.#strokeRects(ctx, list);
    }
    ctx.setLineDash([]);
    if (shown.length <= LABEL_LIMIT) {
      ctx.font = '10px system-ui, sans-serif';
      for (const p of shown) this.#drawPredictionLabel(ctx, p);
    }
  }

  #strokeRects(ctx: CanvasRenderingContext2D, rects: readonly Rect[]): void {
    ctx.beginPath();
    for (const r of rects) {
      const s = rectToScreen(this.#view, r);
      ctx.rect(Math.round(s.x), Math.round(s.y), Math.max(1, Math.round(s.w)), Math.max(1, Math.round(s.h)));
    }
    ctx.stroke();
  }

  /** "name 0.87" inside the top-left corner (a box's own tag sits above its corner: no overlap). */
  #drawPredictionLabel(ctx: CanvasRenderingContext2D, p: PredictionRecord): void {
    const s = rectToScreen(this.#view, p);
    if (s.w < 24 || s.h < 13) return;
    const st = this.#styles.get(p.classId);
    const text = predictionLabel(st?.name ?? `class ${p.classId}`, p.score);
    const x = Math.round(s.x) + 1;
    const y = Math.round(s.y) + 1;
    ctx.fillStyle = PREDICTION_LABEL_BG;
    ctx.fillRect(x, y, ctx.measureText(text).width + 6, 13);
    ctx.fillStyle = st?.color ?? DEFAULT_COLOR;
    ctx.fillText(text, x + 3, y + 10);
  }

  /** Nothing for the ui layer to show: no selection, hover, gesture, ghost or crosshair. */
  #uiIsEmpty(): boolean {
    const g = this.#gesture;
    return (
      !this.#image ||
      (this.#selection.size === 0 &&
        this.#hoverId === null &&
        this.#ghosts.length === 0 &&
        (!g || g.kind === 'pan' || g.kind === 'click') &&
        !(this.#mode === 'draw' && this.#pointer))
    );
  }

  /** The class name on a small tab above the box's top-left corner (inside it at the image top). */
  #drawTag(ctx: CanvasRenderingContext2D, r: Rect, classId: number): void {
    const st = this.#styles.get(classId);
    if (!st) return;
    const s = rectToScreen(this.#view, r);
    if (s.w < 24) return;
    ctx.font = '11px system-ui, sans-serif';
    const text = st.name.length > 24 ? `${st.name.slice(0, 23)}…` : st.name;
    const w = Math.min(ctx.measureText(text).width + 8, Math.max(s.w, 24));
    const h = 15;
    const y = s.y - h >= 0 ? s.y - h : s.y;
    ctx.fillStyle = st.color;
    ctx.fillRect(s.x - 0.75, y, w, h);
    ctx.fillStyle = textColorOn(st.color);
    ctx.save();
    ctx.beginPath();
    ctx.rect(s.x, y, w - 2, h);
    ctx.clip();
    ctx.fillText(text, s.x + 3.5, y + 11);
    ctx.restore();
  }

  #drawUi(ctx: CanvasRenderingContext2D): void {
    const img = this.#image;
    if (!img) return;
    const g = this.#gesture;
    const live = new Map<number, Rect>();
    if (g?.kind === 'move' && g.moved) for (const b of g.live) live.set(b.id, b);
    if (g?.kind === 'resize' && g.moved) live.set(g.id, g.live);

    // Hover: a light fill so the user sees what a click would pick.
    if (this.#hoverId !== null && !this.#selection.has(this.#hoverId) && !g) {
      const b = this.#byId.get(this.#hoverId);
      const r = this.#rectOf(this.#hoverId);
      if (b && r) {
        const s = rectToScreen(this.#view, r);
        const color = this.#styles.get(b.classId)?.color ?? '#d9dce0';
        ctx.fillStyle = withAlpha(color, 0.14);
        ctx.fillRect(s.x, s.y, s.w, s.h);
        ctx.lineWidth = 2;
        ctx.strokeStyle = color;
        ctx.strokeRect(s.x, s.y, s.w, s.h);
      }
    }

    // Selected (and dragged) boxes: fill, a thicker stroke, and handles when exactly one.
    for (const id of this.#selection) {
      const b = this.#byId.get(id);
      const r = live.get(id) ?? this.#rectOf(id);
      if (!b || !r || (!this.#showBoxes && !live.has(id))) continue;
      const s = rectToScreen(this.#view, r);
      const color = this.#styles.get(b.classId)?.color ?? '#d9dce0';
      ctx.fillStyle = withAlpha(color, 0.2);
      ctx.fillRect(s.x, s.y, s.w, s.h);
      ctx.lineWidth = 4;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.5)';
      ctx.strokeRect(s.x, s.y, s.w, s.h);
      ctx.lineWidth = 2;
      ctx.strokeStyle = color;
      ctx.strokeRect(s.x, s.y, s.w, s.h);
      if (this.#selection.size === 1 && this.#selectable(b)) {
        for (const h of HANDLES) {
          const p = handlePoint(s, h);
          ctx.fillStyle = '#ffffff';
          ctx.fillRect(p.x - 3.5, p.y - 3.5, 7, 7);
          ctx.lineWidth = 1.5;
          ctx.strokeStyle = color;
          ctx.strokeRect(p.x - 3.5, p.y - 3.5, 7, 7);
        }
      }
      if (live.has(id)) this.#drawSize(ctx, s, r);
    }

    // Boxes waiting for their id, and the one being drawn.
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = this.#nextColor;
    for (const ghost of this.#ghosts) {
      const s = rectToScreen(this.#view, ghost.rect);
      ctx.strokeRect(s.x, s.y, s.w, s.h);
    }
    if (g?.kind === 'draw') {
      const r = { x: Math.min(g.start.x, g.end.x), y: Math.min(g.start.y, g.end.y), w: Math.abs(g.end.x - g.start.x), h: Math.abs(g.end.y - g.start.y) };
      const s = rectToScreen(this.#view, r);
      ctx.fillStyle = withAlpha(this.#nextColor, 0.12);
      ctx.fillRect(s.x, s.y, s.w, s.h);
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = this.#nextColor;
      ctx.strokeRect(s.x, s.y, s.w, s.h);
      ctx.setLineDash([]);
      this.#drawSize(ctx, s, r);
    }

    // Crosshair guides across the whole canvas in draw mode.
    const p = this.#pointer;
    if (this.#mode === 'draw' && p && g?.kind !== 'pan' && g?.kind !== 'move' && g?.kind !== 'resize') {
      const x = Math.round(p.x) + 0.5;
      const y = Math.round(p.y) + 0.5;
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(this.#size.width, y);
      ctx.moveTo(x, 0);
      ctx.lineTo(x, this.#size.height);
      ctx.lineWidth = 3;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.35)';
      ctx.stroke();
      ctx.lineWidth = 1;
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
      ctx.stroke();
    }
  }

  /** "w × h" in image pixels under a box being drawn or resized. */
  #drawSize(ctx: CanvasRenderingContext2D, s: Rect, r: Rect): void {
    const text = `${Math.round(r.w)} × ${Math.round(r.h)}`;
    ctx.font = '11px system-ui, sans-serif';
    const w = ctx.measureText(text).width + 8;
    const y = s.y + s.h + 4 + 15 <= this.#size.height ? s.y + s.h + 4 : s.y - 19;
    ctx.fillStyle = 'rgba(20, 22, 25, 0.85)';
    ctx.fillRect(s.x, y, w, 15);
    ctx.fillStyle = '#d9dce0';
    ctx.fillText(text, s.x + 4, y + 11);
  }
}

/** `#rrggbb` with an alpha, as rgba(). */
function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  if (!Number.isFinite(n)) return `rgba(217, 220, 224, ${alpha})`;
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** Black or white text, whichever reads better on the colour. */
function textColorOn(hex: string): string {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  const lum = 0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return lum > 150 ? '#111' : '#fff';
}
