/**
 * @file AnnotationCanvas: the imperative Konva controller behind the Label view's canvas, owned by
 * one Svelte component (AnnotationCanvas.svelte) that creates it on mount and destroys it. It wires
 * the parts together:
 *   - pointer events on the container -> gestures.ts's pure step function, given the hit test of
 *     scene.ts (geometry.ts's scan, no Konva hit canvas) -> effects carried out here;
 *   - the scene (scene.ts) and the view (view-state.ts) it keeps, and the callbacks it calls;
 *   - three Konva layers, none listening to events, each one custom shape that drawing.ts fills:
 *     image (the picture through image-painter.ts, then the predictions over it), boxes, and ui
 *     (selection, hover, what a gesture drags or draws). A visible canvas costs a copy in each
 *     frame's commit, so the predictions, which change only with the view or the image, share the
 *     image layer, and an empty ui layer is hidden.
 * Draws happen in one requestAnimationFrame callback per frame, for the layers marked dirty
 * (Konva.autoDrawEnabled is off), and each frame is reported by frame-report.ts.
 */
import Konva from 'konva';
import type { BoxRecord, PredictionRecord } from '../../../shared/types';
import { inImage, toImage, wheelZoomFactor, type Point, type View } from './geometry';
import { BoxPainter, drawPredictions, drawUi, uiIsEmpty } from './drawing';
import { FrameReporter } from './frame-report';
import { cursorFor, step, type CanvasMode, type Effect, type GestureContext, type GestureInput, type Hits, type LayerName, type Step } from './gestures';
import { ImagePainter } from './image-painter';
import { assignBoxes, handleAt, hold, pickAt, rectOf, selectable, type Scene } from './scene';
import { TileLoader } from './tile-loader';
import type { CanvasCallbacks, CanvasImage, ClassStyle } from './types';
import { ViewState } from './view-state';

/** Ghost boxes of creates the store has not answered fade after this long. */
const GHOST_MS = 2000;

export class AnnotationCanvas {
  readonly #container: HTMLDivElement;
  readonly #cb: CanvasCallbacks;
  readonly #stage: Konva.Stage;
  readonly #layers: Record<LayerName, Konva.Layer>;
  readonly #tiles: TileLoader;
  readonly #painter: ImagePainter;
  readonly #boxPainter = new BoxPainter();
  readonly #frames: FrameReporter;
  readonly #resize: ResizeObserver;
  readonly #offs: (() => void)[] = [];
  readonly #scene: Scene;
  #uiShown = true;
  #imageDrawn = false;
  #boxesDrawn = 0;
  #predictionsDrawn = 0;
  #hoverPending = false;
  #cursor = '';
  #dirty: Record<LayerName, boolean> = { image: false, boxes: false, ui: false };
  #raf = 0;

