/**
 * @file The box rules every side shares: a box is a rect in image pixels (x, y, w, h from the
 * top-left, as the store keeps it), and it is clipped to its image one way, here. The store's edits
 * and imports and the canvas all use this clip, so what the canvas shows is what gets saved.
 */

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Size {
  width: number;
  height: number;
}

/**
 * Clips a rect to the image; null when less than `minSize` is left on either side. A negative
 * width or height spans the other way from (x, y).
 *
 * @example clipRect({ x: -10, y: 5, w: 30, h: 100 }, { width: 100, height: 80 }) // { x: 0, y: 5, w: 20, h: 75 }
 */
export function clipRect(r: Rect, size: Size, minSize = 1): Rect | null {
  const x1 = Math.max(0, Math.min(r.x, r.x + r.w));
  const y1 = Math.max(0, Math.min(r.y, r.y + r.h));
  const x2 = Math.min(size.width, Math.max(r.x, r.x + r.w));
  const y2 = Math.min(size.height, Math.max(r.y, r.y + r.h));
  if (x2 - x1 < minSize || y2 - y1 < minSize) return null;
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

/**
 * The format readers' clamp: a rect (positive w, h) that lies inside comes back exactly as written,
 * so a file read and written again is unchanged (clipRect's x2 - x1 could round w); one that
 * overhangs an edge is clipped. Null when nothing of it is left inside.
 *
 * @example clampRectToImage({ x: -0.5, y: 2, w: 10, h: 4 }, { width: 8, height: 8 }) // { x: 0, y: 2, w: 8, h: 4 }
 */
export function clampRectToImage(r: Rect, size: Size): Rect | null {
  if (r.x >= 0 && r.y >= 0 && r.x + r.w <= size.width && r.y + r.h <= size.height) return r.w > 0 && r.h > 0 ? { ...r } : null;
  const c = clipRect(r, size, 0);
  return c && c.w > 0 && c.h > 0 ? c : null;
}
