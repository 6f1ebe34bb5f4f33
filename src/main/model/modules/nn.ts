/**
 * @file The torch.nn pieces YOLO needs, in tfjs and NHWC: Conv2d, BatchNorm2d, SiLU, MaxPool2d,
 * Upsample, and the state store that names every tensor by its Ultralytics state-dict key, so a
 * `.pt` maps onto the model 1:1 and an optimizer can group parameters the way Ultralytics does
 * (conv/linear weights with decay, norm weights without, biases).
 *
 * Layouts: torch conv weights are OIHW; tfjs wants HWIO ([kh, kw, cin, cout]) for conv2d and
 * [kh, kw, cin, multiplier] for depthwiseConv2d. Variables hold the tfjs layout; the store
 * converts at the edges (load/save), so every checkpoint we write keeps torch's shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../util/rng';

/** Optimizer group, as in Ultralytics' build_optimizer: g[0] decayed weights, g[1] norm weights, g[2] biases. */
export type ParamGroup = 'weight' | 'bn' | 'bias';

/** What a state entry is; buffers are not trained. */
export type StateRole = 'param' | 'running_mean' | 'running_var' | 'num_batches_tracked' | 'fixed';

/** How the tfjs tensor relates to the torch one. */
export type StateLayout = 'conv' | 'dwconv' | 'plain';

/** One state-dict entry: an Ultralytics key, its torch shape and the tfjs Variable behind it. */
export interface StateEntry {
  /** Ultralytics state-dict key, e.g. `model.0.conv.weight`. */
  name: string;
  /** Shape in torch layout (what `.pt` files and our checkpoints hold). */
  torchShape: number[];
  layout: StateLayout;
  /** Input channels of a depthwise conv (its groups); the multiplier is torchShape[0] / groups. */
  groups?: number;
  role: StateRole;
  /** Optimizer group for parameters; undefined for buffers. */
  group?: ParamGroup;
  /** Holds the value in tfjs layout. Parameters are trainable; buffers are not. */
  variable: tf.Variable;
  /** torch dtype of the entry (num_batches_tracked is int64). */
  dtype: 'float32' | 'int64';
}

/** Context of one forward pass. */
export interface ForwardCtx {
  /** Train mode: BatchNorm normalises with batch statistics and updates its running stats. */
  training: boolean;
}

/** How fresh weights are drawn (PyTorch's defaults, from a seeded RNG). */
export interface Initializer {
  /** kaiming_uniform_(a=sqrt(5)) for conv weights: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
  uniform(n: number, bound: number): Float32Array;
}

export function seededInitializer(rng: Rng): Initializer {
  return {
    uniform(n, bound) {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * bound;
      return out;
    },
  };
}

/** Owns every Variable of a model, keyed by state-dict name, in module order. */
export class StateStore {
  readonly entries = new Map<string, StateEntry>();
  /** Every BatchNorm2d by module name, so eps/momentum can follow a checkpoint. */
  readonly batchNorms = new Map<string, BatchNorm2d>();
  /** Derived tensors kept between forwards (e.g. BN folded into conv weights); freed with the store. */
  readonly caches = new Set<{ dispose(): void }>();

  /**
   * `init` draws fresh weights; swap it to re-seed a re-initialisation. A `shapesOnly` store records
   * names and shapes but allocates no tensors (model summaries without building the model).
   */
  constructor(
    public init: Initializer,
    readonly shapesOnly = false,
  ) {}

  /**
   * Values to create entries with instead of drawing them (torch layout, by name), so a model
   * built to hold a checkpoint's weights converts each tensor once. Entries whose shape differs
   * are drawn as usual (the caller reports the mismatch).
   */
  preset: Map<string, { shape: number[]; data: Float32Array }> | null = null;

