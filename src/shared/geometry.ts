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
