/**
 * @file Pure geometry of the annotation canvas: the view transform (zoom around a point, fit,
 * screen <-> image), drawing, moving and resizing a box, and hit-testing. No DOM, no Konva:
 * everything here is unit-tested in Node. The box clip is src/shared/geometry.ts's, the same
 * one the store applies, so what the canvas shows is what gets saved.
 *
 * Units: image pixels for boxes (x, y, w, h from the top-left, as the store keeps them); CSS
 * pixels of the canvas element for "screen" points. A view maps one to the other:
 * `screen = image * scale + (x, y)`.
 */

import { clipRect, type Rect, type Size } from '../../../shared/geometry';

export { clipRect, type Rect, type Size };

export interface Point {
  x: number;
  y: number;
}

/** A box's id and where it is (image pixels). */
export interface BoxGeometry extends Rect {
  id: number;
}

/** `screen = image * scale + (x, y)`. */
export interface View {
  scale: number;
  x: number;
  y: number;
}

export interface ZoomLimits {
  min: number;
  max: number;
}

/** The eight resize handles: corners and edge midpoints (no rotation). */
export const HANDLES = ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w'] as const;
export type Handle = (typeof HANDLES)[number];

/** Smallest box side (image pixels) that drawing and resizing produce. */
export const MIN_BOX_SIZE = 4;

/** Image point -> screen point. */
export function toScreen(view: View, p: Point): Point {
  return { x: p.x * view.scale + view.x, y: p.y * view.scale + view.y };
}

/** Screen point -> image point. */
export function toImage(view: View, p: Point): Point {
  return { x: (p.x - view.x) / view.scale, y: (p.y - view.y) / view.scale };
}

/** An image-space rect in screen space. */
export function rectToScreen(view: View, r: Rect): Rect {
  return { x: r.x * view.scale + view.x, y: r.y * view.scale + view.y, w: r.w * view.scale, h: r.h * view.scale };
}

/**
 * The view that shows the whole image centred in the viewport with `margin` screen pixels around
 * it. Small images are not blown up past `maxScale` (1 = 100 %).
 *
 * @example fitView({ width: 200, height: 100 }, { width: 420, height: 420 }, 10) // { scale: 2, x: 10, y: 110 }
 */
export function fitView(image: Size, viewport: Size, margin = 16, maxScale = Infinity): View {
  const availW = Math.max(1, viewport.width - 2 * margin);
  const availH = Math.max(1, viewport.height - 2 * margin);
  const scale = Math.min(availW / Math.max(1, image.width), availH / Math.max(1, image.height), maxScale);
  return {
    scale,
    x: (viewport.width - image.width * scale) / 2,
    y: (viewport.height - image.height * scale) / 2,
  };
}

/** The view at `scale` with the image point `center` in the middle of the viewport. */
export function centeredView(scale: number, center: Point, viewport: Size): View {
  return { scale, x: viewport.width / 2 - center.x * scale, y: viewport.height / 2 - center.y * scale };
}

/** Zoom range for an image: from a quarter of the fit scale to 32 screen pixels per image pixel. */
export function zoomLimits(image: Size, viewport: Size): ZoomLimits {
  const fit = fitView(image, viewport, 0).scale;
  return { min: Math.min(fit / 4, 1), max: Math.max(32, fit) };
}

/**
 * Multiplies the scale by `factor` (clamped to `limits`) keeping the image point under the screen
 * point `anchor` where it is: the zoom-around-the-cursor of the wheel.
 *
 * @example zoomAt({ scale: 1, x: 0, y: 0 }, { x: 100, y: 50 }, 2) // { scale: 2, x: -100, y: -50 }
 */
export function zoomAt(view: View, anchor: Point, factor: number, limits: ZoomLimits = { min: 1e-3, max: 1e3 }): View {
  const scale = clamp(view.scale * factor, limits.min, limits.max);
  const k = scale / view.scale;
  return { scale, x: anchor.x - (anchor.x - view.x) * k, y: anchor.y - (anchor.y - view.y) * k };
}

