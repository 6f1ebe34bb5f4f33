import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  createRawImage,
  decodeRawImage,
  fillRect,
  loadTrainImage,
  resizeArea,
  resizeImage,
  resizedSize,
} from '../../../../src/main/images/raw-image';
import { tmpDir } from '../../../helpers/tmp';

describe('raw images', () => {
  it('creates, fills and clips rectangles', () => {
    const img = createRawImage(4, 3, [1, 2, 3]);
    expect(Array.from(img.data.subarray(0, 6))).toEqual([1, 2, 3, 1, 2, 3]);
    fillRect(img, 2, 1, 10, 10, [9, 9, 9]);
    const px = (x: number, y: number): number[] => Array.from(img.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3));
    expect(px(1, 1)).toEqual([1, 2, 3]);
    expect(px(2, 1)).toEqual([9, 9, 9]);
    expect(px(3, 2)).toEqual([9, 9, 9]);
    expect(px(3, 0)).toEqual([1, 2, 3]);
  });

  it('sizes like load_image: long side imgsz, other side ceil, capped', () => {
    expect(resizedSize(640, 427, 320)).toEqual({ width: 320, height: 214, ratio: 0.5 }); // ceil(213.5)
    expect(resizedSize(100, 50, 320)).toEqual({ width: 320, height: 160, ratio: 3.2 });
    expect(resizedSize(320, 320, 320)).toEqual({ width: 320, height: 320, ratio: 1 });
    expect(resizedSize(1000, 333, 640)).toEqual({ width: 640, height: 214, ratio: 0.64 }); // ceil(213.12)
  });

  it('area resize averages whole blocks exactly and weights partial pixels', () => {
    // 4x2 -> 2x1: each output pixel is the mean of a 2x2 block.
    const src = Uint8Array.from([0, 0, 0, 10, 10, 10, 100, 100, 100, 200, 200, 200, 20, 20, 20, 30, 30, 30, 0, 0, 0, 1, 1, 1]);
    expect(Array.from(resizeArea(src, 4, 2, 2, 1))).toEqual([15, 15, 15, 75, 75, 75]);
    // 3 -> 2 on one row: [a, (a/2 + b... )]: weights 2/3, 1/3 | 1/3, 2/3 of each cell of 1.5 px.
    const row = Uint8Array.from([30, 30, 30, 60, 60, 60, 90, 90, 90]);
    expect(Array.from(resizeArea(row, 3, 1, 2, 1))).toEqual([40, 40, 40, 80, 80, 80]);
  });

  it('uses linear to enlarge even when area is asked', () => {
    const img = createRawImage(2, 2, 50);
    const up = resizeImage(img, 4, 4, 'area');
    expect(up.width).toBe(4);
    expect(Array.from(new Set(up.data))).toEqual([50]);
  });

  it('loads a file EXIF-rotated and resized, reporting the original size', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'rot.jpg');
    // Stored 80x40 with orientation 6 (rotate 90 clockwise to view): displays as 40x80.
    await sharp({ create: { width: 80, height: 40, channels: 3, background: { r: 200, g: 10, b: 10 } } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(file);
    const decoded = await decodeRawImage(file);
    expect([decoded.width, decoded.height]).toEqual([40, 80]);
    const loaded = await loadTrainImage(file, 32);
    expect(loaded.original).toEqual({ width: 40, height: 80 });
    expect([loaded.image.width, loaded.image.height]).toEqual([16, 32]);
    const val = await loadTrainImage(file, 32, { augment: false });
    expect([val.image.width, val.image.height]).toEqual([16, 32]);
    const same = await loadTrainImage(file, 80);
    expect(same.image).toEqual(decoded);
  });
});
