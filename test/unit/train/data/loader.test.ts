import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import { letterboxLabels } from '../../../../src/main/images/augment/letterbox';
import { loadLabeledImage } from '../../../../src/main/images/augment/pipeline';
import { BatchLoader, type Batch, type BatchLoaderOptions } from '../../../../src/main/train/data/loader';
import { expectBoxesMatchPixels, expectSameArray, fixtureSet } from '../../../helpers/augment-fixtures';
import { writeFixtureFiles, type FixtureFiles } from '../../../helpers/augment-files';

let files: FixtureFiles;
beforeAll(async () => {
  files = await writeFixtureFiles(2); // 10 images
});
afterAll(() => files.remove());

async function collect(loader: BatchLoader, epoch: number, opts?: Parameters<BatchLoader['epoch']>[1]): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch(epoch, opts)) out.push(b);
  return out;
}

async function withLoader<T>(opts: Omit<BatchLoaderOptions, 'samples'> & { samples?: BatchLoaderOptions['samples'] }, fn: (l: BatchLoader) => Promise<T>): Promise<T> {
  const loader = new BatchLoader({ samples: files.samples, ...opts });
  try {
    return await fn(loader);
  } finally {
    await loader.close();
  }
}

function expectSameBatches(a: Batch[], b: Batch[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    const y = b[i]!;
    expect([x.index, x.count, x.height, x.width]).toEqual([y.index, y.count, y.height, y.width]);
    expectSameArray(x.indices, y.indices, `batch ${i} indices`);
    expectSameArray(x.images, y.images, `batch ${i} images`);
    expectSameArray(x.boxes, y.boxes, `batch ${i} boxes`);
    expectSameArray(x.cls, y.cls, `batch ${i} cls`);
    expectSameArray(x.batchIdx, y.batchIdx, `batch ${i} batchIdx`);
  });
}

/** A batch image back to 8-bit pixels and its boxes to xyxy pixels, for the pixel checker. */
function unbatch(b: Batch, k: number): Parameters<typeof expectBoxesMatchPixels>[0] {
  const plane = b.height * b.width * 3;
  const data = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) data[i] = Math.round(b.images[k * plane + i]! * 255);
  const cls: number[] = [];
  const boxes: number[] = [];
  for (let j = 0; j < b.cls.length; j++) {
    if (b.batchIdx[j] !== k) continue;
    const [cx, cy, w, h] = Array.from(b.boxes.subarray(j * 4, j * 4 + 4));
    cls.push(b.cls[j]!);
    boxes.push((cx! - w! / 2) * b.width, (cy! - h! / 2) * b.height, (cx! + w! / 2) * b.width, (cy! + h! / 2) * b.height);
  }
  return { image: { data, width: b.width, height: b.height }, cls, boxes: Float32Array.from(boxes) };
}

