import { describe, expect, it } from 'vitest';
import { trainTransform, valTransform, type LoadedSample, type SampleSource } from '../../../../src/main/images/augment/pipeline';
import { DEFAULT_HYP } from '../../../../src/main/images/augment/types';
import { resizeImage, resizedSize } from '../../../../src/main/images/raw-image';
import { Rng } from '../../../../src/main/util/rng';
import { drawFixture, expectBoxesMatchPixels, expectSameArray, fixtureSet } from '../../../helpers/augment-fixtures';

/** The fixtures as load_image would give them at imgsz: long side imgsz, boxes scaled along. */
function memorySource(imgsz: number, augment = true): SampleSource & { samples: LoadedSample[] } {
  const samples = fixtureSet().map((f) => {
    const img = drawFixture(f.width, f.height, f.rects);
    const size = resizedSize(f.width, f.height, imgsz);
    const image = size.ratio === 1 ? img.image : resizeImage(img.image, size.width, size.height, augment || size.ratio > 1 ? 'linear' : 'area');
    const sx = image.width / f.width;
    const sy = image.height / f.height;
    const boxes = img.boxes.map((v, i) => v * (i % 2 === 0 ? sx : sy));
    return { image, cls: img.cls, boxes, original: { width: f.width, height: f.height } };
  });
  return { size: samples.length, samples, load: async (i) => samples[i]! };
}

/** Largest area a rectangle may still show once box_candidates dropped it (scale up to 1.5). */
function unboxedLimit(imgsz: number): (k: number) => number {
  const byColour = new Map<number, number>();
  for (const f of fixtureSet()) {
    const r = imgsz / Math.max(f.width, f.height);
    for (const q of f.rects) {
      const w = (q.x2 - q.x1) * r * 1.5;
      const h = (q.y2 - q.y1) * r * 1.5;
      byColour.set(q.k, 0.1 * w * h + 2 * (w + h));
    }
  }
  return (k) => byColour.get(k)!;
}

describe('training transform', () => {
  for (const imgsz of [160, 256]) {
    it(`keeps boxes on their pixels through mosaic, affine, HSV and flips (imgsz ${imgsz})`, async () => {
      const source = memorySource(imgsz);
      let boxes = 0;
      for (let seed = 0; seed < 40; seed++) {
        const out = await trainTransform(seed % source.size, source, new Rng(seed), { imgsz, mosaic: true });
        expect([out.image.width, out.image.height]).toEqual([imgsz, imgsz]);
        expect(out.ratioPad).toBeNull();
        boxes += expectBoxesMatchPixels({ image: out.image, cls: out.cls, boxes: out.boxes }, { maxUnboxedArea: unboxedLimit(imgsz) }).boxes;
      }
      expect(boxes).toBeGreaterThan(40 * 3); // mosaics keep most of their rectangles
    });
  }

  it('keeps boxes on their pixels without mosaic (letterbox, affine, HSV, flips)', async () => {
    const imgsz = 192;
    const source = memorySource(imgsz);
    for (let seed = 0; seed < 40; seed++) {
      const out = await trainTransform(seed % source.size, source, new Rng(seed), { imgsz, mosaic: false });
      expect([out.image.width, out.image.height]).toEqual([imgsz, imgsz]);
      expectBoxesMatchPixels({ image: out.image, cls: out.cls, boxes: out.boxes }, { maxUnboxedArea: unboxedLimit(imgsz) });
    }
  });

  it('with mixup and rotation the boxes still enclose their rectangles', async () => {
    const imgsz = 160;
    const source = memorySource(imgsz);
    const hyp = { ...DEFAULT_HYP, degrees: 15, shear: 3, mixup: 1 };
    for (let seed = 0; seed < 10; seed++) {
      const out = await trainTransform(seed % source.size, source, new Rng(seed), { imgsz, mosaic: true, hyp });
      // Blending two images halves saturation where one side is grey; rectangles overlap other
      // rectangles' boxes, so only check that every box is inside the image and has a size.
      for (let i = 0; i < out.cls.length; i++) {
        const b = out.boxes.subarray(i * 4, i * 4 + 4);
        expect(b[0]).toBeGreaterThanOrEqual(0);
        expect(b[2]).toBeLessThanOrEqual(imgsz);
        expect(b[2]! - b[0]!).toBeGreaterThan(2);
      }
    }
  });

  it('is a pure function of the seed', async () => {
    const source = memorySource(128);
    const a = await trainTransform(2, source, new Rng(77), { imgsz: 128, mosaic: true });
    const b = await trainTransform(2, source, new Rng(77), { imgsz: 128, mosaic: true });
    const c = await trainTransform(2, source, new Rng(78), { imgsz: 128, mosaic: true });
    expectSameArray(a.image.data, b.image.data, 'pixels');
    expectSameArray(a.boxes, b.boxes, 'boxes');
    expect(Buffer.compare(a.image.data, c.image.data)).not.toBe(0);
    // The source images were not touched.
    expectSameArray(source.samples[2]!.image.data, memorySource(128).samples[2]!.image.data, 'source pixels');
  });

  it('asks the chooser for mosaic partners', async () => {
    const source = memorySource(128);
    const asked: number[] = [];
    await trainTransform(0, source, new Rng(1), {
      imgsz: 128,
      mosaic: true,
      pickIndexes: (_rng, k) => {
        asked.push(k);
        return [1, 1, 1];
      },
    });
    expect(asked).toEqual([3]);
  });
});

describe('validation transform', () => {
  it('letterboxes to a square with scaleup off and maps original boxes by ratioPad', async () => {
    const imgsz = 128;
    const source = memorySource(imgsz, false);
    fixtureSet().forEach((f, i) => {
      const out = valTransform(source.samples[i]!, { imgsz });
      expect([out.image.width, out.image.height]).toEqual([imgsz, imgsz]);
      const { ratio, pad } = out.ratioPad!;
      f.rects.forEach((r, j) => {
        const want = [r.x1 * ratio[0] + pad[0], r.y1 * ratio[1] + pad[1], r.x2 * ratio[0] + pad[0], r.y2 * ratio[1] + pad[1]];
        want.forEach((v, c) => expect(out.boxes[j * 4 + c]).toBeCloseTo(v, 3));
      });
      expectBoxesMatchPixels({ image: out.image, cls: out.cls, boxes: out.boxes }, { tol: 1.5 });
    });
  });

  it('fits a rect shape', () => {
    const source = memorySource(128, false);
    const out = valTransform(source.samples[3]!, { imgsz: 128, shape: [64, 128] }); // 400 x 160 -> 128 x 52
    expect([out.image.width, out.image.height]).toEqual([128, 64]);
    expect(out.ratioPad!.pad).toEqual([0, 6]);
  });
});

describe('the pixel checker itself', () => {
  it('fails on a box 4 px off its rectangle and on a rectangle without a box', () => {
    const f = fixtureSet()[0]!;
    const img = drawFixture(f.width, f.height, f.rects);
    const shifted = { ...img, boxes: img.boxes.map((v, i) => (i === 0 ? v + 4 : v)) };
    expect(() => expectBoxesMatchPixels(shifted)).toThrow(/matches its rectangle/);
    const missing = { ...img, cls: img.cls.slice(1), boxes: img.boxes.slice(4) };
    expect(() => expectBoxesMatchPixels(missing)).toThrow(/without a box/);
    const wrongClass = { ...img, cls: [img.cls[1]!, img.cls[0]!] };
    expect(() => expectBoxesMatchPixels(wrongClass)).toThrow();
  });
});
