/**
 * @file Pure state rules of the Label view: applying an edit's delta to the box list, cycling the
 * selection with Tab, the hover text of a box. Kept apart from the rune store so Node tests can
 * run them.
 */
import type { BoxRecord, EditResult } from '../../../shared/types';

/**
 * The box list after an edit (or undo/redo): upserted boxes replace theirs or join, deleted ones
 * go. Untouched records keep their identity, so the canvas redraws only what changed. Sorted by
 * id (creation order), as the store returns them.
 */
export function applyDelta(boxes: readonly BoxRecord[], delta: Pick<EditResult, 'upserted' | 'deleted'>): BoxRecord[] {
  if (delta.upserted.length === 0 && delta.deleted.length === 0) return boxes as BoxRecord[];
  const gone = new Set(delta.deleted);
  const fresh = new Map(delta.upserted.map((b) => [b.id, b]));
  const out: BoxRecord[] = [];
  for (const b of boxes) {
    if (gone.has(b.id)) continue;
    const u = fresh.get(b.id);
    out.push(u ?? b);
    fresh.delete(b.id);
  }
  if (fresh.size === 0) return out;
  for (const b of fresh.values()) if (!gone.has(b.id)) out.push(b);
  return out.sort((a, b) => a.id - b.id);
}

/**
 * Tab order: reading order (top to bottom, then left to right, by the box's top-left corner),
 * which is how a reviewer sweeps an image.
 */
export function readingOrder<T extends { id: number; x: number; y: number }>(boxes: readonly T[]): T[] {
  return [...boxes].sort((a, b) => a.y - b.y || a.x - b.x || a.id - b.id);
}

/**
 * The box Tab (dir 1) or Shift+Tab (dir -1) selects: the one after (before) the last selected
 * box in `order`, wrapping around; the first (last) when nothing is selected.
 *
 * @example cycle([{ id: 4 }, { id: 9 }], new Set([9]), 1) // 4
 */
export function cycle(order: readonly { id: number }[], selected: ReadonlySet<number>, dir: 1 | -1): number | null {
  if (order.length === 0) return null;
  let at = -1;
  for (let i = 0; i < order.length; i++) if (selected.has(order[i]!.id)) at = dir === 1 ? i : at === -1 ? i : at;
  const next = at === -1 ? (dir === 1 ? 0 : order.length - 1) : (at + dir + order.length) % order.length;
  return order[next]!.id;
}

/** Same ids and geometry and classes, in the same order (a re-read that changed nothing). */
export function sameBoxes(a: readonly BoxRecord[], b: readonly BoxRecord[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    const q = b[i]!;
    if (p.id !== q.id || p.classId !== q.classId || p.x !== q.x || p.y !== q.y || p.w !== q.w || p.h !== q.h) return false;
  }
  return true;
}

/**
 * Where a box came from, for its hover card.
 *
 * @example sourceText({ source: 'model', runId: 3, score: 0.874 }) // 'model run 3 · 0.87'
 */
export function sourceText(b: Pick<BoxRecord, 'source' | 'runId' | 'score'>): string {
  if (b.source === 'model') {
    const run = b.runId === null ? 'model' : `model run ${b.runId}`;
    return b.score === null ? run : `${run} · ${b.score.toFixed(2)}`;
  }
  return b.source === 'import' ? 'imported' : 'drawn by hand';
}
