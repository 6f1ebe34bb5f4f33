import { describe, expect, it } from 'vitest';
import { Lru } from '../../../../src/renderer/src/canvas/lru';
import { tileKey, tileLevel, visibleTiles } from '../../../../src/renderer/src/canvas/tiles';

describe('DeepZoom tiles on the canvas', () => {
  const big = { width: 8000, height: 6000 };

  it('draws the coarsest level that is still sharp at the zoom', () => {
    const sq = { width: 8192, height: 8192 };
    expect(tileLevel(sq, 1)).toBe(13);
    expect(tileLevel(sq, 4)).toBe(13);
    expect(tileLevel(sq, 0.5)).toBe(12);
    expect(tileLevel(sq, 0.3)).toBe(12);
    expect(tileLevel(sq, 0.25)).toBe(11);
    expect(tileLevel(sq, 0.0001)).toBe(0);
  });

  it('lists the tiles covering the visible region, in image pixels, centre first', () => {
    const tiles = visibleTiles(big, 256, 12, { x: 1000, y: 0, w: 1100, h: 400 });
    // level 12: 512 image px per tile; columns 1..4, rows 0..0
    expect(tiles.map(tileKey).sort()).toEqual(['12/1/0', '12/2/0', '12/3/0', '12/4/0']);
    const c2 = tiles.find((t) => t.col === 2)!;
    expect(c2.rect).toEqual({ x: 1024, y: 0, w: 512, h: 512 });
    expect(tileKey(tiles[0]!)).toMatch(/^12\/[23]\/0$/);
  });

  it('clips the last column and row to the image, and never lists tiles outside it', () => {
    const tiles = visibleTiles(big, 256, 13, { x: 7900, y: 5900, w: 5000, h: 5000 });
    expect(tiles.map(tileKey).sort()).toEqual(['13/30/23', '13/31/23'].sort());
    const last = tiles.find((t) => t.col === 31)!;
    expect(last.rect).toEqual({ x: 7936, y: 5888, w: 64, h: 112 });
    expect(visibleTiles(big, 256, 13, { x: -900, y: -900, w: 100, h: 100 })).toEqual([]);
  });
});

describe('Lru', () => {
  it('evicts the least recently used entry and reports it', () => {
    const evicted: string[] = [];
    const lru = new Lru<string, number>(2, (_v, k) => evicted.push(k));
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    expect([...lru.keys()]).toEqual(['a', 'c']);
    expect(evicted).toEqual(['b']);
    lru.delete('a');
    lru.set('c', 4); // replacing a value evicts the old one
    expect(evicted).toEqual(['b', 'a', 'c']);
    expect(lru.peek('c')).toBe(4);
  });
});
