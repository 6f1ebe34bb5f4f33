import { describe, expect, it } from 'vitest';
import { mosaic4, mosaicCenter, mosaicLayout } from '../../../../src/main/images/augment/mosaic';
import { Rng } from '../../../../src/main/util/rng';
import { drawFixture, expectBoxesMatchPixels, fixtureSet } from '../../../helpers/augment-fixtures';

describe('mosaic layout', () => {
  const sizes = [
    { width: 100, height: 60 },
    { width: 80, height: 100 },
    { width: 100, height: 100 },
    { width: 50, height: 40 },
  ];

  it('places four images around the centre (hand-computed, s = 100, centre 120, 80)', () => {
    const l = mosaicLayout(100, 120, 80, sizes);
    expect(l[0]).toEqual({ a: [20, 20, 120, 80], b: [0, 0, 100, 60], padw: 20, padh: 20 });
    expect(l[1]).toEqual({ a: [120, 0, 200, 80], b: [0, 20, 80, 100], padw: 120, padh: -20 });
    expect(l[2]).toEqual({ a: [20, 80, 120, 180], b: [0, 0, 100, 100], padw: 20, padh: 80 });
    expect(l[3]).toEqual({ a: [120, 80, 170, 120], b: [0, 0, 50, 40], padw: 120, padh: 80 });
  });

  it('crops images that would leave the canvas (centre 60, 150)', () => {
    const l = mosaicLayout(100, 60, 150, sizes);
    // top left: only the right 60 columns fit left of the centre.
    expect(l[0]).toEqual({ a: [0, 90, 60, 150], b: [40, 0, 100, 60], padw: -40, padh: 90 });
    // top right: 80 wide from x 60; rows 50..150 of the canvas.
    expect(l[1]).toEqual({ a: [60, 50, 140, 150], b: [0, 0, 80, 100], padw: 60, padh: 50 });
    // bottom left: 100 tall from y 150 but the canvas ends at 200.
    expect(l[2]).toEqual({ a: [0, 150, 60, 200], b: [40, 0, 100, 50], padw: -40, padh: 150 });
    expect(l[3]).toEqual({ a: [60, 150, 110, 190], b: [0, 0, 50, 40], padw: 60, padh: 150 });
  });

  it('draws the centre from [s/2, 3s/2)', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 200; i++) {
      const { xc, yc } = mosaicCenter(320, rng);
      for (const v of [xc, yc]) {
        expect(Number.isInteger(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(160);
        expect(v).toBeLessThan(480);
      }
    }
  });

  it('copies pixels and shifts, clips and drops labels', () => {
    const s = 100;
    const tiles = [
      drawFixture(100, 60, [{ k: 0, x1: 10, y1: 10, x2: 50, y2: 40 }]),
      drawFixture(80, 100, [{ k: 1, x1: 5, y1: 5, x2: 20, y2: 15 }, { k: 2, x1: 40, y1: 60, x2: 70, y2: 90 }]),
      drawFixture(100, 100, [{ k: 3, x1: 0, y1: 0, x2: 30, y2: 30 }]),
      drawFixture(50, 40, [{ k: 4, x1: 10, y1: 10, x2: 40, y2: 30 }]),
    ];
    const m = mosaic4(tiles, s, new Rng(0), { xc: 60, yc: 150 });
    expect([m.image.width, m.image.height, m.border]).toEqual([200, 200, -50]);
    // Tile 0 is shifted by (-40, 90): its box 10..50 -> -30..10, clipped to 0..10.
    // Tile 1 (shift 60, 50): both boxes survive. Tile 2 (shift -40, 150): its box is cut off entirely.
    expect(m.cls).toEqual([0, 1, 2, 4]);
    expect(Array.from(m.boxes)).toEqual([0, 100, 10, 130, 65, 55, 80, 65, 100, 110, 130, 140, 70, 160, 100, 180]);
    // Pixels outside every placed tile are 114.
    expect(Array.from(m.image.data.subarray(((10 * 200) + 150) * 3, ((10 * 200) + 150) * 3 + 3))).toEqual([114, 114, 114]);
    expectBoxesMatchPixels(m, { tol: 0, fill: 1 });
  });

  it('keeps boxes on their pixels over many random centres', () => {
    const set = fixtureSet();
    const rng = new Rng(11);
    for (let seed = 0; seed < 40; seed++) {
      const tiles = [0, 1, 2, 3].map((i) => {
        const f = set[(seed + i) % set.length]!;
        return drawFixture(f.width, f.height, f.rects);
      });
      const m = mosaic4(tiles, 256, rng);
      expectBoxesMatchPixels(m, { tol: 0, fill: 1 });
    }
  });
});