/** The image region the viewport shows (may extend past the image). */
export function visibleImageRect(view: View, viewport: Size): Rect {
  const a = toImage(view, { x: 0, y: 0 });
  return { x: a.x, y: a.y, w: viewport.width / view.scale, h: viewport.height / view.scale };
}

/** Wheel delta -> zoom factor: one notch (100 px) is about 1.16x; line/page modes are scaled up. */
export function wheelZoomFactor(deltaY: number, deltaMode = 0): number {
  const px = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(clamp(-px, -300, 300) * 0.0015);
}

// ---- rects ---------------------------------------------------------------------------------------

/** The rect spanned by two corner points, whatever their order. */
export function rectFromPoints(a: Point, b: Point): Rect {
  return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(b.x - a.x), h: Math.abs(b.y - a.y) };
}

/** True when the image point lies on the image (its edges included). */
export function inImage(p: Point, size: Size): boolean {
  return p.x >= 0 && p.y >= 0 && p.x <= size.width && p.y <= size.height;
}

export function clampPoint(p: Point, size: Size): Point {
  return { x: clamp(p.x, 0, size.width), y: clamp(p.y, 0, size.height) };
}

/**
 * A freshly drawn box: at least `minSize` on each side (grown from its anchor corner, pushed back
 * inside the image if that crosses an edge), clipped to the image, coordinates rounded to 1/100 px.
 */
export function finishDrawnRect(a: Point, b: Point, size: Size, minSize = MIN_BOX_SIZE): Rect | null {
  const min = Math.min(minSize, size.width, size.height);
  const p = clampPoint(a, size);
  const q = clampPoint(b, size);
  let r = rectFromPoints(p, q);
  if (r.w < min) r = { ...r, w: min, x: q.x < p.x ? r.x + r.w - min : r.x };
  if (r.h < min) r = { ...r, h: min, y: q.y < p.y ? r.y + r.h - min : r.y };
  r = { ...r, x: clamp(r.x, 0, size.width - r.w), y: clamp(r.y, 0, size.height - r.h) };
  const c = clipRect(r, size);
  return c && roundRect(c);
}

/** Rounds coordinates to 1/100 px (what a person can place; keeps stored numbers short). */
export function roundRect(r: Rect): Rect {
  const q = (v: number): number => Math.round(v * 100) / 100;
  return { x: q(r.x), y: q(r.y), w: q(r.w), h: q(r.h) };
}

