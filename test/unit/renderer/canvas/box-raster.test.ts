import { describe, expect, it } from 'vitest';
import { BoxRaster, pixelColor } from '../../../../src/renderer/src/canvas/box-raster';

/** The buffer as rows of '.' (empty) and '#' (set), to compare pictures. */
function picture(r: BoxRaster): string[] {
  const rows: string[] = [];
  for (let y = 0; y < r.height; y++) {
    let row = '';
    for (let x = 0; x < r.width; x++) row += r.pixels[y * r.width + x] ? '#' : '.';
    rows.push(row);
  }
  return rows;
}

describe('BoxRaster', () => {
  it('packs #rrggbb and alpha as little-endian RGBA words', () => {
    expect(pixelColor('#ff0000')).toBe(0xff0000ff);
    expect(pixelColor('#00ff00')).toBe(0xff00ff00);
    expect(pixelColor('#0000ff', 0)).toBe(0x00ff0000);
    expect(pixelColor('#123456', 0.5)).toBe(0x80563412);
    const bytes = new Uint8Array(new Uint32Array([pixelColor('#123456')]).buffer);
    expect([...bytes]).toEqual([0x12, 0x34, 0x56, 0xff]);
  });

  it('draws a one-pixel outline inside the rect', () => {
    const r = new BoxRaster();
    r.resize(6, 5);
    r.outline(1, 1, 5, 4, 1);
    expect(picture(r)).toEqual(['......', '.####.', '.#..#.', '.####.', '......']);
    expect(r.dirty).toEqual({ x0: 1, y0: 1, x1: 5, y1: 4 });
  });

  it('draws thicker outlines inward and fills boxes too small for a hole', () => {
    const r = new BoxRaster();
    r.resize(7, 7);
    r.outline(0, 0, 7, 7, 1, 2);
    expect(picture(r)).toEqual(['#######', '#######', '##...##', '##...##', '##...##', '#######', '#######']);
    r.clear();
    r.outline(2, 2, 4, 4, 1, 2);
    expect(picture(r)).toEqual(['.......', '.......', '..##...', '..##...', '.......', '.......', '.......']);
  });

  it('clips to the buffer', () => {
    const r = new BoxRaster();
    r.resize(4, 3);
    r.outline(-2, 1, 2, 10, 1);
    expect(picture(r)).toEqual(['....', '##..', '.#..']);
    r.clear();
    r.outline(10, 10, 20, 20, 1);
    expect(picture(r)).toEqual(['....', '....', '....']);
  });

  it('dashes an outline from its own corner', () => {
    const r = new BoxRaster();
    r.resize(12, 3);
    r.outline(0, 0, 12, 3, 1, 1, 2);
    expect(picture(r)[0]).toBe('##..##..##..');
  });

  it('clears only what it drew', () => {
    const r = new BoxRaster();
    r.resize(5, 5);
    r.outline(0, 0, 5, 5, 7);
    r.clear();
    expect(r.pixels.every((p) => p === 0)).toBe(true);
    expect(r.resize(5, 5)).toBe(false);
    expect(r.resize(6, 5)).toBe(true);
  });
});
