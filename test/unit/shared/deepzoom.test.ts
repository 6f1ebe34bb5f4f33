import { describe, expect, it } from 'vitest';
import { dzHasTile, dzLevelForScale, dzLevelSize, dzMaxLevel, dzTileGrid } from '../../../src/shared/deepzoom';

describe('DeepZoom level math', () => {
  it('puts the full image at maxLevel = ceil(log2(longest side)), level 0 at one pixel', () => {
    expect(dzMaxLevel(9000, 7000)).toBe(14);
    expect(dzMaxLevel(8192, 100)).toBe(13); // exact powers of two do not round up
    expect(dzMaxLevel(8193, 100)).toBe(14);
    expect(dzMaxLevel(1, 1)).toBe(0);
    expect(dzLevelSize(9000, 7000, 14)).toEqual({ width: 9000, height: 7000 });
    expect(dzLevelSize(9000, 7000, 0)).toEqual({ width: 1, height: 1 });
  });

  it('rounds each level up: ceil(W / 2^(maxLevel - L))', () => {
    expect(dzLevelSize(9000, 7000, 13)).toEqual({ width: 4500, height: 3500 });
    expect(dzLevelSize(9000, 7000, 9)).toEqual({ width: 282, height: 219 }); // 281.25, 218.75
    expect(dzLevelSize(9001, 7001, 13)).toEqual({ width: 4501, height: 3501 });
  });

  it('counts tiles per level and knows which exist', () => {
    expect(dzTileGrid(9000, 7000, 14, 512)).toEqual({ cols: 18, rows: 14 });
    expect(dzTileGrid(9000, 7000, 10, 512)).toEqual({ cols: 2, rows: 1 });
    expect(dzHasTile(9000, 7000, 512, 14, 17, 13)).toBe(true);
    expect(dzHasTile(9000, 7000, 512, 14, 18, 0)).toBe(false);
    expect(dzHasTile(9000, 7000, 512, 15, 0, 0)).toBe(false);
    expect(dzHasTile(9000, 7000, 512, -1, 0, 0)).toBe(false);
    expect(dzHasTile(9000, 7000, 512, 14, 0.5, 0)).toBe(false);
  });

  it('picks the coarsest level with at least one level pixel per screen pixel', () => {
    expect(dzLevelForScale(9000, 7000, 1)).toBe(14);
    expect(dzLevelForScale(9000, 7000, 4)).toBe(14);
    expect(dzLevelForScale(9000, 7000, 0.5)).toBe(13);
    expect(dzLevelForScale(9000, 7000, 0.3)).toBe(13);
    expect(dzLevelForScale(9000, 7000, 0.25)).toBe(12);
    expect(dzLevelForScale(9000, 7000, 0)).toBe(0);
  });
});
