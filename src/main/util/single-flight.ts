/**
 * @file One in-flight run per key: callers asking for the same key while it is being made share
 * the same promise instead of starting the same work again (two cells asking for one thumbnail,
 * a canvas asking for twenty tiles of a pyramid that is still being cut).
 */

export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** Runs `make` unless a run for `key` is already on its way, in which case that one is returned. */
  run(key: string, make: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const promise = make().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  /** Runs in flight now (for tests and diagnostics). */
  get size(): number {
    return this.inFlight.size;
  }
}
