/**
 * @file AnnotationCanvas: the imperative controller behind the Label view's canvas, owned by one
 * Svelte component (AnnotationCanvas.svelte) that creates it on mount and destroys it. It wires the
 * parts together and keeps their state (scene.ts, view-state.ts):
 *   - pointer events on the container -> gestures.ts's pure step function, given the hit test of
 *     scene.ts (geometry.ts's scan, no Konva hit canvas) -> the effects, carried out here;
 *   - the Label view's setters in, its callbacks out;
 *   - the Konva layers (layer-stage.ts), drawn by drawing.ts: image (the picture through
 *     image-painter.ts, then the predictions over it), boxes, and ui (selection, hover, what a
 *     gesture drags or draws). A visible canvas costs a copy in each frame's commit, so the
 *     predictions, which change only with the view or the image, share the image layer;
 *   - each frame reported through frame-report.ts (what bench/canvas.ts and the e2e tests read).
 */
import type { BoxRecord, PredictionRecord } from '../../../shared/types';
import { toImage, wheelZoomFactor, type Point, type View } from './geometry';
import { BoxPainter, drawPredictions, drawUi, uiIsEmpty } from './drawing';
import { FrameReporter } from './frame-report';
import { step, type CanvasMode, type Effect, type GestureInput, type Step } from './gestures';
import { ImagePainter } from './image-painter';
import { LayerStage, stagePixelRatio } from './layer-stage';
import { assignBoxes, cursorOf, emptyScene, gestureContext, hitsAt, hold, pickAt, rectOf, sameIds, selectable, type Scene } from './scene';
import { TileLoader } from './tile-loader';
import type { CanvasCallbacks, CanvasImage, ClassStyle } from './types';
import { ViewState } from './view-state';

/** Ghost boxes of creates the store has not answered fade after this long. */
const GHOST_MS = 2000;

export class AnnotationCanvas {
  readonly #container: HTMLDivElement;
  readonly #cb: CanvasCallbacks;
  readonly #stage: LayerStage;
  readonly #tiles: TileLoader;
  readonly #painter: ImagePainter;
  readonly #boxPainter = new BoxPainter();
  readonly #frames: FrameReporter;
  readonly #resize: ResizeObserver;
  readonly #offs: (() => void)[] = [];
  readonly #scene: Scene;
  #hoverPending = false;
  #cursor = '';

