import { describe, expect, it } from 'vitest';
import { applyHsvLuts, hsvLuts, hsvToRgbInto, randomHsv, rgbToHsv } from '../../../../src/main/images/augment/hsv';
import { createRawImage } from '../../../../src/main/images/raw-image';
import { Rng } from '../../../../src/main/util/rng';
import { classify, drawFixture, expectSameArray, fixtureSet, paletteColour, PALETTE_SIZE } from '../../../helpers/augment-fixtures';

describe('OpenCV 8-bit HSV', () => {
  it('converts known colours (H in 0..179)', () => {
    expect(rgbToHsv(255, 0, 0)).toEqual([0, 255, 255]);
    expect(rgbToHsv(0, 255, 0)).toEqual([60, 255, 255]);
    expect(rgbToHsv(0, 0, 255)).toEqual([120, 255, 255]);
    expect(rgbToHsv(255, 0, 255)).toEqual([150, 255, 255]);
    expect(rgbToHsv(114, 114, 114)).toEqual([0, 0, 114]);
    expect(rgbToHsv(255, 255, 255)).toEqual([0, 0, 255]);
    // cv2.cvtColor(np.uint8([[[50, 100, 200]]]), cv2.COLOR_BGR2HSV) -> [[[10, 191, 200]]]
    expect(rgbToHsv(200, 100, 50)).toEqual([10, 191, 200]);
    const out = new Uint8Array(3);
    hsvToRgbInto(120, 255, 255, out, 0);
    expect(Array.from(out)).toEqual([0, 0, 255]);
    hsvToRgbInto(10, 191, 200, out, 0);
    expect(Array.from(out)).toEqual([200, 100, 50]);
  });

  it('round-trips RGB through HSV within the 180-step hue quantisation', () => {
    const rng = new Rng(1);
    const n = 20000;
    const img = createRawImage(n, 1, 0);
    for (let i = 0; i < img.data.length; i++) img.data[i] = rng.int(256);
    const back = applyHsvLuts(img, hsvLuts(0, 0, 0));
    let worst = 0;
    let sum = 0;
    for (let i = 0; i < img.data.length; i++) {
      const d = Math.abs(back.data[i]! - img.data[i]!);
      worst = Math.max(worst, d);
      sum += d;
    }
    expect(worst).toBeLessThanOrEqual(5);
    expect(sum / img.data.length).toBeLessThan(1);
  });

  it('builds Ultralytics tables: additive hue mod 180, clipped multiplicative S and V', () => {
    const { hue, sat, val } = hsvLuts(-0.01, 0.5, -0.5);
    expect(hue[0]).toBe(178); // (0 - 1.8) mod 180 = 178.2 -> 178
    expect(hue[100]).toBe(98);
    expect(sat[100]).toBe(150);
    expect(sat[200]).toBe(255);
    expect(val[101]).toBe(50); // trunc(50.5)
    expect(sat[0]).toBe(0);
  });
});

describe('random HSV', () => {
  it('is the identity with zero gains and draws nothing', () => {
    const img = drawFixture(32, 32, [{ k: 3, x1: 4, y1: 4, x2: 20, y2: 20 }]).image;
    const rng = new Rng(9);
    const out = randomHsv(img, rng, { hsv_h: 0, hsv_s: 0, hsv_v: 0 });
    expect(out).toBe(img);
    expect(rng.next()).toBe(new Rng(9).next());
  });

  it('keeps grey grey and each palette colour recognisable at the default gains', () => {
    for (const f of fixtureSet()) {
      const fx = drawFixture(f.width, f.height, f.rects);
      const before = classify(fx.image);
      for (let seed = 0; seed < 10; seed++) {
        const out = randomHsv(fx.image, new Rng(seed), { hsv_h: 0.015, hsv_s: 0.7, hsv_v: 0.4 });
        expect(out).not.toBe(fx.image);
        // Background stays neutral grey.
        const bg = Array.from(out.data.subarray(0, 3));
        expect(bg[0]).toBe(bg[1]);
        expect(bg[1]).toBe(bg[2]);
        expectSameArray(classify(out), before, 'colour classes');
      }
    }
    for (let k = 0; k < PALETTE_SIZE; k++) {
      const [r, g, b] = paletteColour(k);
      expect(rgbToHsv(r, g, b)[0]).toBe(k * 15);
    }
  });
});
