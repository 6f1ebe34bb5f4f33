import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PERSPECTIVE,
  invert3,
  matMul,
  randomPerspective,
  randomPerspectiveMatrix,
  transformBoxes,
  warp,
  type Mat3,
} from '../../../../src/main/images/augment/affine';
import { boxCandidates } from '../../../../src/main/images/augment/boxes';
import { mosaic4 } from '../../../../src/main/images/augment/mosaic';
import { createRawImage } from '../../../../src/main/images/raw-image';
import { Rng } from '../../../../src/main/util/rng';
import { drawFixture, expectBoxesMatchPixels, fixtureSet } from '../../../helpers/augment-fixtures';

function gradient(w: number, h: number): ReturnType<typeof createRawImage> {
  const img = createRawImage(w, h, 0);
  for (let i = 0; i < w * h; i++) {
    img.data[i * 3] = (i * 7) % 256;
    img.data[i * 3 + 1] = (i * 13) % 256;
    img.data[i * 3 + 2] = (i * 29) % 256;
  }
  return img;
}

describe('warp', () => {
  it('is an exact shift for integer translations, grey 114 where nothing maps', () => {
    const img = gradient(20, 10);
    const M: Mat3 = [1, 0, 3, 0, 1, -2, 0, 0, 1];
    for (const perspective of [false, true]) {
      const out = warp(img, M, 20, 10, perspective);
      for (let y = 0; y < 10; y++) {
        for (let x = 0; x < 20; x++) {
          const sx = x - 3;
          const sy = y + 2;
          const inside = sx >= 0 && sx < 20 && sy >= 0 && sy < 10;
          for (let c = 0; c < 3; c++) {
            const want = inside ? img.data[(sy * 20 + sx) * 3 + c]! : 114;
            expect(out.data[(y * 20 + x) * 3 + c]).toBe(want);
          }
        }
      }
    }
  });

  it('interpolates halfway at a half-pixel shift', () => {
    const img = createRawImage(4, 1, 0);
    img.data.set([0, 0, 0, 100, 100, 100, 200, 200, 200, 50, 50, 50]);
    const out = warp(img, [1, 0, -0.5, 0, 1, 0, 0, 0, 1], 3, 1, false);
    // Row 0 is the last row: its lower neighbours read the border (weight 0 for fy = 0).
    expect(Array.from(out.data)).toEqual([50, 50, 50, 150, 150, 150, 125, 125, 125]);
  });

  it('inverts 3x3 matrices', () => {
    const M: Mat3 = [1.2, 0.1, 5, -0.2, 0.9, 3, 0.001, 0.0005, 1];
    const I = matMul(M, invert3(M));
    [1, 0, 0, 0, 1, 0, 0, 0, 1].forEach((v, i) => expect(I[i]).toBeCloseTo(v, 10));
  });
});

