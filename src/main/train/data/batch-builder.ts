/**
 * @file Builds one batch: loads the images (shared memory first, then a private cache, then the
 * file), runs the training or validation transform on each, and collates like Ultralytics'
 * YOLODataset.collate_fn: images stacked NHWC 0..1, and per box its image index in the batch, its
 * class, and its box as normalised xywh. Runs inside a loader worker (or inline with workers: 0).
 */
import { AppError } from '../../../shared/errors';
import type { Rng } from '../../util/rng';
import { loadTrainImage, type LoadedImage } from '../../images/raw-image';
import { trainTransform, valTransform, type LoadedSample, type SampleSource, type TransformResult } from '../../images/augment/pipeline';
import { affineBoxes } from '../../images/augment/boxes';
import type { BatchDone, BatchTask, WorkerInit } from './protocol';
import { epochOrder, partnerTickets, sampleRng } from './sampling';
import { SharedImages } from './shared-images';

/** k / 255 as float32 for every byte, what Ultralytics' `img.float() / 255` gives. */
const UNIT = Float32Array.from({ length: 256 }, (_, k) => k / 255);

export class BatchBuilder {
  private readonly shared: SharedImages | null;
  private readonly orders = new Map<number, Int32Array>();
  private readonly privateCache = new Map<number, Promise<LoadedImage>>();
  private readonly n: number;

  constructor(private readonly init: WorkerInit) {
    this.shared = init.shared ? new SharedImages(init.shared) : null;
    this.n = init.samples.length;
  }

  /** The epoch's image order (rect order for rect validation). */
  orderFor(epoch: number): Int32Array {
    if (this.init.rect) return this.init.rect.order;
    let order = this.orders.get(epoch);
    if (!order) {
      order = epochOrder(this.n, this.init.seed, epoch, this.init.mode === 'train');
      this.orders.set(epoch, order);
      for (const e of this.orders.keys()) if (e < epoch - 1 || e > epoch + 1) this.orders.delete(e);
    }
    return order;
  }

  async build(task: BatchTask): Promise<BatchDone> {
    const { batchSize: B, imgsz, mode } = this.init;
    const order = this.orderFor(task.epoch);
    const start = task.batch * B;
    const end = Math.min(this.n, start + B);
    if (start >= end) throw new AppError('INVALID_INPUT', `batch ${task.batch} is past the end of the epoch (${this.n} images, batch ${B})`);
    const count = end - start;
    const [height, width] = this.init.rect
      ? [this.init.rect.shapes[task.batch * 2]!, this.init.rect.shapes[task.batch * 2 + 1]!]
      : [imgsz, imgsz];
    const ticket = (p: number): number => task.epoch * this.n + p;

    // Start every decode of the batch at once: they run on libuv's pool while we transform.
    const primaries: Promise<LoadedImage>[] = [];
    for (let p = start; p < end; p++) {
      const pr = this.image(order[p]!, mode === 'train' ? ticket(p) : undefined);
      pr.catch(() => undefined); // awaited below; keeps an early failure from being "unhandled"
      primaries.push(pr);
    }

    const results: TransformResult[] = [];
    const originals: { width: number; height: number }[] = [];
    for (let k = 0; k < count; k++) {
      const p = start + k;
      const index = order[p]!;
      if (mode === 'val') {
        const loaded = this.toSample(index, await primaries[k]!);
        originals.push(loaded.original);
        results.push(valTransform(loaded, { imgsz, shape: [height, width] }));
        continue;
      }
      const t = ticket(p);
      const ticketOf = new Map<number, number>();
      const source: SampleSource = {
        size: this.n,
        load: async (i) => this.toSample(i, await (i === index ? primaries[k]! : this.image(i, ticketOf.get(i)))),
      };
      const pickIndexes = (rng: Rng, c: number): number[] =>
        partnerTickets(t, this.init.bufferLength, c, rng).map((tt) => {
          const i = this.orderFor(Math.floor(tt / this.n))[tt % this.n]!;
          ticketOf.set(i, tt);
          return i;
        });
      originals.push((await primaries[k]!).original);
      results.push(await trainTransform(index, source, sampleRng(this.init.seed, t), { imgsz, mosaic: task.mosaic, hyp: this.init.hyp, pickIndexes }));
    }
    return this.collate(task, results, originals, order.subarray(start, end), height, width);
  }