  add(
    name: string,
    torchShape: number[],
    layout: StateLayout,
    role: StateRole,
    torchValues: Float32Array,
    group?: ParamGroup,
    dtype: 'float32' | 'int64' = 'float32',
    groups?: number,
  ): StateEntry {
    if (this.entries.has(name)) throw new Error(`duplicate state entry ${name}`);
    const spec = { torchShape, layout, ...(groups !== undefined ? { groups } : {}) };
    let variable: tf.Variable;
    if (this.shapesOnly) {
      variable = null as unknown as tf.Variable; // never read: shapes-only stores are not run
    } else {
      const pre = this.preset?.get(name);
      if (pre && pre.shape.join(',') === torchShape.join(',')) torchValues = pre.data;
      const t = tf.tidy(() => torchToTf(torchValues, spec));
      variable = tf.variable(t, role === 'param');
      t.dispose();
    }
    const entry: StateEntry = { name, ...spec, role, variable, dtype, ...(group ? { group } : {}) };
    this.entries.set(name, entry);
    return entry;
  }

  /** Replaces an entry's value (torch layout), keeping its Variable. Shapes must match. */
  assign(name: string, torchValues: Float32Array): void {
    const e = this.entries.get(name);
    if (!e) throw new Error(`no state entry ${name}`);
    if (this.shapesOnly) return;
    const t = tf.tidy(() => torchToTf(torchValues, e));
    e.variable.assign(t);
    t.dispose();
  }

  /** Removes entries (disposing their Variables). */
  remove(names: Iterable<string>): void {
    for (const n of [...names]) {
      const e = this.entries.get(n);
      if (e) {
        e.variable?.dispose();
        this.entries.delete(n);
      }
    }
    for (const bn of [...this.batchNorms.keys()]) if (!this.entries.has(`${bn}.weight`)) this.batchNorms.delete(bn);
  }

  dispose(): void {
    for (const c of this.caches) c.dispose();
    this.caches.clear();
    for (const e of this.entries.values()) e.variable?.dispose();
    this.entries.clear();
    this.batchNorms.clear();
  }
}

type LayoutSpec = Pick<StateEntry, 'torchShape' | 'layout' | 'groups'>;

/** torch-layout values -> tfjs tensor in the entry's layout. */
export function torchToTf(values: Float32Array, e: LayoutSpec): tf.Tensor {
  if (e.layout === 'plain') return tf.tensor(values, e.torchShape, 'float32');
  const [o, i, kh, kw] = e.torchShape as [number, number, number, number];
  if (e.layout === 'conv') return tf.transpose(tf.tensor4d(values, [o, i, kh, kw]), [2, 3, 1, 0]); // OIHW -> HWIO
  // depthwise: torch [cin*mult, 1, kh, kw] (output channel c*mult + m) -> tfjs [kh, kw, cin, mult]
  const cin = e.groups ?? o;
  return tf.transpose(tf.tensor4d(values, [cin, o / cin, kh, kw]), [2, 3, 0, 1]);
}

/** tfjs tensor in the entry's layout -> torch-layout values (a fresh array). */
export function tfToTorch(t: tf.Tensor, e: LayoutSpec): Float32Array {
  if (e.layout === 'plain') return Float32Array.from(t.dataSync() as Float32Array);
  // HWIO -> OIHW ; [kh, kw, cin, mult] -> [cin, mult, kh, kw] (= torch's [cin*mult, 1, kh, kw])
  const tt = tf.transpose(t, e.layout === 'conv' ? [3, 2, 0, 1] : [2, 3, 0, 1]);
  const out = tt.dataSync() as Float32Array;
  tt.dispose();
  return out;
}

/** torch.nn.Conv2d(c1, c2, k, s, p, groups=g, bias): groups 1, or depthwise (g == c1). */
export class Conv2d {
  readonly weight: StateEntry;
  readonly bias: StateEntry | null;
  readonly depthwise: boolean;

