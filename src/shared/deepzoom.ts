/**
 * @file DeepZoom pyramid geometry, shared by the server (which validates tile requests against it)
 * and the canvas (which picks the tiles to draw). Pure integer math, no dependencies.
 *
 * The layout is the one libvips writes for `layout: 'dz'` with the default depth ('onepixel'):
 *
 * - maxLevel = ceil(log2(max(W, H))): the full-resolution level. Level 0 is 1x1 pixel.
 * - Level L is the image scaled by 1 / 2^(maxLevel - L), rounding up:
 *   width(L) = ceil(W / 2^(maxLevel - L)), height(L) = ceil(H / 2^(maxLevel - L)).
 * - Each level is cut into tileSize x tileSize tiles from the top-left, with no overlap; the last
 *   column and row are narrower. Tile (col, row) of level L covers level pixels
 *   [col * tileSize, min((col + 1) * tileSize, width(L))) x [row * tileSize, ...), i.e. source
 *   pixels scaled by 2^(maxLevel - L).
 *
 * @example
 * // a 9000 x 7000 image: maxLevel 14 (2^13 = 8192 < 9000 <= 16384 = 2^14), 15 levels
 * dzMaxLevel(9000, 7000)          // 14
 * dzLevelSize(9000, 7000, 13)     // { width: 4500, height: 3500 }
 * dzTileGrid(9000, 7000, 14, 512) // { cols: 18, rows: 14 }
 * // to draw at scale s (screen px per source px), use the smallest level with 2^(L - maxLevel) >= s:
 * dzLevelForScale(9000, 7000, 0.3) // 13 (level 13 is 0.5x, level 12 would be 0.25x)
 */

/** Smallest L with 2^L >= max(width, height): the level holding the full-resolution image. */
export function dzMaxLevel(width: number, height: number): number {
  const side = Math.max(1, Math.ceil(width), Math.ceil(height));
  let level = 0;
  while (2 ** level < side) level++;
  return level;
}

/** Pixel size of level `level` (0..maxLevel). */
export function dzLevelSize(width: number, height: number, level: number): { width: number; height: number } {
  const scale = 2 ** (dzMaxLevel(width, height) - level);
  return { width: Math.ceil(width / scale), height: Math.ceil(height / scale) };
}

/** Columns and rows of tiles in level `level`. */
export function dzTileGrid(width: number, height: number, level: number, tileSize: number): { cols: number; rows: number } {
  const size = dzLevelSize(width, height, level);
  return { cols: Math.ceil(size.width / tileSize), rows: Math.ceil(size.height / tileSize) };
}

/**
 * The level to draw at `scale` screen pixels per source pixel: the coarsest one that still has at
 * least one level pixel per screen pixel, clamped to maxLevel when zoomed in past 100%.
 */
export function dzLevelForScale(width: number, height: number, scale: number): number {
  const maxLevel = dzMaxLevel(width, height);
  if (!(scale > 0)) return 0;
  const level = maxLevel + Math.ceil(Math.log2(scale) - 1e-9);
  return Math.min(maxLevel, Math.max(0, level));
}

/** True when (level, col, row) names a tile of the pyramid. */
export function dzHasTile(width: number, height: number, tileSize: number, level: number, col: number, row: number): boolean {
  if (!Number.isInteger(level) || level < 0 || level > dzMaxLevel(width, height)) return false;
  const grid = dzTileGrid(width, height, level, tileSize);
  return Number.isInteger(col) && Number.isInteger(row) && col >= 0 && row >= 0 && col < grid.cols && row < grid.rows;
}
