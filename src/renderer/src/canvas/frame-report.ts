/**
 * @file The canvas's timing hooks: each frame it draws is reported as a FRAME_EVENT on the
 * container, with what it drew and what it cost, and the view is written to `data-view`. This is
 * what bench/canvas.ts and the e2e tests read; the app itself never listens.
 */
import type { View } from './geometry';

export const FRAME_EVENT = 'canvasframe';

/** Detail of FRAME_EVENT: what one frame drew and what it cost. */
export interface FrameInfo {
  imageId: number | null;
  /** The image's pixels have been drawn (in this frame or before, for this image). */
  imageDrawn: boolean;
  /** Boxes of this image the boxes layer drew (last time it was drawn). */
  boxesDrawn: number;
  /** Predictions drawn over the image (last time the image layer was drawn; 0 while they are hidden). */
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

export class FrameReporter {
  /** What the layers drew, each the last time it was drawn (the draws write it). */
  readonly drawn = { imageDrawn: false, boxesDrawn: 0, predictionsDrawn: 0 };
  #inputAt: number | null = null;

  constructor(private readonly container: HTMLElement) {}

  /** An input event the next frame answers: the first one of each frame is its input time. */
  markInput(e: Event): void {
    this.#inputAt ??= e.timeStamp;
  }

  /** Reports the frame drawn since `drawAt`, and the view (before snapping: what zoom steps keep exact). */
  report(frame: Pick<FrameInfo, 'imageId' | 'layers' | 'frameAt' | 'drawAt'>, exactView: View): void {
    const info: FrameInfo = { ...frame, ...this.drawn, workMs: performance.now() - frame.drawAt, inputAt: this.#inputAt };
    this.#inputAt = null;
    const v = exactView;
    this.container.dataset.view = `${v.scale.toFixed(6)},${v.x.toFixed(3)},${v.y.toFixed(3)}`;
    this.container.dispatchEvent(new CustomEvent<FrameInfo>(FRAME_EVENT, { detail: info }));
  }
}
