import { describe, expect, it } from 'vitest';
import { flipHorizontal, flipVertical, randomFlip } from '../../../../src/main/images/augment/flip';
import { Rng } from '../../../../src/main/util/rng';
import { drawFixture, expectBoxesMatchPixels, expectSameArray, fixtureSet } from '../../../helpers/augment-fixtures';

describe('flips', () => {
  const f = fixtureSet()[0]!;
  const img = drawFixture(f.width, f.height, f.rects);

  it('mirror boxes with their pixels', () => {
    const h = flipHorizontal(img);
    expect(Array.from(h.boxes.subarray(0, 4))).toEqual([320 - 120, 20, 320 - 20, 100]);
    expectBoxesMatchPixels(h, { tol: 0, fill: 1 });
    const v = flipVertical(img);
    expect(Array.from(v.boxes.subarray(0, 4))).toEqual([20, 240 - 100, 120, 240 - 20]);
    expectBoxesMatchPixels(v, { tol: 0, fill: 1 });
  });

  it('twice is the identity', () => {
    for (const flip of [flipHorizontal, flipVertical]) {
      const twice = flip(flip(img));
      expectSameArray(twice.image.data, img.image.data, 'pixels');
      expect(twice.boxes).toEqual(img.boxes);
      expect(twice.cls).toEqual(img.cls);
    }
  });

  it('flips with probability p, drawing one number either way', () => {
    let flipped = 0;
    const rng = new Rng(4);
    for (let i = 0; i < 400; i++) if (randomFlip(img, rng, 'horizontal', 0.5) !== img) flipped++;
    expect(flipped).toBeGreaterThan(150);
    expect(flipped).toBeLessThan(250);
    const a = new Rng(1);
    expect(randomFlip(img, a, 'vertical', 0)).toBe(img);
    const b = new Rng(1);
    b.next();
    expect(a.next()).toBe(b.next());
  });
});
