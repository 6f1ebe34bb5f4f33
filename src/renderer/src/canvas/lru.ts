/**
 * @file A small least-recently-used map (decoded tiles, prefetched images). Map keeps insertion
 * order, so re-inserting on every read makes the first key the least recently used one.
 */
export class Lru<K, V> {
  readonly #map = new Map<K, V>();

  /** `onEvict` runs for every value pushed out (or deleted), e.g. to close an ImageBitmap. */
  constructor(
    readonly capacity: number,
    private readonly onEvict?: (value: V, key: K) => void,
  ) {}

  get size(): number {
    return this.#map.size;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Reads a value and marks it most recently used. */
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, v);
    return v;
  }

  /** Reads without touching the order. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    const old = this.#map.get(key);
    this.#map.delete(key);
    this.#map.set(key, value);
    if (old !== undefined && old !== value) this.onEvict?.(old, key);
    while (this.#map.size > this.capacity) {
      const first = this.#map.keys().next();
      if (first.done) break;
      const k = first.value;
      const v = this.#map.get(k) as V;
      this.#map.delete(k);
      this.onEvict?.(v, k);
    }
  }

  delete(key: K): boolean {
    const v = this.#map.get(key);
    if (v === undefined) return false;
    this.#map.delete(key);
    this.onEvict?.(v, key);
    return true;
  }

  keys(): IterableIterator<K> {
    return this.#map.keys();
  }

  clear(): void {
    for (const [k, v] of [...this.#map]) {
      this.#map.delete(k);
      this.onEvict?.(v, k);
    }
  }
}
