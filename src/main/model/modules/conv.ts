/**
 * @file Ultralytics' conv modules (ultralytics/nn/modules/conv.py) in tfjs, NHWC: Conv (conv + BN +
 * SiLU), DWConv, Concat. State names follow Ultralytics (`<prefix>.conv.weight`, `<prefix>.bn.*`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Conv2d, DerivedCache, silu, type ForwardCtx, type StateStore } from './nn';

/** Pad to 'same' shape outputs, as Ultralytics' autopad(k, p, d). */
export function autopad(k: number, p: number | null = null, d = 1): number {
  const ke = d > 1 ? d * (k - 1) + 1 : k;
  return p ?? Math.floor(ke / 2);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Conv(c1, c2, k=1, s=1, p=None, g=1, d=1, act=True): Conv2d(bias=False) -> BatchNorm2d -> SiLU (or identity when act=false). */
export class Conv {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  /** Eval-mode weights with BN folded in: [W * scale, shift]. */
  private readonly folded: DerivedCache<[tf.Tensor4D, tf.Tensor1D]>;

  constructor(
    store: StateStore,
    readonly name: string,
    readonly c1: number,
    readonly c2: number,
    k = 1,
    s = 1,
    p: number | null = null,
    g = 1,
    d = 1,
    readonly act = true,
  ) {
    this.conv = new Conv2d(store, `${name}.conv`, c1, c2, k, s, autopad(k, p, d), g, d, false);
    this.bn = new BatchNorm2d(store, `${name}.bn`, c2);
    this.folded = new DerivedCache(store);
  }

  /** BN folded into the conv: W' = W * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps). */
  private foldedWeights(): [tf.Tensor4D, tf.Tensor1D] {
    const { weight, bias, runningMean, runningVar } = this.bn;
    return this.folded.get([this.conv.weight.variable, weight.variable, bias.variable, runningMean.variable, runningVar.variable], () => {
      const { scale, shift } = this.bn.evalAffine(); // [c2], [c2]
      const w = this.conv.weight.variable as tf.Tensor4D; // [kh, kw, cin, cout] or [kh, kw, cin, mult]
      const folded = this.conv.depthwise
        ? (tf.mul(w, tf.reshape(scale, [1, 1, this.c1, this.c2 / this.c1])) as tf.Tensor4D)
        : (tf.mul(w, scale) as tf.Tensor4D);
      return [folded, shift];
    });
  }

  /** [B, H, W, c1] -> [B, H/s, W/s, c2] */
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D {
    return tf.tidy(() => {
      let y: tf.Tensor4D;
      if (ctx.training) {
        y = this.bn.forward(this.conv.forward(x), ctx);
      } else {
        // Eval: BN folded into the conv, one fused kernel per layer (weights cached until they change).
        const [w, b] = this.foldedWeights();
        y = this.conv.forwardFused(x, w, b);
      }
      return this.act ? silu(y) : y;
    });
  }
}

/** DWConv(c1, c2, k=1, s=1, d=1, act=True): Conv with groups = gcd(c1, c2) (depthwise when c1 == c2). */
export class DWConv extends Conv {
  constructor(store: StateStore, name: string, c1: number, c2: number, k = 1, s = 1, d = 1, act = true) {
    super(store, name, c1, c2, k, s, null, gcd(c1, c2), d, act);
  }
}

/** Concat(dimension=1): joins along channels, the last axis in NHWC. [B,H,W,Ci]... -> [B,H,W,sum Ci] */
export class Concat {
  constructor(readonly d = 1) {
    if (d !== 1) throw new Error(`Concat over dimension ${d} is not supported (only channels, d=1)`);
  }

  forward(xs: tf.Tensor4D[]): tf.Tensor4D {
    return tf.concat(xs, 3);
  }
}