  constructor(container: HTMLDivElement, callbacks: CanvasCallbacks) {
    this.#container = container;
    this.#cb = callbacks;
    // Crisp on HiDPI screens but never more than 2x: a 3x canvas costs 2.25x the fill of a 2x one.
    Konva.pixelRatio = Math.min(window.devicePixelRatio || 1, 2);
    // Draws are scheduled here, once per frame, for the dirty layers only.
    Konva.autoDrawEnabled = false;
    const size = { width: Math.max(1, container.clientWidth), height: Math.max(1, container.clientHeight) };
    this.#scene = {
      image: null,
      boxes: [],
      byId: new Map(),
      overrides: new Map(),
      ghosts: [],
      styles: new Map(),
      nextColor: '#5b9cf5',
      selection: new Set(),
      hoverId: null,
      mode: 'select',
      showBoxes: true,
      predictions: [],
      showPredictions: true,
      spaceHeld: false,
      pointer: null,
      gesture: null,
      viewState: new ViewState(size, Konva.pixelRatio),
    };
    this.#frames = new FrameReporter(container);
    this.#stage = new Konva.Stage({ container, width: size.width, height: size.height, listening: false });
    this.#tiles = new TileLoader(() => this.#request('image'));
    this.#painter = new ImagePainter(this.#tiles, () => this.#request('image'));
    // Predictions above the image, under the boxes: the user's labels stay on top of the model's guesses.
    this.#layers = {
      image: this.#layer((ctx) => {
        ctx.save();
        if (this.#painter.draw(ctx, this.#scene.viewState.view, this.#scene.viewState.size, Konva.pixelRatio)) this.#imageDrawn = true;
        ctx.restore();
        this.#predictionsDrawn = drawPredictions(ctx, this.#scene);
      }),
      boxes: this.#layer((ctx) => (this.#boxesDrawn = this.#boxPainter.draw(ctx, this.#scene, Konva.pixelRatio))),
      ui: this.#layer((ctx) => drawUi(ctx, this.#scene)),
    };

    this.#resize = new ResizeObserver(() => this.#onResize());
    this.#resize.observe(container);
    this.#listen('pointerdown', (e) => this.#onPointer(e as PointerEvent, 'down'));
    this.#listen('pointermove', (e) => this.#onPointer(e as PointerEvent, 'move'));
    this.#listen('pointerup', (e) => this.#onPointer(e as PointerEvent, 'up'));
    this.#listen('pointercancel', () => this.cancel());
    this.#listen('pointerleave', () => this.#apply(step(this.#scene.gesture, { kind: 'leave' }, this.#gestureContext())));
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
    const scene = this.#scene;
    if (image === scene.image) {
      this.setBoxes(boxes);
      return;
    }
    scene.image = image;
    this.#imageDrawn = false;
    scene.gesture = null;
    scene.overrides.clear();
    scene.ghosts = [];
    // Another image's predictions never show on this one; the component sends this image's.
    scene.predictions = [];
    this.#request('image');
    this.#setHover(null);
    this.#tiles.want([]);
    this.#painter.setImage(image);
    this.#assignBoxes(boxes);
    this.fit();
  }

  /** The image's boxes changed (an edit's delta applied): unchanged records keep their identity. */
  setBoxes(boxes: readonly BoxRecord[]): void {
    if (boxes === this.#scene.boxes) return;
    this.#assignBoxes(boxes);
    this.#request('boxes', 'ui');
  }

  setSelection(ids: ReadonlySet<number>): void {
    const sel = this.#scene.selection;
    if (ids.size === sel.size && [...ids].every((id) => sel.has(id))) return;
    this.#scene.selection = new Set(ids);
    this.#request('ui');
  }

  /** Class colours, names, hidden and locked flags; `nextColor` is the colour of a box being drawn. */
  setStyles(styles: ReadonlyMap<number, ClassStyle>, nextColor: string): void {
    this.#scene.styles = new Map(styles);
    this.#boxPainter.setStyles(styles);
    this.#scene.nextColor = nextColor;
    this.#request('image', 'boxes', 'ui');
  }

  setMode(mode: CanvasMode): void {
    if (mode === this.#scene.mode) return;
    this.#scene.mode = mode;
    this.#updateCursor();
    this.#request('ui');
  }

  /** The model's predictions for the current image, drawn read-only when `visible`. */
  setPredictions(preds: readonly PredictionRecord[], visible: boolean): void {
    if (preds === this.#scene.predictions && visible === this.#scene.showPredictions) return;
    this.#scene.predictions = preds;
    this.#scene.showPredictions = visible;
    this.#request('image');
  }

  setShowBoxes(show: boolean): void {
    if (show === this.#scene.showBoxes) return;
    this.#scene.showBoxes = show;
    this.#request('boxes', 'ui');
  }

  /** Space held: a left drag pans. */
  setSpaceHeld(held: boolean): void {
    if (held === this.#scene.spaceHeld) return;
    this.#scene.spaceHeld = held;
    this.#updateCursor();
  }

  /** Esc: ends a drawing, move or resize in progress, putting things back. True if there was one. */
  cancel(): boolean {
    const effects = this.#apply(step(this.#scene.gesture, { kind: 'cancel' }, this.#gestureContext()));
    return effects.some((e) => e.kind === 'cancelled');
  }

  get view(): View {
    return this.#scene.viewState.view;
  }

  fit(): void {
    if (this.#scene.image) this.#setView(this.#scene.viewState.fitting(this.#scene.image), true);
  }

  /** 100 %: one image pixel per screen pixel, around the middle of what is shown now. */
  zoomTo100(): void {
    if (this.#scene.image) this.#setView(this.#scene.viewState.at100(), false);
  }

  /** Zooms around the pointer when it is over the canvas, else around the middle. */
  zoomBy(factor: number): void {
    if (this.#scene.image) this.#setView(this.#scene.viewState.zoomedBy(this.#scene.image, factor, this.#scene.pointer), false);
  }

  /** Pans so that the box is on screen (Tab cycling), keeping the zoom. */
  reveal(id: number): void {
    const r = rectOf(this.#scene, id);
    const view = r && this.#scene.viewState.revealing(r);
    if (view) this.#setView(view, false);
  }

  /** Boxes the user can select (class not hidden or locked), for Tab and Ctrl+A. */
  selectableBoxes(): BoxRecord[] {
    return this.#scene.boxes.filter((b) => selectable(this.#scene, b));
  }

  // ---- state --------------------------------------------------------------------------------------

  #assignBoxes(boxes: readonly BoxRecord[]): void {
    assignBoxes(this.#scene, boxes);
    const hover = this.#scene.hoverId;
    if (hover !== null && !this.#scene.byId.has(hover)) this.#setHover(null);
  }

  #setView(view: View, fitted: boolean): void {
    // A zoom moves every box under the pointer: the hover card goes until the pointer moves again
    // (and the ui layer stays hidden while the wheel turns, when nothing is selected).
    if (view.scale !== this.#scene.viewState.view.scale) this.#setHover(null);
    this.#scene.viewState.set(view, fitted);
    this.#request('image', 'boxes', 'ui');
    this.#cb.view(view);
  }

  #select(ids: Iterable<number>): void {
    const next = new Set(ids);
    const sel = this.#scene.selection;
    if (next.size === sel.size && [...next].every((id) => sel.has(id))) return;
    this.#scene.selection = next;
    this.#request('ui');
    this.#cb.select([...next]);
  }

  #setHover(id: number | null): void {
    if (id === this.#scene.hoverId) return;
    this.#scene.hoverId = id;
    if (id === null) this.#cb.hover(null);
    this.#request('ui');
  }

  // ---- pointer ------------------------------------------------------------------------------------

  #gestureContext(): GestureContext {
    const s = this.#scene;
    const { view, exact } = s.viewState;
    return { image: s.image, mode: s.mode, spaceHeld: s.spaceHeld, selection: s.selection, view, exactView: exact, rectOf: (id) => rectOf(s, id) };
  }

  #onPointer(e: PointerEvent, kind: 'down' | 'move' | 'up'): void {
    const r = this.#container.getBoundingClientRect();
    const at = { x: e.clientX - r.left, y: e.clientY - r.top };
    const scene = this.#scene;
    const g = scene.gesture;
    // Frames answering an input are timed from it; plain hover moves only count in draw mode (the crosshair).
    if (kind !== 'move' || (g && g.kind !== 'click') || scene.mode === 'draw') this.#frames.markInput(e);
    // (An up is where the last move was: the pointer stays as that move left it.)
    if (kind !== 'up') scene.pointer = at;
    let hits: Hits | undefined;
    if (kind === 'down' && e.button === 0 && scene.image) {
      hits = { handle: handleAt(scene, at), box: pickAt(scene, toImage(scene.viewState.view, at))?.id ?? null };
    }
    if (kind === 'up' && this.#container.hasPointerCapture(e.pointerId)) this.#container.releasePointerCapture(e.pointerId);
    const input: GestureInput = kind === 'down' ? { kind, at, button: e.button, shift: e.shiftKey } : { kind, at };
    this.#apply(step(g, input, this.#gestureContext(), hits), e);
  }

  /** Takes the step's gesture and carries out its effects, in order. */
  #apply(next: Step, e?: PointerEvent): Effect[] {
    this.#scene.gesture = next.gesture;
    for (const fx of next.effects) {
      switch (fx.kind) {
        case 'prevent-default':
          e?.preventDefault();
          break;
        case 'focus':
          this.#container.focus({ preventScroll: true });
          break;
        case 'capture':
          if (e) this.#capture(e);
          break;
        case 'redraw':
          this.#request(...fx.layers);
          break;
        case 'cursor':
          this.#updateCursor();
          break;
        case 'hover-off':
          this.#setHover(null);
          break;
        case 'hover-check':
          this.#hoverPending = true;
          break;
        case 'pointer-left':
          this.#scene.pointer = null;
          break;
        case 'view':
          this.#setView(fx.view, false);
          break;
        case 'select':
          this.#select(fx.ids);
          break;
        case 'create':
          this.#scene.ghosts.push({ rect: fx.rect, until: performance.now() + GHOST_MS });
          this.#cb.create(fx.rect);
          break;
        case 'commit':
          hold(this.#scene, fx.boxes);
          if (fx.changed.length > 0) this.#cb.change(fx.changed);
          break;
        case 'cancelled':
          break;
      }
    }
    return next.effects;
  }

  #onWheel(e: WheelEvent): void {
    e.preventDefault();
    const image = this.#scene.image;
    if (!image) return;
    this.#frames.markInput(e);
    const r = this.#container.getBoundingClientRect();
    const at = { x: e.clientX - r.left, y: e.clientY - r.top };
    this.#scene.pointer = at;
    this.#setView(this.#scene.viewState.zoomedBy(image, wheelZoomFactor(e.deltaY, e.deltaMode), at), false);
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
    if (!this.#scene.viewState.resize(size)) return;
    this.#stage.size(size);
    if (this.#scene.viewState.fitted) this.fit();
    this.#request('image', 'boxes', 'ui');
  }

  /** Hover and cursor for the pointer's current position (once per frame). */
  #updateHover(): void {
    this.#hoverPending = false;
    const scene = this.#scene;
    const s = scene.pointer;
    if (!s || !scene.image || scene.gesture) return this.#updateCursor();
    const box = pickAt(scene, toImage(scene.viewState.view, s));
    this.#setHover(box?.id ?? null);
    if (box) this.#cb.hover({ box, x: s.x, y: s.y });
    this.#updateCursor();
  }

  #updateCursor(): void {
    const s = this.#scene;
    const p: Point | null = s.pointer;
    const under = s.image && p ? { handle: handleAt(s, p), inImage: inImage(toImage(s.viewState.view, p), s.image) } : null;
    const cursor = cursorFor(s.gesture, { spaceHeld: s.spaceHeld, mode: s.mode, hovering: s.hoverId !== null, under });
    if (cursor !== this.#cursor) {
      this.#cursor = cursor;
      this.#container.style.cursor = cursor;
    }
  }

  // ---- frames -------------------------------------------------------------------------------------

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

  #request(...layers: LayerName[]): void {
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
      this.#layers.image.draw();
      drawn.push('image');
    }
    if (d.boxes) {
      this.#layers.boxes.draw();
      drawn.push('boxes');
    }
    // An empty ui layer is hidden rather than redrawn blank: a canvas that changes costs a copy of
    // its pixels in the frame's commit (a few ms each without a GPU), a hidden one nothing.
    if (d.ui) {
      const show = !uiIsEmpty(this.#scene);
      if (show !== this.#uiShown) {
        this.#uiShown = show;
        this.#layers.ui.visible(show);
      }
      if (show) {
        this.#layers.ui.draw();
        drawn.push('ui');
      }
    }
    this.#dirty = { image: false, boxes: false, ui: false };
    const frame = { imageId: this.#scene.image?.imageId ?? null, imageDrawn: this.#imageDrawn, boxesDrawn: this.#boxesDrawn, predictionsDrawn: this.#predictionsDrawn };
    this.#frames.report({ ...frame, layers: drawn.join(','), frameAt, drawAt: t0 }, this.#scene.viewState.exact);
    // Ghost boxes of failed creates fade out on their own.
    const ghosts = this.#scene.ghosts;
    if (ghosts.length && ghosts.some((g) => g.until < t0)) {
      this.#scene.ghosts = ghosts.filter((g) => g.until >= t0);
      this.#request('ui');
    }
  };
}
