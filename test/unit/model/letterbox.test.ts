import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, letterbox, letterboxFile, resizeLinearCv, toUnitFloat, unletterboxBox, type RgbImage } from '../../../src/main/images/letterbox';
import { tmpDir } from '../../helpers/tmp';

function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / (width - 1);
      data[i + 1] = (y * 255) / (height - 1);
      data[i + 2] = (x * y) % 256;
    }
  }
  return { data, width, height };
}

describe('letterbox', () => {
  it('sizes with Python rounding and splits the padding like Ultralytics', () => {
    const lb = letterbox(gradient(481, 640), { newShape: 320 });
    expect(lb.ratio).toBe(0.5);
    expect(lb.resized).toEqual({ width: 240, height: 320 }); // round(240.5) == 240
    expect(lb.pad).toEqual({ top: 0, bottom: 0, left: 40, right: 40 });
    expect([lb.width, lb.height]).toEqual([320, 320]);
    const small = letterbox(gradient(315, 100), { newShape: 320, scaleup: false });
    expect(small.ratio).toBe(1);
    expect(small.pad).toEqual({ top: 110, bottom: 110, left: 2, right: 3 }); // dw 2.5 -> round(2.4), round(2.6)
    const rect = letterbox(gradient(640, 427), { newShape: 640, auto: true, stride: 32 });
    expect([rect.width, rect.height]).toEqual([640, 448]);
  });

  it('fills the border with 114 and keeps the resized image inside', () => {
    const img = gradient(100, 50);
    const lb = letterbox(img, { newShape: [64, 64] });
    expect(lb.resized).toEqual({ width: 64, height: 32 });
    expect(lb.pad).toEqual({ top: 16, bottom: 16, left: 0, right: 0 });
    const resized = resizeLinearCv(img.data, 100, 50, 3, 64, 32);
    expect([...lb.data.subarray(0, 64 * 16 * 3)].every((v) => v === 114)).toBe(true);
    expect([...lb.data.subarray(64 * 16 * 3, 64 * 48 * 3)]).toEqual([...resized]);
    expect([...lb.data.subarray(64 * 48 * 3)].every((v) => v === 114)).toBe(true);
    const f = toUnitFloat(lb.data);
    expect(f[0]).toBeCloseTo(114 / 255, 7);
  });

  it("resizes with OpenCV's fixed-point bilinear arithmetic", () => {
    // [0, 255] -> 4 px: taps at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped) -> 0, 63.75, 191.25, 255
    expect([...resizeLinearCv(Uint8Array.of(0, 255), 2, 1, 1, 4, 1)]).toEqual([0, 64, 191, 255]);
    // an exact 2x downscale is OpenCV's INTER_AREA: rounded 2x2 means
    expect([...resizeLinearCv(Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 8), 4, 2, 1, 2, 1)]).toEqual([3, 5]);
    const same = Uint8Array.of(1, 2, 3, 4, 5, 6);
    expect([...resizeLinearCv(same, 2, 1, 3, 2, 1)]).toEqual([...same]);
  });

  it('maps boxes back to the source image', () => {
    const lb = letterbox(gradient(481, 640), { newShape: 320 });
    expect(unletterboxBox(lb, [40, 0, 280, 320])).toEqual([0, 0, 480, 640]);
    expect(unletterboxBox(lb, [0, 10, 400, 20])).toEqual([0, 20, 481, 40]);
  });

  it('decodes like cv2.imread: alpha dropped, grey expanded, EXIF orientation applied', async () => {
    const dir = tmpDir();
    const rgba = path.join(dir, 'rgba.png');
    await sharp(Buffer.from([10, 20, 30, 0, 40, 50, 60, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png().toFile(rgba);
    expect([...(await decodeImage(rgba)).data]).toEqual([10, 20, 30, 40, 50, 60]);
    const grey = path.join(dir, 'grey.png');
    await sharp(Buffer.from([7, 9]), { raw: { width: 2, height: 1, channels: 1 } }).png().toFile(grey);
    expect([...(await decodeImage(grey)).data]).toEqual([7, 7, 7, 9, 9, 9]);
    const rotated = path.join(dir, 'rot.jpg');
    await sharp(Buffer.alloc(4 * 2 * 3, 128), { raw: { width: 4, height: 2, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toFile(rotated);
    const d = await decodeImage(rotated);
    expect([d.width, d.height]).toEqual([2, 4]);
    const lb = await letterboxFile(rotated, { newShape: 32 });
    expect([lb.width, lb.height]).toEqual([32, 32]);
  });
});
