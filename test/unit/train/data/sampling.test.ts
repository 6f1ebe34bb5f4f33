import { describe, expect, it } from 'vitest';
import { bufferLength, epochOrder, mosaicForEpoch, partnerTickets, rectBatches, sampleRng } from '../../../../src/main/train/data/sampling';
import { ringSlots } from '../../../../src/main/train/data/shared-images';
import { Rng } from '../../../../src/main/util/rng';

describe('sampling', () => {
  it('shuffles each epoch from the seed, reproducibly', () => {
    const a = epochOrder(50, 0, 0, true);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(epochOrder(50, 0, 0, true)).toEqual(a);
    expect(epochOrder(50, 0, 1, true)).not.toEqual(a);
    expect(epochOrder(50, 1, 0, true)).not.toEqual(a);
    expect(Array.from(epochOrder(5, 0, 3, false))).toEqual([0, 1, 2, 3, 4]);
    expect(sampleRng(0, 12).next()).toBe(sampleRng(0, 12).next());
    expect(sampleRng(0, 12).next()).not.toBe(sampleRng(0, 13).next());
  });

  it('closes mosaic for the last close_mosaic epochs, as Ultralytics', () => {
    const on = (epochs: number, close: number) => Array.from({ length: epochs }, (_, e) => mosaicForEpoch(e, epochs, close, 1));
    expect(on(5, 2)).toEqual([true, true, true, false, false]);
    expect(on(3, 0)).toEqual([true, true, true]);
    expect(on(3, 3)).toEqual([false, false, false]); // epochs == close_mosaic: closed from the start
    expect(on(3, 10)).toEqual([true, true, true]); // epoch epochs - close_mosaic never comes
    expect(mosaicForEpoch(0, 10, 2, 0)).toBe(false);
  });

  it('picks mosaic partners from the last buffer-length tickets', () => {
    const rng = new Rng(2);
    expect(bufferLength(4, 16)).toBe(4);
    expect(bufferLength(5000, 16)).toBe(128);
    expect(bufferLength(5000, 256)).toBe(1000);
    expect(partnerTickets(0, 128, 3, rng)).toEqual([0, 0, 0]);
    for (let i = 0; i < 100; i++) {
      for (const t of partnerTickets(500, 128, 3, rng)) {
        expect(t).toBeGreaterThan(500 - 128);
        expect(t).toBeLessThanOrEqual(500);
      }
    }
    expect(ringSlots(128, 2, 16)).toBe(128 + 4 * 16);
  });

  it('computes rect batch shapes like set_rectangle', () => {
    // 640x480 (ar 0.75), 480x640 (1.333), 640x640 (1), 1000x500 (0.5); batch 2, imgsz 640.
    const { order, shapes } = rectBatches(
      [{ width: 640, height: 480 }, { width: 480, height: 640 }, { width: 640, height: 640 }, { width: 1000, height: 500 }],
      2,
      640,
    );
    expect(Array.from(order)).toEqual([3, 0, 2, 1]);
    // batch 0: ar 0.5, 0.75 -> max 0.75 < 1 -> [0.75, 1] -> ceil(15 + 0.5) * 32 = 512, ceil(20.5) * 32 = 672
    // batch 1: ar 1, 1.333 -> neither all < 1 nor all > 1 -> [1, 1] -> 672 x 672
    expect(Array.from(shapes)).toEqual([512, 672, 672, 672]);
    const tall = rectBatches([{ width: 480, height: 640 }], 1, 640);
    expect(Array.from(tall.shapes)).toEqual([672, 512]);
  });
});
