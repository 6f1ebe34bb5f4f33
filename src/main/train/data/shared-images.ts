/**
 * @file Decoded, resized images shared by all loader workers through SharedArrayBuffers, so an
 * image decoded by one worker is read by the others without a copy or a message. Two layouts:
 *
 * - `ram` (the `cache` option, Ultralytics' cache='ram'): one slot per image, sized exactly; every
 *   image is decoded once per run.
 * - `ring` (always on in training): R slots of imgsz x imgsz x 3 bytes; ticket t (see sampling.ts)
 *   lives in slot t mod R. It plays the part of Ultralytics' mosaic buffer: the images a mosaic
 *   borrows were loaded a moment ago by some worker. R is large enough that a slot is reused only
 *   after every batch that could read its previous image has been consumed (see `ringSlots`).
 *
 * Each slot has a state word: 0 empty, +key ready, -key being loaded (key = ticket + 1, or 1 in
 * `ram`). A worker claims a slot with compare-exchange before decoding into it; others wait for
 * it (Atomics.waitAsync) instead of decoding the same file twice. A slot being loaded is never
 * taken over; a reader that finds a slot busy with another key decodes privately instead.
 */
import type { LoadedImage } from '../../images/raw-image';

/** What a worker needs to attach to the shared images (structured-clone safe, zero copy). */
export interface SharedImagesInit {
  kind: 'ram' | 'ring';
  /** Pixel memory, one or more buffers of at most CHUNK_BYTES. */
  chunks: SharedArrayBuffer[];
  /** Int32 per slot: [state, width, height, origWidth, origHeight, chunk, offset, capacity]. */
  meta: SharedArrayBuffer;
  slots: number;
}

const FIELDS = 8;
const CHUNK_BYTES = 1 << 30;

/** Allocates slots of the given byte capacities, packed into chunks of at most 1 GiB. */
export function allocateSharedImages(kind: 'ram' | 'ring', capacities: readonly number[]): SharedImagesInit {
  const meta = new SharedArrayBuffer(capacities.length * FIELDS * 4);
  const m = new Int32Array(meta);
  const chunkSizes: number[] = [];
  let used = CHUNK_BYTES + 1;
  capacities.forEach((cap, slot) => {
    if (used + cap > CHUNK_BYTES) {
      chunkSizes.push(0);
      used = 0;
    }
    m[slot * FIELDS + 5] = chunkSizes.length - 1;
    m[slot * FIELDS + 6] = used;
    m[slot * FIELDS + 7] = cap;
    used += cap;
    chunkSizes[chunkSizes.length - 1] = used;
  });
  return { kind, chunks: chunkSizes.map((b) => new SharedArrayBuffer(Math.max(b, 1))), meta, slots: capacities.length };
}

/**
 * Ring slots for training: the mosaic window (`windowLength` tickets back) plus every ticket that
 * can be in flight (`prefetch` unconsumed batches) plus a batch of margin. A batch that writes
 * ticket t + R is dispatched only when at most `prefetch` batches are unconsumed, so every batch
 * that could still read ticket t (tickets t .. t + window - 1) has been consumed.
 */
export function ringSlots(windowLength: number, prefetch: number, batchSize: number): number {
  return windowLength + (prefetch + 2) * batchSize;
}

type WaitAsync = (ta: Int32Array, index: number, value: number, timeout?: number) => { async: boolean; value: Promise<string> | string };

/** A worker's view of the shared images. */
export class SharedImages {
  private readonly meta: Int32Array;
  private readonly chunks: Uint8Array[];
  private readonly waitAsync: WaitAsync | undefined;

  constructor(readonly init: SharedImagesInit) {
    this.meta = new Int32Array(init.meta);
    this.chunks = init.chunks.map((c) => new Uint8Array(c));
    this.waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
  }

  /** The slot and state key of ring ticket t, or of image `index` in a ram cache. */
  address(ticketOrIndex: number): { slot: number; key: number } {
    return this.init.kind === 'ram'
      ? { slot: ticketOrIndex, key: 1 }
      : { slot: ticketOrIndex % this.init.slots, key: ticketOrIndex + 1 };
  }

  /**
   * The image at `slot` under `key`: read if ready, awaited if another worker is loading it,
   * otherwise claimed, loaded with `load` and published. When the slot is busy with another key,
   * or the image does not fit it, the image is loaded and returned without publishing.
   */
  async acquire(slot: number, key: number, load: () => Promise<LoadedImage>): Promise<LoadedImage> {
    const base = slot * FIELDS;
    for (;;) {
      const state = Atomics.load(this.meta, base);
      if (state === key) return this.view(slot);
      if (state === -key) {
        await this.waitWhile(base, state);
        continue;
      }
      if (state < 0) return load(); // another ticket is being written here: stay out of its way
      if (Atomics.compareExchange(this.meta, base, state, -key) !== state) continue;
      let loaded: LoadedImage;
      try {
        loaded = await load();
      } catch (err) {
        Atomics.store(this.meta, base, 0);
        Atomics.notify(this.meta, base);
        throw err;
      }
      const { image, original } = loaded;
      const bytes = image.width * image.height * 3;
      if (bytes > this.meta[base + 7]!) {
        Atomics.store(this.meta, base, 0);
        Atomics.notify(this.meta, base);
        return loaded;
      }
      const chunk = this.chunks[this.meta[base + 5]!]!;
      chunk.set(image.data.subarray(0, bytes), this.meta[base + 6]!);
      this.meta[base + 1] = image.width;
      this.meta[base + 2] = image.height;
      this.meta[base + 3] = original.width;
      this.meta[base + 4] = original.height;
      Atomics.store(this.meta, base, key);
      Atomics.notify(this.meta, base);
      return loaded;
    }
  }

  private view(slot: number): LoadedImage {
    const base = slot * FIELDS;
    const width = this.meta[base + 1]!;
    const height = this.meta[base + 2]!;
    const chunk = this.chunks[this.meta[base + 5]!]!;
    const data = new Uint8Array(chunk.buffer, this.meta[base + 6]!, width * height * 3);
    return { image: { data, width, height }, original: { width: this.meta[base + 3]!, height: this.meta[base + 4]! } };
  }

  private async waitWhile(index: number, value: number): Promise<void> {
    if (this.waitAsync) {
      const r = this.waitAsync(this.meta, index, value, 1000);
      if (r.async) await r.value;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
