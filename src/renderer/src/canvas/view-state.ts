/**
 * @file The canvas's view state: the container's size and the view transform (geometry.ts), kept
 * twice: exact, as zoom and pan steps compute it, and as drawn, its translation snapped to whole
 * device pixels so the image layer's cached picture is copied 1:1 (image-painter.ts). Zoom and pan
 * steps start from the exact view, so rounding never accumulates. No DOM, no Konva.
 */
import { centeredView, fitView, rectToScreen, toImage, zoomAt, zoomLimits, type Point, type Rect, type Size, type View } from './geometry';

/** Screen pixels around a fitted image. */
const FIT_MARGIN = 24;
/** reveal(): a box closer than this (screen pixels) to an edge is brought to the middle. */
const REVEAL_MARGIN = 40;

export class ViewState {
  size: Size;
  /** The view as drawn: its translation on whole device pixels. */
  view: View = { scale: 1, x: 0, y: 0 };
  /** The view before snapping. */
  exact: View = { scale: 1, x: 0, y: 0 };
  /** True until the user zooms or pans: the view then follows resizes of the container. */
  fitted = true;

  constructor(
    size: Size,
    private readonly pixelRatio: number,
  ) {
    this.size = size;
  }

  /** Takes `view` (exact) and its snapped twin. True when the zoom changed. */
  set(view: View, fitted: boolean): boolean {
    const pr = this.pixelRatio;
    const zoomed = view.scale !== this.view.scale;
    this.exact = view;
    this.view = { scale: view.scale, x: Math.round(view.x * pr) / pr, y: Math.round(view.y * pr) / pr };
    this.fitted = fitted;
    return zoomed;
  }

  /** True when the size changed. */
  resize(size: Size): boolean {
    if (size.width === this.size.width && size.height === this.size.height) return false;
    this.size = size;
    return true;
  }

  /** The middle of the container (screen pixels). */
  middle(): Point {
    return { x: this.size.width / 2, y: this.size.height / 2 };
  }

  /** The whole image, centred with a margin. */
  fitting(image: Size): View {
    return fitView(image, this.size, FIT_MARGIN);
  }

  /** 100 %: one image pixel per screen pixel, around the middle of what is shown now. */
  at100(): View {
    return centeredView(1, toImage(this.view, this.middle()), this.size);
  }

  /** Zoomed by `factor` around the screen point `at` (the middle when null), within the image's limits. */
  zoomedBy(image: Size, factor: number, at: Point | null): View {
    return zoomAt(this.exact, at ?? this.middle(), factor, zoomLimits(image, this.size));
  }

  /** Panned so that `r` (image pixels) is well on screen, keeping the zoom; null when it already is. */
  revealing(r: Rect): View | null {
    const s = rectToScreen(this.view, r);
    const m = REVEAL_MARGIN;
    if (s.x >= m && s.y >= m && s.x + s.w <= this.size.width - m && s.y + s.h <= this.size.height - m) return null;
    return centeredView(this.view.scale, { x: r.x + r.w / 2, y: r.y + r.h / 2 }, this.size);
  }
}