  constructor(
    store: StateStore,
    readonly name: string,
    readonly c1: number,
    readonly c2: number,
    readonly k: number,
    readonly s = 1,
    readonly p = 0,
    readonly g = 1,
    readonly d = 1,
    hasBias = false,
  ) {
    if (g !== 1 && g !== c1) {
      throw new Error(`${name}: grouped convolution with groups=${g} (c1=${c1}, c2=${c2}) is not supported; only groups 1 or depthwise`);
    }
    if (c2 % g !== 0) throw new Error(`${name}: out channels ${c2} not divisible by groups ${g}`);
    this.depthwise = g !== 1;
    const shape = [c2, c1 / g, k, k];
    const fanIn = (c1 / g) * k * k;
    const bound = 1 / Math.sqrt(fanIn);
    const layout: StateLayout = this.depthwise ? 'dwconv' : 'conv';
    const init = store.init.uniform(shape.reduce((a, b) => a * b, 1), bound);
    this.weight = store.add(`${name}.weight`, shape, layout, 'param', init, 'weight', 'float32', this.depthwise ? g : undefined);
    this.bias = hasBias ? store.add(`${name}.bias`, [c2], 'plain', 'param', store.init.uniform(c2, bound), 'bias') : null;
  }

  /** [B, H, W, c1] -> [B, H', W', c2] */
  forward(x: tf.Tensor4D, filter: tf.Tensor4D = this.weight.variable as tf.Tensor4D, bias: tf.Tensor | null = this.bias?.variable ?? null): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.depthwise
        ? tf.depthwiseConv2d(x, filter, this.s, this.p, 'NHWC', this.d)
        : tf.conv2d(x, filter, this.s, this.p, 'NHWC', this.d);
      return bias ? tf.add(y, bias) : y;
    });
  }

  /** Same conv with a bias fused in (inference): one kernel instead of two. */
  forwardFused(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
    const args = { x, filter, strides: this.s, pad: this.p, dataFormat: 'NHWC' as const, dilations: this.d, bias };
    return this.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
  }
}

/** torch.nn.BatchNorm2d(c, eps, momentum): train mode uses batch stats and updates running stats like PyTorch. */
export class BatchNorm2d {
  readonly weight: StateEntry;
  readonly bias: StateEntry;
  readonly runningMean: StateEntry;
  readonly runningVar: StateEntry;
  readonly numBatchesTracked: StateEntry;

  constructor(
    store: StateStore,
    readonly name: string,
    readonly c: number,
    public eps = 1e-3,
    public momentum = 0.03,
  ) {
    this.weight = store.add(`${name}.weight`, [c], 'plain', 'param', new Float32Array(c).fill(1), 'bn');
    this.bias = store.add(`${name}.bias`, [c], 'plain', 'param', new Float32Array(c), 'bias');
    this.runningMean = store.add(`${name}.running_mean`, [c], 'plain', 'running_mean', new Float32Array(c));
    this.runningVar = store.add(`${name}.running_var`, [c], 'plain', 'running_var', new Float32Array(c).fill(1));
    this.numBatchesTracked = store.add(`${name}.num_batches_tracked`, [], 'plain', 'num_batches_tracked', new Float32Array(1), undefined, 'int64');
    store.batchNorms.set(name, this);
  }

  /** Per-channel (scale, shift) with y = x * scale + shift, from running stats. [c], [c] */
  evalAffine(): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
    return tf.tidy(() => {
      const scale = tf.mul(this.weight.variable, tf.rsqrt(tf.add(this.runningVar.variable, this.eps))) as tf.Tensor1D;
      const shift = tf.sub(this.bias.variable, tf.mul(this.runningMean.variable, scale)) as tf.Tensor1D;
      return { scale, shift };
    });
  }

  /** [B, H, W, c] -> [B, H, W, c] */
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D {
    if (!ctx.training) {
      return tf.tidy(() => {
        const { scale, shift } = this.evalAffine();
        return tf.add(tf.mul(x, scale), shift);
      });
    }
    return tf.tidy(() => {
      const { mean, variance } = channelMoments(x); // [c], biased variance (normalisation uses it)
      const scale = tf.mul(this.weight.variable, tf.rsqrt(tf.add(variance, this.eps)));
      const shift = tf.sub(this.bias.variable, tf.mul(mean, scale));
      this.updateRunningStats(mean as tf.Tensor1D, variance as tf.Tensor1D, x.size / this.c);
      return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
    });
  }

  /** running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance (PyTorch). */
  private updateRunningStats(mean: tf.Tensor1D, variance: tf.Tensor1D, n: number): void {
    tf.tidy(() => {
      const m = this.momentum;
      // No gradient flows here: assign() is not recorded, and the loss never reads these.
      const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
      const rm = tf.add(tf.mul(this.runningMean.variable, 1 - m), tf.mul(mean, m));
      const rv = tf.add(tf.mul(this.runningVar.variable, 1 - m), tf.mul(unbiased, m));
      this.runningMean.variable.assign(rm);
      this.runningVar.variable.assign(rv);
      this.numBatchesTracked.variable.assign(tf.add(this.numBatchesTracked.variable, 1));
    });
  }
}

