import { describe, expect, it } from 'vitest';
import { clampRectToImage, clipRect } from '../../../src/shared/geometry';

const image = { width: 100, height: 80 };

describe('clipRect: the one box clip', () => {
  it('keeps a box inside the image as it is', () => {
    expect(clipRect({ x: 10, y: 20, w: 30, h: 40 }, image)).toEqual({ x: 10, y: 20, w: 30, h: 40 });
    expect(clipRect({ x: 0, y: 0, w: 100, h: 80 }, image)).toEqual({ x: 0, y: 0, w: 100, h: 80 });
  });

  it('cuts what reaches past each edge', () => {
    expect(clipRect({ x: -10, y: 5, w: 30, h: 100 }, image)).toEqual({ x: 0, y: 5, w: 20, h: 75 });
    expect(clipRect({ x: 90, y: -5, w: 30, h: 10 }, image)).toEqual({ x: 90, y: 0, w: 10, h: 5 });
    expect(clipRect({ x: -1, y: -1, w: 200, h: 200 }, image)).toEqual({ x: 0, y: 0, w: 100, h: 80 });
  });

  it('reads a negative width or height as spanning the other way', () => {
    expect(clipRect({ x: 50, y: 50, w: -20, h: -10 }, image)).toEqual({ x: 30, y: 40, w: 20, h: 10 });
    expect(clipRect({ x: 10, y: 90, w: -20, h: -20 }, image)).toEqual({ x: 0, y: 70, w: 10, h: 10 });
  });

  it('drops what keeps less than 1 px on a side (the store rule), or the given minimum', () => {
    expect(clipRect({ x: 99.5, y: 0, w: 10, h: 10 }, image)).toBeNull();
    expect(clipRect({ x: 200, y: 0, w: 10, h: 10 }, image)).toBeNull();
    expect(clipRect({ x: 10, y: 10, w: 0, h: 10 }, image)).toBeNull();
    expect(clipRect({ x: 99, y: 79, w: 5, h: 5 }, image)).toEqual({ x: 99, y: 79, w: 1, h: 1 });
    expect(clipRect({ x: 99, y: 0, w: 5, h: 5 }, image, 4)).toBeNull();
    expect(clipRect({ x: 96, y: 0, w: 5, h: 5 }, image, 4)).toEqual({ x: 96, y: 0, w: 4, h: 5 });
  });
});

describe('clampRectToImage (the format readers)', () => {
  it('returns a rect that lies inside exactly as written, and clips one that overhangs', () => {
    const inside = { x: 0.1, y: 0.2, w: 0.30000000000000004, h: 0.7 };
    expect(clampRectToImage(inside, { width: 1, height: 1 })).toEqual(inside);
    expect(clampRectToImage({ x: -0.5, y: 2, w: 10, h: 4 }, { width: 8, height: 8 })).toEqual({ x: 0, y: 2, w: 8, h: 4 });
    expect(clampRectToImage({ x: 9, y: 2, w: 3, h: 4 }, { width: 8, height: 8 })).toBeNull();
    expect(clampRectToImage({ x: 1, y: 1, w: 0, h: 4 }, { width: 8, height: 8 })).toBeNull();
  });
});
