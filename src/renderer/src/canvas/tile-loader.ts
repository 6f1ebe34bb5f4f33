/**
 * @file Loads DeepZoom tiles on demand for the canvas: a few at a time, the most wanted first
 * (the canvas asks for the visible ones, centre first, every frame), decoded off the main
 * thread, kept in an LRU so panning back is instant and memory stays bounded. Tiles that left
 * the view before their turn are never fetched.
 */
import { Lru } from './lru';

export class TileLoader {
  readonly #cache: Lru<string, HTMLImageElement>;
  readonly #inflight = new Map<string, HTMLImageElement>();
  #queue: string[] = [];

  /** `onLoad` runs when a tile is ready to draw (the canvas schedules a redraw). */
  constructor(
    private readonly onLoad: () => void,
    capacity = 256,
    private readonly concurrency = 6,
  ) {
    this.#cache = new Lru(capacity);
  }

  /** A decoded tile, or undefined (then `want` it). */
  get(url: string): HTMLImageElement | undefined {
    return this.#cache.get(url);
  }

  /** True when the tile is decoded (without marking it used). */
  has(url: string): boolean {
    return this.#cache.has(url);
  }

  /** Replaces the queue with these URLs (most wanted first); those cached or loading are skipped. */
  want(urls: readonly string[]): void {
    this.#queue = urls.filter((u) => !this.#cache.has(u) && !this.#inflight.has(u));
    this.#pump();
  }

  clear(): void {
    this.#queue = [];
    for (const img of this.#inflight.values()) img.src = '';
    this.#inflight.clear();
    this.#cache.clear();
  }

  #pump(): void {
    while (this.#inflight.size < this.concurrency && this.#queue.length > 0) {
      const url = this.#queue.shift()!;
      const img = new Image();
      img.decoding = 'async';
      this.#inflight.set(url, img);
      img.src = url;
      img
        .decode()
        .then(
          () => {
            if (this.#inflight.get(url) !== img) return;
            this.#cache.set(url, img);
            this.onLoad();
          },
          () => undefined, // a failed tile stays blank; the preview underneath still shows
        )
        .finally(() => {
          if (this.#inflight.get(url) === img) this.#inflight.delete(url);
          this.#pump();
        });
    }
  }
}
