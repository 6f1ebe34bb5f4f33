import { describe, expect, it } from 'vitest';
import type { BoxRecord } from '../../../../src/shared/types';
import { applyDelta, cycle, readingOrder, sameBoxes, sourceText } from '../../../../src/renderer/src/stores/label-model';

const box = (id: number, x = 0, y = 0, classId = 1): BoxRecord => ({
  id, imageId: 1, classId, x, y, w: 10, h: 10, source: 'human', runId: null, score: null,
});

describe('applyDelta', () => {
  it('replaces, adds and removes by id, keeping untouched records as they were', () => {
    const a = box(1);
    const b = box(2);
    const c = box(3);
    const moved = { ...b, x: 40 };
    const next = applyDelta([a, b, c], { upserted: [moved, box(7)], deleted: [3] });
    expect(next.map((x) => x.id)).toEqual([1, 2, 7]);
    expect(next[0]).toBe(a);
    expect(next[1]).toBe(moved);
  });

  it('puts a box an undo brought back in its id order, and ignores an empty delta', () => {
    const list = [box(1), box(5)];
    expect(applyDelta(list, { upserted: [box(3)], deleted: [] }).map((x) => x.id)).toEqual([1, 3, 5]);
    expect(applyDelta(list, { upserted: [], deleted: [] })).toBe(list);
    expect(applyDelta(list, { upserted: [], deleted: [42] })).toEqual(list);
  });
});

describe('Tab cycling', () => {
  const order = readingOrder([box(1, 50, 0), box(2, 0, 30), box(3, 0, 0)]);

  it('goes in reading order: top to bottom, left to right', () => {
    expect(order.map((b) => b.id)).toEqual([3, 1, 2]);
  });

  it('moves to the next / previous box and wraps around', () => {
    expect(cycle(order, new Set(), 1)).toBe(3);
    expect(cycle(order, new Set(), -1)).toBe(2);
    expect(cycle(order, new Set([3]), 1)).toBe(1);
    expect(cycle(order, new Set([2]), 1)).toBe(3);
    expect(cycle(order, new Set([3]), -1)).toBe(2);
    expect(cycle(order, new Set([3, 1]), 1)).toBe(2);
    expect(cycle([], new Set(), 1)).toBeNull();
  });
});

describe('helpers', () => {
  it('compares box lists by content', () => {
    expect(sameBoxes([box(1)], [box(1)])).toBe(true);
    expect(sameBoxes([box(1)], [box(1, 1)])).toBe(false);
    expect(sameBoxes([box(1)], [])).toBe(false);
  });

  it('says where a box came from', () => {
    expect(sourceText({ source: 'human', runId: null, score: null })).toBe('drawn by hand');
    expect(sourceText({ source: 'import', runId: null, score: null })).toBe('imported');
    expect(sourceText({ source: 'model', runId: 3, score: 0.874 })).toBe('model run 3 · 0.87');
    expect(sourceText({ source: 'model', runId: null, score: null })).toBe('model');
  });
});