describe('random perspective', () => {
  it('builds M = T S R P C in Ultralytics draw order', () => {
    const rng = new Rng(5);
    const copy = new Rng(5);
    const { M, scale } = randomPerspectiveMatrix(200, 100, 300, 150, { degrees: 0, translate: 0.1, scale: 0.5, shear: 0, perspective: 0 }, rng);
    copy.next(); // perspective x
    copy.next(); // perspective y
    copy.next(); // angle
    const s = copy.uniform(0.5, 1.5);
    copy.next(); // shear x
    copy.next(); // shear y
    const tx = copy.uniform(0.4, 0.6) * 300;
    const ty = copy.uniform(0.4, 0.6) * 150;
    expect(scale).toBe(s);
    // T @ R(s) @ C: x' = s * (x - 100) + tx
    const want = [s, 0, tx - 100 * s, 0, s, ty - 50 * s, 0, 0, 1];
    want.forEach((v, i) => expect(M[i]).toBeCloseTo(v, 9));
  });

  it('is the identity (no warp) when nothing is random and the border is 0', () => {
    const f = drawFixture(64, 64, [{ k: 1, x1: 8, y1: 8, x2: 40, y2: 30 }]);
    const out = randomPerspective(f, new Rng(1), { degrees: 0, translate: 0, scale: 0, shear: 0, perspective: 0 }, 0);
    expect(out.image).toBe(f.image);
    expect(Array.from(out.boxes)).toEqual([8, 8, 40, 30]);
  });

  it('crops a mosaic canvas to s x s with border -s/2', () => {
    const canvas = gradient(64, 64);
    const out = randomPerspective({ image: canvas, cls: [], boxes: new Float32Array(0) }, new Rng(1), { degrees: 0, translate: 0, scale: 0, shear: 0, perspective: 0 }, -16);
    expect([out.image.width, out.image.height]).toEqual([32, 32]);
    // translate 0: the centre of the canvas lands at the centre of the output -> a centre crop.
    for (let y = 0; y < 32; y++) {
      const row = Array.from(out.image.data.subarray(y * 32 * 3, (y + 1) * 32 * 3));
      expect(row).toEqual(Array.from(canvas.data.subarray(((y + 16) * 64 + 16) * 3, ((y + 16) * 64 + 48) * 3)));
    }
  });

  it('maps boxes through their corners', () => {
    const boxes = Float32Array.from([10, 20, 30, 60]);
    const rot90: Mat3 = [0, -1, 100, 1, 0, 0, 0, 0, 1]; // (x, y) -> (100 - y, x)
    expect(Array.from(transformBoxes(boxes, rot90, false))).toEqual([40, 10, 80, 30]);
  });

  it('keeps boxes on their pixels (defaults: translate 0.1, scale 0.5) over many seeds', () => {
    for (const f of fixtureSet()) {
      const img = drawFixture(f.width, f.height, f.rects);
      for (let seed = 0; seed < 25; seed++) {
        const out = randomPerspective(img, new Rng(seed), DEFAULT_PERSPECTIVE, 0);
        expect([out.image.width, out.image.height]).toEqual([f.width, f.height]);
        const area = (k: number): number => {
          const r = f.rects.find((q) => q.k === k)!;
          return 0.1 * (r.x2 - r.x1) * (r.y2 - r.y1) * out.scale * out.scale + 2 * (r.x2 - r.x1 + r.y2 - r.y1);
        };
        expectBoxesMatchPixels(out, { maxUnboxedArea: area });
      }
    }
  });

  it('keeps boxes around rotated, sheared and perspective-warped rectangles', () => {
    const params = { degrees: 20, translate: 0.1, scale: 0.3, shear: 5, perspective: 0.0005 };
    for (const f of fixtureSet()) {
      const img = drawFixture(f.width, f.height, f.rects);
      for (let seed = 0; seed < 12; seed++) {
        const out = randomPerspective(img, new Rng(100 + seed), params, 0);
        expectBoxesMatchPixels(out, { rotated: true, tol: 3, maxUnboxedArea: () => Infinity });
      }
    }
  });

  it('after a mosaic, outputs s x s with boxes on their pixels', () => {
    const set = fixtureSet();
    for (let seed = 0; seed < 30; seed++) {
      const rng = new Rng(seed);
      const tiles = [0, 1, 2, 3].map((i) => {
        const f = set[(seed + i) % set.length]!;
        return drawFixture(f.width, f.height, f.rects);
      });
      const m = mosaic4(tiles, 200, rng);
      const out = randomPerspective(m, rng, DEFAULT_PERSPECTIVE, m.border);
      expect([out.image.width, out.image.height]).toEqual([200, 200]);
      expectBoxesMatchPixels(out, { maxUnboxedArea: () => 0.1 * 400 * 300 * 1.5 ** 2 });
    }
  });
});

describe('box candidates', () => {
  it('applies the width/height, area and aspect thresholds', () => {
    const before = [0, 0, 100, 100];
    const cases: [number[], boolean][] = [
      [[10, 10, 90, 90], true],
      [[0, 0, 2, 50], false], // w not > 2
      [[0, 0, 30, 30], false], // 9% of the area
      [[0, 0, 32, 32], true], // 10.24%
    ];
    for (const [after, want] of cases) expect(boxCandidates(before, after)).toEqual([want]);
    // Aspect ratio 100 or more is dropped even with the area kept.
    expect(boxCandidates([0, 0, 300, 3], [0, 0, 300, 2.9])).toEqual([false]); // 103 : 1
    expect(boxCandidates([0, 0, 250, 3], [0, 0, 250, 2.6])).toEqual([true]); // 96 : 1
    expect(boxCandidates([0, 0, 10, 10, 0, 0, 10, 10], [0, 0, 10, 10, 0, 0, 1, 1])).toEqual([true, false]);
    expect(boxCandidates([0, 0, 2.01, 60], [0, 0, 2.01, 60])).toEqual([true]);
    expect(boxCandidates(before, [0, 0, 40, 40], { areaThr: 0.2 })).toEqual([false]);
  });
});
