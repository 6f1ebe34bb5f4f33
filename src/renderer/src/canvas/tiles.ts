/**
 * @file Which DeepZoom tiles the canvas draws: the level for a zoom and the tiles of it that cover
 * the visible region, placed in full-resolution image pixels. The pyramid's own math (levels,
 * sizes, the level for a scale) is shared with the server in shared/deepzoom.ts.
 */
import { dzLevelForScale, dzLevelSize, dzMaxLevel } from '../../../shared/deepzoom';
import type { Rect, Size } from './geometry';

export interface TilePlacement {
  level: number;
  col: number;
  row: number;
  /** The part of the image the tile covers, in full-resolution image pixels. */
  rect: Rect;
}

/**
 * The level to draw at `deviceScale` (device pixels per image pixel): the coarsest that is still
 * sharp, i.e. never blown up.
 */
export function tileLevel(size: Size, deviceScale: number): number {
  return dzLevelForScale(size.width, size.height, deviceScale);
}

/**
 * Tiles of `level` that intersect `visible` (image pixels), each with the image rect it covers,
 * ordered from the centre of the view outwards so the middle of the screen sharpens first.
 */
export function visibleTiles(size: Size, tileSize: number, level: number, visible: Rect): TilePlacement[] {
  const f = 2 ** (dzMaxLevel(size.width, size.height) - level); // image pixels per level pixel
  const lvl = dzLevelSize(size.width, size.height, level);
  const span = tileSize * f; // image pixels per tile
  const cols = Math.ceil(lvl.width / tileSize);
  const rows = Math.ceil(lvl.height / tileSize);
  const c0 = Math.max(0, Math.floor(visible.x / span));
  const c1 = Math.min(cols - 1, Math.floor((visible.x + visible.w) / span));
  const r0 = Math.max(0, Math.floor(visible.y / span));
  const r1 = Math.min(rows - 1, Math.floor((visible.y + visible.h) / span));
  const out: TilePlacement[] = [];
  for (let row = r0; row <= r1; row++) {
    for (let col = c0; col <= c1; col++) {
      const x = col * span;
      const y = row * span;
      out.push({ level, col, row, rect: { x, y, w: Math.min(span, size.width - x), h: Math.min(span, size.height - y) } });
    }
  }
  const cx = visible.x + visible.w / 2;
  const cy = visible.y + visible.h / 2;
  const dist = (t: TilePlacement): number => (t.rect.x + t.rect.w / 2 - cx) ** 2 + (t.rect.y + t.rect.h / 2 - cy) ** 2;
  return out.sort((a, b) => dist(a) - dist(b));
}

export function tileKey(t: Pick<TilePlacement, 'level' | 'col' | 'row'>): string {
  return `${t.level}/${t.col}/${t.row}`;
}
