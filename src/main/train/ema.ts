/**
 * @file ModelEMA as Ultralytics keeps it: an exponential moving average of every floating-point
 * state entry (weights and BatchNorm running stats), with a decay that ramps up over the first
 * updates: d(u) = 0.9999 * (1 - exp(-u / 2000)). Validation and checkpoints use these weights.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface EmaSource {
  name: string;
  variable: tf.Variable;
}

export class ModelEma {
  /** Number of updates so far (saved with checkpoints so resume continues the ramp). */
  updates: number;
  private readonly shadow = new Map<string, tf.Variable>();

  constructor(
    entries: readonly EmaSource[],
    readonly decay = 0.9999,
    readonly tau = 2000,
    updates = 0,
  ) {
    this.updates = updates;
    for (const e of entries) this.shadow.set(e.name, tf.tidy(() => tf.variable(tf.clone(e.variable), false)));
  }

  /** The decay applied at update number u. */
  decayAt(u: number): number {
    return this.decay * (1 - Math.exp(-u / this.tau));
  }

  /** v <- d * v + (1 - d) * model_v for every entry. */
  update(entries: readonly EmaSource[]): void {
    this.updates++;
    const d = this.decayAt(this.updates);
    tf.tidy(() => {
      for (const e of entries) {
        const v = this.shadow.get(e.name);
        if (v) v.assign(tf.add(tf.mul(v, d), tf.mul(e.variable, 1 - d)));
      }
    });
  }

  /** The averaged value of one entry (owned by the EMA: do not dispose). */
  get(name: string): tf.Variable | undefined {
    return this.shadow.get(name);
  }

  names(): string[] {
    return [...this.shadow.keys()];
  }

  /** Copies the averaged values into `targets` (e.g. a model used for validation). */
  copyTo(targets: readonly EmaSource[]): void {
    for (const t of targets) {
      const v = this.shadow.get(t.name);
      if (v) t.variable.assign(v);
    }
  }

  /** Replaces the averaged values (resume). */
  load(values: ReadonlyMap<string, Float32Array>, updates: number): void {
    this.updates = updates;
    for (const [name, v] of this.shadow) {
      const data = values.get(name);
      if (data) tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
    }
  }

  dispose(): void {
    for (const v of this.shadow.values()) v.dispose();
    this.shadow.clear();
  }
}