/** Whether tf.grads / tf.variableGrads is recording the ops now running. */
function gradientTapeActive(): boolean {
  return ((tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth ?? 0) > 0;
}

/**
 * Tensors derived from some Variables, recomputed only when one of them was assigned since
 * (a Variable gets a new dataId on every assign). Lets eval mode keep BN-folded conv weights, which
 * also lets the wasm backend keep its packed XNNPACK operators between forwards.
 */
export class DerivedCache<T extends tf.Tensor[]> {
  private key: object[] = [];
  private value: T | null = null;

  constructor(store: StateStore) {
    store.caches.add(this);
  }

  get(sources: tf.Variable[], compute: () => T): T {
    // Under a gradient tape a cached value would hide its trainable sources from the gradient.
    if (gradientTapeActive() && sources.some((v) => v.trainable)) return compute();
    const key = sources.map((v) => v.dataId);
    if (this.value && key.length === this.key.length && key.every((k, i) => k === this.key[i])) return this.value;
    this.dispose();
    const value = tf.tidy(compute);
    value.forEach((t) => tf.keep(t));
    this.value = value;
    this.key = key;
    return value;
  }

  dispose(): void {
    if (this.value) tf.dispose(this.value);
    this.value = null;
    this.key = [];
  }
}

/**
 * Per-channel mean and biased variance of [B, H, W, C], reduced in two stages (over W, then over
 * B*H) so float32 sums stay accurate on backends that add sequentially (wasm): one 51200-element
 * sum drifts ~1e-3 in the head's outputs, two short ones match PyTorch's pairwise sums to ~1e-4.
 */
export function channelMoments(x: tf.Tensor4D): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const r = tf.reshape(x, [b * h, w, c]);
    const mean = tf.mean(tf.mean(r, 1), 0) as tf.Tensor1D;
    // square(sub) rather than squaredDifference: tfjs' squaredDifference gradient ignores broadcasting
    const variance = tf.mean(tf.mean(tf.square(tf.sub(r, mean)), 1), 0) as tf.Tensor1D;
    return { mean, variance };
  });
}

/** SiLU(x) = x * sigmoid(x). */
export function silu(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/** torch.nn.MaxPool2d(k, stride=s, padding=p): padding never wins the max, as in torch. [B,H,W,C] -> [B,H',W',C] */
export function maxPool2d(x: tf.Tensor4D, k: number, s: number, p: number): tf.Tensor4D {
  return tf.maxPool(x, k, s, p);
}

/**
 * torch.nn.Upsample(scale_factor=s, mode='nearest'): src = floor(dst / s). [B,H,W,C] -> [B,sH,sW,C]
 * The gradient is our own (each input cell gets the sum of its s x s copies): tfjs'
 * ResizeNearestNeighborGrad gets integer-scale nearest upsampling wrong.
 */
export function upsampleNearest(x: tf.Tensor4D, scale: number): tf.Tensor4D {
  const up = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor4D;
    const [b, h, w, c] = t.shape;
    return {
      value: tf.image.resizeNearestNeighbor(t, [h * scale, w * scale], false, false),
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => tf.reshape(tf.sum(tf.reshape(dy, [b * h, scale, w, scale, c]), [1, 3]), [b, h, w, c])), // [B,sH,sW,C] -> [B,H,W,C]
    };
  });
  return up(x) as tf.Tensor4D;
}