  constructor(container: HTMLDivElement, callbacks: CanvasCallbacks) {
    this.#container = container;
    this.#cb = callbacks;
    const size = { width: Math.max(1, container.clientWidth), height: Math.max(1, container.clientHeight) };
    const pixelRatio = stagePixelRatio();
    this.#scene = emptyScene(new ViewState(size, pixelRatio));
    this.#frames = new FrameReporter(container);
    this.#tiles = new TileLoader(() => this.#stage.request('image'));
    this.#painter = new ImagePainter(this.#tiles, () => this.#stage.request('image'));
    this.#stage = new LayerStage(container, size, pixelRatio, {
      draw: {
        // Predictions above the image, under the boxes: the user's labels stay on top of the model's guesses.
        image: (ctx) => {
          ctx.save();
          const { view, size } = this.#scene.viewState;
          if (this.#painter.draw(ctx, view, size, pixelRatio)) this.#frames.drawn.imageDrawn = true;
          ctx.restore();
          this.#frames.drawn.predictionsDrawn = drawPredictions(ctx, this.#scene);
        },
        boxes: (ctx) => (this.#frames.drawn.boxesDrawn = this.#boxPainter.draw(ctx, this.#scene, pixelRatio)),
        ui: (ctx) => drawUi(ctx, this.#scene),
      },
      beforeDraw: () => {
        if (this.#hoverPending) this.#updateHover();
      },
      uiIsEmpty: () => uiIsEmpty(this.#scene),
      afterDraw: (layers, frameAt, drawAt) => this.#afterDraw(layers, frameAt, drawAt),
    });

    this.#resize = new ResizeObserver(() => this.#onResize());
    this.#resize.observe(container);
    this.#listen('pointerdown', (e) => this.#onPointer(e as PointerEvent, 'down'));
    this.#listen('pointermove', (e) => this.#onPointer(e as PointerEvent, 'move'));
    this.#listen('pointerup', (e) => this.#onPointer(e as PointerEvent, 'up'));
    this.#listen('pointercancel', () => this.cancel());
    this.#listen('pointerleave', () => this.#apply(step(this.#scene.gesture, { kind: 'leave' }, gestureContext(this.#scene))));
    this.#listen('wheel', (e) => this.#onWheel(e as WheelEvent), { passive: false });
    this.#listen('contextmenu', (e) => e.preventDefault());
    // The middle button's autoscroll would fight the pan.
    this.#listen('mousedown', (e) => {
      if ((e as MouseEvent).button === 1) e.preventDefault();
    });
  }

  destroy(): void {
    this.#resize.disconnect();
    for (const off of this.#offs) off();
    this.#tiles.clear();
    this.#painter.dispose();
    this.#stage.destroy();
  }

  #listen(type: string, fn: (e: Event) => void, opts?: AddEventListenerOptions): void {
    this.#container.addEventListener(type, fn, opts);
    this.#offs.push(() => this.#container.removeEventListener(type, fn, opts));
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
    this.#frames.drawn.imageDrawn = false;
    scene.gesture = null;
    scene.overrides.clear();
    scene.ghosts = [];
    // Another image's predictions never show on this one; the component sends this image's.
    scene.predictions = [];
    this.#stage.request('image');
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
    this.#stage.request('boxes', 'ui');
  }

  setSelection(ids: ReadonlySet<number>): void {
    if (sameIds(ids, this.#scene.selection)) return;
    this.#scene.selection = new Set(ids);
    this.#stage.request('ui');
  }

  /** Class colours, names, hidden and locked flags; `nextColor` is the colour of a box being drawn. */
  setStyles(styles: ReadonlyMap<number, ClassStyle>, nextColor: string): void {
    this.#scene.styles = new Map(styles);
    this.#boxPainter.setStyles(styles);
    this.#scene.nextColor = nextColor;
    this.#stage.request('image', 'boxes', 'ui');
  }

  setMode(mode: CanvasMode): void {
    if (mode === this.#scene.mode) return;
    this.#scene.mode = mode;
    this.#updateCursor();
    this.#stage.request('ui');
  }

  /** The model's predictions for the current image, drawn read-only when `visible`. */
  setPredictions(preds: readonly PredictionRecord[], visible: boolean): void {
    if (preds === this.#scene.predictions && visible === this.#scene.showPredictions) return;
    this.#scene.predictions = preds;
    this.#scene.showPredictions = visible;
    this.#stage.request('image');
  }

  setShowBoxes(show: boolean): void {
    if (show === this.#scene.showBoxes) return;
    this.#scene.showBoxes = show;
    this.#stage.request('boxes', 'ui');
  }

  /** Space held: a left drag pans. */
  setSpaceHeld(held: boolean): void {
    if (held === this.#scene.spaceHeld) return;
    this.#scene.spaceHeld = held;
    this.#updateCursor();
  }

  /** Esc: ends a drawing, move or resize in progress, putting things back. True if there was one. */
  cancel(): boolean {
    const effects = this.#apply(step(this.#scene.gesture, { kind: 'cancel' }, gestureContext(this.#scene)));
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
    if (this.#scene.viewState.set(view, fitted)) this.#setHover(null);
    this.#stage.request('image', 'boxes', 'ui');
    this.#cb.view(view);
  }

  #select(ids: Iterable<number>): void {
    const next = new Set(ids);
    if (sameIds(next, this.#scene.selection)) return;
    this.#scene.selection = next;
    this.#stage.request('ui');
    this.#cb.select([...next]);
  }

  #setHover(id: number | null): void {
    if (id === this.#scene.hoverId) return;
    this.#scene.hoverId = id;
    if (id === null) this.#cb.hover(null);
    this.#stage.request('ui');
  }

  // ---- pointer, hover and cursor ------------------------------------------------------------------

  #onPointer(e: PointerEvent, kind: 'down' | 'move' | 'up'): void {
    const at = this.#point(e);
    const scene = this.#scene;
    const g = scene.gesture;
    // Frames answering an input are timed from it; plain hover moves only count in draw mode (the crosshair).
    if (kind !== 'move' || (g && g.kind !== 'click') || scene.mode === 'draw') this.#frames.markInput(e);
    // (An up is where the last move was: the pointer stays as that move left it.)
    if (kind !== 'up') scene.pointer = at;
    const hits = kind === 'down' && e.button === 0 && scene.image ? hitsAt(scene, at) : undefined;
    if (kind === 'up' && this.#container.hasPointerCapture(e.pointerId)) this.#container.releasePointerCapture(e.pointerId);
    const input: GestureInput = kind === 'down' ? { kind, at, button: e.button, shift: e.shiftKey } : { kind, at };
    this.#apply(step(g, input, gestureContext(this.#scene), hits), e);
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
          this.#stage.request(...fx.layers);
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
        // 'cancelled' is for cancel()'s answer.
      }
    }
    return next.effects;
  }

  #onWheel(e: WheelEvent): void {
    e.preventDefault();
    const image = this.#scene.image;
    if (!image) return;
    this.#frames.markInput(e);
    const at = this.#point(e);
    this.#scene.pointer = at;
    this.#setView(this.#scene.viewState.zoomedBy(image, wheelZoomFactor(e.deltaY, e.deltaMode), at), false);
  }

  /** The event's position in container pixels. */
  #point(e: MouseEvent): Point {
    const r = this.#container.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
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
    this.#stage.resize(size);
    if (this.#scene.viewState.fitted) this.fit();
    this.#stage.request('image', 'boxes', 'ui');
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
    const cursor = cursorOf(this.#scene);
    if (cursor !== this.#cursor) {
      this.#cursor = cursor;
      this.#container.style.cursor = cursor;
    }
  }

  /** Reports the frame (frame-report.ts); ghosts past their time go. */
  #afterDraw(layers: string, frameAt: number, drawAt: number): void {
    const scene = this.#scene;
    this.#frames.report({ imageId: scene.image?.imageId ?? null, layers, frameAt, drawAt }, scene.viewState.exact);
    // Ghost boxes of failed creates fade out on their own.
    if (scene.ghosts.length && scene.ghosts.some((g) => g.until < drawAt)) {
      scene.ghosts = scene.ghosts.filter((g) => g.until >= drawAt);
      this.#stage.request('ui');
    }
  }
}
