/**
 * @file The Konva stage of the canvas and when its layers are drawn: three layers (image, boxes,
 * ui), none listening to Konva events, each one custom shape whose draw function the canvas gives
 * (drawing.ts). Draws happen in one requestAnimationFrame callback per frame, for the layers marked
 * dirty (Konva.autoDrawEnabled is off).
 */
import Konva from 'konva';
import type { LayerName } from './gestures';
import type { Size } from './geometry';

export interface FrameHooks {
  /** Draws each layer on its context (CSS pixels; the pixel ratio is in its transform). */
  draw: Record<LayerName, (ctx: CanvasRenderingContext2D) => void>;
  /** Runs first in each frame (input resolved once per frame, such as hover). */
  beforeDraw(): void;
  /** Nothing for the ui layer to show: it is hidden rather than redrawn blank. */
  uiIsEmpty(): boolean;
  /** The frame's draws are done: which layers it drew, its rAF time, and when drawing began. */
  afterDraw(layers: string, frameAt: number, drawAt: number): void;
}

/** Device pixels per CSS pixel: crisp on HiDPI screens but never more than 2x (a 3x canvas costs 2.25x the fill of a 2x one). */
export function stagePixelRatio(): number {
  return Math.min(window.devicePixelRatio || 1, 2);
}

export class LayerStage {
  readonly #stage: Konva.Stage;
  readonly #layers: Record<LayerName, Konva.Layer>;
  readonly #hooks: FrameHooks;
  #dirty: Record<LayerName, boolean> = { image: false, boxes: false, ui: false };
  #uiShown = true;
  #raf = 0;

  /** The layers draw once as they are added to the stage: what `hooks` reads must be ready. */
  constructor(container: HTMLDivElement, size: Size, pixelRatio: number, hooks: FrameHooks) {
    Konva.pixelRatio = pixelRatio;
    // Draws are scheduled here, once per frame, for the dirty layers only.
    Konva.autoDrawEnabled = false;
    this.#hooks = hooks;
    this.#stage = new Konva.Stage({ container, width: size.width, height: size.height, listening: false });
    this.#layers = { image: this.#layer(hooks.draw.image), boxes: this.#layer(hooks.draw.boxes), ui: this.#layer(hooks.draw.ui) };
  }

  /** Marks layers for the next frame's draw. */
  request(...layers: LayerName[]): void {
    for (const l of layers) this.#dirty[l] = true;
    if (this.#raf === 0) this.#raf = requestAnimationFrame(this.#frame);
  }

  resize(size: Size): void {
    this.#stage.size(size);
  }

  destroy(): void {
    cancelAnimationFrame(this.#raf);
    this.#stage.destroy();
  }

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

  #frame = (frameAt: number): void => {
    this.#raf = 0;
    const t0 = performance.now();
    this.#hooks.beforeDraw();
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
      const show = !this.#hooks.uiIsEmpty();
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
    this.#hooks.afterDraw(drawn.join(','), frameAt, t0);
  };
}
