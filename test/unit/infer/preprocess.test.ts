import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/main/images/letterbox';
import { prepareDecoded, scaleBoxes, toChw } from '../../../src/main/infer/preprocess';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height };
}

describe('toChw', () => {
  it('splits HWC RGB into planes scaled to 0..1', () => {
    const t = toChw({ data: Uint8Array.of(255, 0, 51, 0, 255, 102), width: 2, height: 1 });
    expect([...t]).toEqual([1, 0, 0, 1, Math.fround(0.2), Math.fround(0.4)]);
  });
});

describe('prepareDecoded', () => {
  it('letterboxes to the model size and records the mapping', () => {
    const inp = prepareDecoded(solid(381, 500, [10, 20, 30]), 640);
    expect([inp.inputWidth, inp.inputHeight]).toEqual([640, 640]);
    expect([inp.resizedWidth, inp.resizedHeight]).toEqual([488, 640]);
    expect([inp.padLeft, inp.padTop]).toEqual([76, 0]);
    expect(inp.tensor.length).toBe(3 * 640 * 640);
    expect(inp.tensor[0]).toBeCloseTo(114 / 255, 6); // border
    expect(inp.tensor[320]).toBeCloseTo(10 / 255, 6); // red plane, inside
    expect(inp.tensor[640 * 640 + 320]).toBeCloseTo(20 / 255, 6); // green plane
  });

  it("rounds the short side in 'predict' mode and takes the ceiling in 'val' mode (load_image)", () => {
    const img = solid(302, 1000, [0, 0, 0]); // 302 * 0.64 = 193.28
    expect(prepareDecoded(img, 640, 'predict').resizedWidth).toBe(193);
    const val = prepareDecoded(img, 640, 'val');
    expect(val.resizedWidth).toBe(194);
    expect(val.resizedHeight).toBe(640);
    expect(val.padLeft).toBe(223);
  });
});

describe('scaleBoxes', () => {
  it('undoes the letterbox like Ultralytics scale_boxes and clips to the image', () => {
    // 381x500 at 640: gain 1.28, pad x = round((640 - 487.68) / 2 - 0.1) = 76
    const b = scaleBoxes(Float32Array.of(76, 0, 76 + 128, 128, 0, -10, 700, 650), 640, 640, 500, 381);
    expect(b[0]).toBeCloseTo(0, 5);
    expect(b[2]).toBeCloseTo(100, 5);
    expect(b[3]).toBeCloseTo(100, 5);
    expect([...b.subarray(4)]).toEqual([0, 0, 381, 500]);
  });
});
