import { describe, expect, it } from 'vitest';
import { letterboxLabels } from '../../../../src/main/images/augment/letterbox';
import { drawFixture, expectBoxesMatchPixels } from '../../../helpers/augment-fixtures';

describe('letterbox with labels', () => {
  it('pads a wide image top and bottom without resizing', () => {
    const img = drawFixture(320, 240, [{ k: 0, x1: 20, y1: 20, x2: 120, y2: 100 }]);
    const out = letterboxLabels(img, { newShape: 320 });
    expect([out.image.width, out.image.height]).toEqual([320, 320]);
    expect(out.ratioPad).toEqual({ ratio: [1, 1], pad: [0, 40] });
    expect(Array.from(out.boxes)).toEqual([20, 60, 120, 140]);
    expectBoxesMatchPixels(out, { tol: 0, fill: 1 });
  });

  it('shrinks with the exact ratio and integer pads (scaleup false, validation)', () => {
    const img = drawFixture(100, 50, [{ k: 2, x1: 25, y1: 10, x2: 75, y2: 40 }]);
    const out = letterboxLabels(img, { newShape: 64, scaleup: false });
    expect(out.ratioPad).toEqual({ ratio: [0.64, 0.64], pad: [0, 16] }); // 64 x 32 inside 64 x 64
    const want = [25 * 0.64, 10 * 0.64 + 16, 75 * 0.64, 40 * 0.64 + 16];
    Array.from(out.boxes).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    expectBoxesMatchPixels(out, { tol: 1.5 });
    // scaleup false never enlarges.
    const small = letterboxLabels(img, { newShape: 320, scaleup: false });
    expect(small.ratioPad).toEqual({ ratio: [1, 1], pad: [110, 135] });
    expect(Array.from(small.boxes)).toEqual([135, 145, 185, 175]);
  });

  it('enlarges when allowed (training pre-transform)', () => {
    const img = drawFixture(100, 50, [{ k: 2, x1: 25, y1: 10, x2: 75, y2: 40 }]);
    const out = letterboxLabels(img, { newShape: 320 });
    expect(out.ratioPad).toEqual({ ratio: [3.2, 3.2], pad: [0, 80] });
    const want = [80, 112, 240, 208];
    Array.from(out.boxes).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    expectBoxesMatchPixels(out, { tol: 2.5 });
  });
});