  /** Labels of image `index` in the pixels of its loaded (resized) image. */
  private toSample(index: number, loaded: LoadedImage): LoadedSample {
    const s = this.init.samples[index]!;
    const boxes = affineBoxes(s.boxes, loaded.image.width / s.width, loaded.image.height / s.height, 0, 0);
    return { image: loaded.image, original: loaded.original, cls: s.cls.slice(), boxes };
  }

  /** A loaded image: shared memory (by ticket in the ring, by index in the RAM cache), else private. */
  private image(index: number, ticket: number | undefined): Promise<LoadedImage> {
    const shared = this.shared;
    if (shared && (shared.init.kind === 'ram' || ticket !== undefined)) {
      const { slot, key } = shared.address(shared.init.kind === 'ram' ? index : ticket!);
      return shared.acquire(slot, key, () => this.cachedDecode(index));
    }
    return this.cachedDecode(index);
  }

  /** Decodes through a small per-worker LRU (mosaic partners the ring no longer or not yet holds). */
  private cachedDecode(index: number): Promise<LoadedImage> {
    const hit = this.privateCache.get(index);
    if (hit) {
      this.privateCache.delete(index);
      this.privateCache.set(index, hit);
      return hit;
    }
    const pr = this.decode(index);
    if (this.init.privateCacheEntries > 0) {
      this.privateCache.set(index, pr);
      pr.catch(() => this.privateCache.delete(index));
      while (this.privateCache.size > this.init.privateCacheEntries) {
        this.privateCache.delete(this.privateCache.keys().next().value!);
      }
    }
    return pr;
  }

  private async decode(index: number): Promise<LoadedImage> {
    const s = this.init.samples[index]!;
    try {
      return await loadTrainImage(s.imagePath, this.init.imgsz, {
        augment: this.init.mode === 'train',
        ...(this.init.interpolation ? { interpolation: this.init.interpolation } : {}),
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const missing = /missing|no such file|ENOENT/i.test(message);
      throw new AppError(missing ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `cannot load training image ${s.imagePath}: ${message}`, {
        file: s.imagePath,
      });
    }
  }

  /** Ultralytics' Format + collate_fn. */
  private collate(
    task: BatchTask,
    results: readonly TransformResult[],
    originals: readonly { width: number; height: number }[],
    indices: Int32Array,
    height: number,
    width: number,
  ): BatchDone {
    const count = results.length;
    const plane = height * width * 3;
    const images = new Float32Array(count * plane); // [B, H, W, 3]
    const nBoxes = results.reduce((a, r) => a + r.cls.length, 0);
    const batchIdx = new Int32Array(nBoxes); // [N]
    const cls = new Int32Array(nBoxes); // [N]
    const boxes = new Float32Array(nBoxes * 4); // [N, 4] cx, cy, w, h / (W, H)
    const originalSizes = new Int32Array(count * 2); // [B, 2] w, h
    const ratioPad = new Float32Array(count * 4); // [B, 4] rw, rh, padLeft, padTop (validation)
    let j = 0;
    results.forEach((r, k) => {
      if (r.image.width !== width || r.image.height !== height) {
        throw new AppError('INTERNAL', `transform gave ${r.image.width}x${r.image.height}, batch is ${width}x${height}`);
      }
      const src = r.image.data;
      const o = k * plane;
      for (let i = 0; i < plane; i++) images[o + i] = UNIT[src[i]!]!;
      for (let b = 0; b < r.cls.length; b++, j++) {
        const x1 = r.boxes[b * 4]!;
        const y1 = r.boxes[b * 4 + 1]!;
        const x2 = r.boxes[b * 4 + 2]!;
        const y2 = r.boxes[b * 4 + 3]!;
        batchIdx[j] = k;
        cls[j] = r.cls[b]!;
        boxes[j * 4] = (x1 + x2) / 2 / width;
        boxes[j * 4 + 1] = (y1 + y2) / 2 / height;
        boxes[j * 4 + 2] = (x2 - x1) / width;
        boxes[j * 4 + 3] = (y2 - y1) / height;
      }
      originalSizes[k * 2] = originals[k]!.width;
      originalSizes[k * 2 + 1] = originals[k]!.height;
      if (r.ratioPad) ratioPad.set([r.ratioPad.ratio[0], r.ratioPad.ratio[1], r.ratioPad.pad[0], r.ratioPad.pad[1]], k * 4);
    });
    return {
      type: 'batch',
      run: task.run,
      epoch: task.epoch,
      batch: task.batch,
      count,
      height,
      width,
      images,
      batchIdx,
      cls,
      boxes,
      indices: Int32Array.from(indices),
      originalSizes,
      ratioPad,
    };
  }
}
