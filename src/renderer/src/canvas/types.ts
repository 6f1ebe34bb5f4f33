/**
 * @file The annotation canvas's types that its modules and the Label view share: what the canvas
 * is given (an image, class styles, the mode) and what it tells back (callbacks). Types only, so
 * any canvas module can import them without an import cycle.
 */
import type { BoxRecord } from '../../../shared/types';
import type { BoxGeometry, Rect, View } from './geometry';

// Owned by the DOM-free modules that Node tests load; here so the Label view finds them in one place.
export type { CanvasMode } from './gestures';
export type { BoxGeometry } from './geometry';

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