describe('BatchLoader', () => {
  it('builds batches in Ultralytics collate format, every image once per epoch', async () => {
    await withLoader({ imgsz: 64, batchSize: 4, workers: 1 }, async (loader) => {
      expect(loader.batchesPerEpoch).toBe(3);
      const batches = await collect(loader, 0);
      expect(batches.map((b) => b.count)).toEqual([4, 4, 2]);
      expect(batches.map((b) => b.index)).toEqual([0, 1, 2]);
      const seen = batches.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
      expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const b of batches) {
        expect([b.height, b.width]).toEqual([64, 64]);
        expect(b.images.length).toBe(b.count * 64 * 64 * 3);
        expect(b.images.every((v) => v >= 0 && v <= 1)).toBe(true);
        const n = b.cls.length;
        expect(n).toBeGreaterThan(0);
        expect(b.boxes.length).toBe(n * 4);
        expect(b.batchIdx.length).toBe(n);
        for (let j = 0; j < n; j++) {
          expect(b.batchIdx[j]).toBeGreaterThanOrEqual(0);
          expect(b.batchIdx[j]).toBeLessThan(b.count);
          if (j > 0) expect(b.batchIdx[j]).toBeGreaterThanOrEqual(b.batchIdx[j - 1]!);
          const [cx, cy, w, h] = Array.from(b.boxes.subarray(j * 4, j * 4 + 4));
          for (const v of [cx!, cy!]) expect(v >= 0 && v <= 1).toBe(true);
          expect(w! > 0 && w! <= 1 && h! > 0 && h! <= 1).toBe(true);
        }
        expect(b.originalSizes.length).toBe(b.count * 2);
      }
      // Each epoch is shuffled differently.
      const again = await collect(loader, 1);
      expect(again.flatMap((b) => Array.from(b.indices))).not.toEqual(batches.flatMap((b) => Array.from(b.indices)));
    });
  });

  it('keeps boxes on their pixels end to end (decode, mosaic, affine, HSV, flips, collate)', async () => {
    const imgsz = 160;
    const limit = new Map<number, number>();
    for (const f of fixtureSet()) {
      const r = imgsz / Math.max(f.width, f.height);
      for (const q of f.rects) {
        const w = (q.x2 - q.x1) * r * 1.5;
        const h = (q.y2 - q.y1) * r * 1.5;
        limit.set(q.k, 0.1 * w * h + 2 * (w + h));
      }
    }
    await withLoader({ imgsz, batchSize: 5, workers: 1, seed: 3 }, async (loader) => {
      let boxes = 0;
      for (const epoch of [0, 1]) {
        for (const b of await collect(loader, epoch)) {
          for (let k = 0; k < b.count; k++) boxes += expectBoxesMatchPixels(unbatch(b, k), { maxUnboxedArea: (c) => limit.get(c)! }).boxes;
        }
      }
      expect(boxes).toBeGreaterThan(40);
    });
  });

  it('is deterministic for a seed whatever the workers, cache and prefetch', async () => {
    const base = { imgsz: 96, batchSize: 3, seed: 7 };
    const a = await withLoader({ ...base, workers: 1 }, async (l) => [await collect(l, 0), await collect(l, 1)]);
    const b = await withLoader({ ...base, workers: 2, cache: true, prefetch: 5 }, async (l) => {
      expect(l.sharedMemory.kind).toBe('ram');
      return [await collect(l, 0), await collect(l, 1)];
    });
    const c = await withLoader({ ...base, workers: 0, ringBytes: 0 }, async (l) => {
      expect(l.sharedMemory.kind).toBe('none');
      return [await collect(l, 0), await collect(l, 1)];
    });
    expectSameBatches(a[0]!, b[0]!);
    expectSameBatches(a[1]!, b[1]!);
    expectSameBatches(a[0]!, c[0]!);
    expectSameBatches(a[1]!, c[1]!);
    const other = await withLoader({ ...base, seed: 8, workers: 0 }, (l) => collect(l, 0));
    expect(Buffer.compare(Buffer.from(other[0]!.images.buffer), Buffer.from(a[0]![0]!.images.buffer))).not.toBe(0);
  });

  it('turns mosaic off for the last close_mosaic epochs', async () => {
    const hyp = { close_mosaic: 1, translate: 0, scale: 0, hsv_h: 0, hsv_s: 0, hsv_v: 0, fliplr: 0 };
    await withLoader({ imgsz: 64, batchSize: 10, workers: 1, epochs: 3, hyp }, async (loader) => {
      expect([0, 1, 2].map((e) => loader.mosaicFor(e))).toEqual([true, true, false]);
      const [open] = await collect(loader, 1);
      const [closed] = await collect(loader, 2);
      // Closed: with no random geometry the image is exactly the letterboxed file.
      let mosaicDiffers = 0;
      for (let k = 0; k < closed!.count; k++) {
        const s = files.samples[closed!.indices[k]!]!;
        const loaded = await loadLabeledImage(s.imagePath, s, 64, { labelSize: s });
        const want = letterboxLabels(loaded, { newShape: 64 });
        const got = unbatch(closed!, k);
        expectSameArray(got.image.data, want.image.data, `closed epoch image ${k}`);
        Array.from(want.boxes).forEach((v, i) => expect(got.boxes[i]).toBeCloseTo(v, 3));
        const kOpen = Array.from(open!.indices).indexOf(closed!.indices[k]!);
        if (Buffer.compare(unbatch(open!, kOpen).image.data, want.image.data) !== 0) mosaicDiffers++;
      }
      expect(mosaicDiffers).toBe(closed!.count);
      // Told explicitly, an epoch can have mosaic either way.
      const [forced] = await collect(loader, 2, { mosaic: true });
      expect(Buffer.compare(Buffer.from(forced!.images.buffer), Buffer.from(closed!.images.buffer))).not.toBe(0);
    });
  });

  it('validates with square letterboxes or rect batches, with ratioPad back to the file', async () => {
    for (const rect of [false, true]) {
      await withLoader({ imgsz: 128, batchSize: 4, workers: 1, mode: 'val', rect }, async (loader) => {
        const batches = await collect(loader, 0);
        const order = batches.flatMap((b) => Array.from(b.indices));
        if (!rect) expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        for (const b of batches) {
          if (!rect) expect([b.height, b.width]).toEqual([128, 128]);
          expect(b.height % 32).toBe(0);
          expect(b.width % 32).toBe(0);
          for (let k = 0; k < b.count; k++) {
            const s = files.samples[b.indices[k]!]!;
            const [rw, rh, left, top] = Array.from(b.ratioPad.subarray(k * 4, k * 4 + 4));
            expect([b.originalSizes[k * 2], b.originalSizes[k * 2 + 1]]).toEqual([s.width, s.height]);
            const got = unbatch(b, k);
            expect(got.cls).toEqual(s.cls);
            s.cls.forEach((_, j) => {
              const want = [s.boxes[j * 4]! * rw! + left!, s.boxes[j * 4 + 1]! * rh! + top!, s.boxes[j * 4 + 2]! * rw! + left!, s.boxes[j * 4 + 3]! * rh! + top!];
              want.forEach((v, c) => expect(got.boxes[j * 4 + c]).toBeCloseTo(v, 2));
            });
            expectBoxesMatchPixels(got, { tol: 2 });
          }
        }
        if (rect) expect(new Set(batches.map((b) => `${b.height}x${b.width}`)).size).toBeGreaterThan(1);
      });
    }
  });

  it('resumes mid-epoch with the same batches', async () => {
    await withLoader({ imgsz: 64, batchSize: 3, workers: 1, seed: 1 }, async (loader) => {
      const full = await collect(loader, 4);
      const tail = await collect(loader, 4, { startBatch: 2 });
      expect(tail.map((b) => b.index)).toEqual([2, 3]);
      expectSameBatches(full.slice(2), tail);
      // Abandoning an epoch half way does not disturb the next one.
      const it = loader.epoch(5);
      await it.next();
      const next = await collect(loader, 4);
      expectSameBatches(full, next);
    });
  });

  it('reports the file that failed, from the worker', async () => {
    const broken = path.join(files.dir, 'broken.png');
    fs.writeFileSync(broken, 'not an image');
    const missing = path.join(files.dir, 'missing.png');
    for (const [file, code] of [[broken, 'FILE_UNREADABLE'], [missing, 'FILE_NOT_FOUND']] as const) {
      const samples = [...files.samples.slice(0, 3), { ...files.samples[3]!, imagePath: file }];
      await withLoader({ samples, imgsz: 64, batchSize: 4, workers: 1, mode: 'val' }, async (loader) => {
        const err = await collect(loader, 0).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe(code);
        expect((err as AppError).message).toContain(file);
        expect((err as AppError).details).toEqual({ file });
      });
    }
  });

  it('leaves no worker running after close()', async () => {
    const loader = new BatchLoader({ samples: files.samples, imgsz: 64, batchSize: 4, workers: 2 });
    expect(loader.activeWorkers).toBe(2);
    const it = loader.epoch(0);
    await it.next();
    await loader.close();
    expect(loader.activeWorkers).toBe(0);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(() => loader.epoch(1)).toThrow(/closed/);
  });
});