export function boundsOf(rects: readonly Rect[]): Rect | null {
  if (rects.length === 0) return null;
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (const r of rects) {
    x1 = Math.min(x1, r.x);
    y1 = Math.min(y1, r.y);
    x2 = Math.max(x2, r.x + r.w);
    y2 = Math.max(y2, r.y + r.h);
  }
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

/**
 * Limits a move by (dx, dy) so that `bounds` stays inside the image: a group of boxes moves
 * together and stops at the edge rather than being squashed.
 *
 * @example clampDelta({ x: 90, y: 0, w: 10, h: 10 }, 20, 5, { width: 100, height: 100 }) // { dx: 0, dy: 5 }
 */
export function clampDelta(bounds: Rect, dx: number, dy: number, size: Size): { dx: number; dy: number } {
  const minDx = -bounds.x;
  const maxDx = size.width - (bounds.x + bounds.w);
  const minDy = -bounds.y;
  const maxDy = size.height - (bounds.y + bounds.h);
  return { dx: clamp(dx, Math.min(minDx, 0), Math.max(maxDx, 0)), dy: clamp(dy, Math.min(minDy, 0), Math.max(maxDy, 0)) };
}

/** Moves every rect by the same (dx, dy), clamped so the group stays inside the image. */
export function moveRects<T extends Rect>(rects: readonly T[], dx: number, dy: number, size: Size): T[] {
  const bounds = boundsOf(rects);
  if (!bounds) return [];
  const d = clampDelta(bounds, dx, dy, size);
  return rects.map((r) => ({ ...r, x: r.x + d.dx, y: r.y + d.dy }));
}

/** Arrow-key nudge: 1 px, or 10 px with Shift, in the arrow's direction. */
export function nudgeDelta(key: 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown', shift: boolean): { dx: number; dy: number } {
  const step = shift ? 10 : 1;
  switch (key) {
    case 'ArrowLeft':
      return { dx: -step, dy: 0 };
    case 'ArrowRight':
      return { dx: step, dy: 0 };
    case 'ArrowUp':
      return { dx: 0, dy: -step };
    case 'ArrowDown':
      return { dx: 0, dy: step };
  }
}

// ---- handles -------------------------------------------------------------------------------------

/** Where each handle of a rect sits (same space as the rect). */
export function handlePoint(r: Rect, h: Handle): Point {
  const cx = r.x + r.w / 2;
  const cy = r.y + r.h / 2;
  const x = h.includes('w') ? r.x : h.includes('e') ? r.x + r.w : cx;
  const y = h.startsWith('n') ? r.y : h.startsWith('s') ? r.y + r.h : cy;
  return { x, y };
}

/**
 * Resizes `r` by dragging `handle` to the image point `p`: the edges the handle holds follow the
 * point, clamped to the image, and stop `minSize` short of the opposite edge (a box never flips
 * inside out). The opposite edges stay put.
 *
 * @example resizeRect({ x: 10, y: 10, w: 20, h: 20 }, 'se', { x: 50, y: 45 }, { width: 100, height: 100 }) // { x: 10, y: 10, w: 40, h: 35 }
 */
export function resizeRect(r: Rect, handle: Handle, p: Point, size: Size, minSize = MIN_BOX_SIZE): Rect {
  let x1 = r.x;
  let y1 = r.y;
  let x2 = r.x + r.w;
  let y2 = r.y + r.h;
  const minW = Math.min(minSize, size.width);
  const minH = Math.min(minSize, size.height);
  if (handle.includes('w')) x1 = clamp(p.x, 0, Math.max(0, x2 - minW));
  if (handle.includes('e')) x2 = clamp(p.x, Math.min(size.width, x1 + minW), size.width);
  if (handle.startsWith('n')) y1 = clamp(p.y, 0, Math.max(0, y2 - minH));
  if (handle.startsWith('s')) y2 = clamp(p.y, Math.min(size.height, y1 + minH), size.height);
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

/** The handle of a screen-space rect within `radius` screen pixels of `p`, corners first. */
export function pickHandle(screenRect: Rect, p: Point, radius: number): Handle | null {
  let best: Handle | null = null;
  let bestD = Infinity;
  for (const h of HANDLES) {
    // Edge handles of a tiny box sit on top of the corners: corners win.
    if (h.length === 1 && (screenRect.w < 3 * radius || screenRect.h < 3 * radius)) continue;
    const q = handlePoint(screenRect, h);
    const d = (q.x - p.x) ** 2 + (q.y - p.y) ** 2;
    // Ties go to the first handle in HANDLES order (corners before the next edge).
    if (d <= radius * radius && d < bestD) {
      bestD = d;
      best = h;
    }
  }
  return best;
}

/** CSS cursor for a handle. */
export function handleCursor(h: Handle): string {
  return h === 'n' || h === 's' ? 'ns-resize' : h === 'e' || h === 'w' ? 'ew-resize' : h === 'nw' || h === 'se' ? 'nwse-resize' : 'nesw-resize';
}

// ---- hit-testing ---------------------------------------------------------------------------------

/**
 * The box under image point `p`: of those containing it (grown by `tolerance` image pixels), the
 * one with the smallest area, so a small box inside a big one can always be picked. `accept`
 * filters out hidden and locked boxes. A linear scan: 2,000 boxes take a few microseconds, less
 * than keeping a spatial index in step with every edit.
 */
export function pickBox<T extends Rect & { id: number }>(
  boxes: Iterable<T>,
  p: Point,
  tolerance = 0,
  accept: (b: T) => boolean = () => true,
): T | null {
  let best: T | null = null;
  let bestArea = Infinity;
  for (const b of boxes) {
    if (p.x < b.x - tolerance || p.x > b.x + b.w + tolerance || p.y < b.y - tolerance || p.y > b.y + b.h + tolerance) continue;
    const area = b.w * b.h;
    if (area < bestArea && accept(b)) {
      best = b;
      bestArea = area;
    }
  }
  return best;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
