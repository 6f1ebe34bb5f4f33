/**
 * @file Ultralytics' blocks (ultralytics/nn/modules/block.py) used by YOLOv8 and YOLO11 detection
 * models, in tfjs, NHWC: Bottleneck, C2f, C3, C3k, C3k2, SPPF, Attention, PSABlock, C2PSA, DFL.
 * Channel splits (`chunk(2, 1)`) are along the last axis. State names follow Ultralytics.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv } from './conv';
import { maxPool2d, type ForwardCtx, type StateStore } from './nn';

/** Anything with a forward over one NHWC tensor. */
export interface Block {
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D;
}

/** Bottleneck(c1, c2, shortcut=True, g=1, k=(3, 3), e=0.5): cv1 (k0) -> cv2 (k1), plus x when shortcut and c1 == c2. */
export class Bottleneck implements Block {
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly add: boolean;

  constructor(store: StateStore, name: string, c1: number, c2: number, shortcut = true, g = 1, k: [number, number] = [3, 3], e = 0.5) {
    const c_ = Math.trunc(c2 * e);
    this.cv1 = new Conv(store, `${name}.cv1`, c1, c_, k[0], 1);
    this.cv2 = new Conv(store, `${name}.cv2`, c_, c2, k[1], 1, null, g);
    this.add = shortcut && c1 === c2;
  }

  /** [B, H, W, c1] -> [B, H, W, c2] */
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.cv2.forward(this.cv1.forward(x, ctx), ctx);
      return this.add ? tf.add(x, y) : y;
    });
  }
}

/** C2f(c1, c2, n=1, shortcut=False, g=1, e=0.5): cv1 to 2c, split, n Bottlenecks chained on the second half, concat all, cv2. */
export class C2f implements Block {
  readonly c: number;
  readonly cv1: Conv;
  readonly cv2: Conv;
  m: Block[];

  constructor(store: StateStore, readonly name: string, c1: number, c2: number, n = 1, shortcut = false, g = 1, e = 0.5, makeM = true) {
    this.c = Math.trunc(c2 * e);
    this.cv1 = new Conv(store, `${name}.cv1`, c1, 2 * this.c, 1, 1);
    this.cv2 = new Conv(store, `${name}.cv2`, (2 + n) * this.c, c2, 1);
    this.m = [];
    if (makeM) {
      for (let i = 0; i < n; i++) this.m.push(new Bottleneck(store, `${name}.m.${i}`, this.c, this.c, shortcut, g, [3, 3], 1.0));
    }
  }

  /** [B, H, W, c1] -> [B, H, W, c2] */
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D {
    return tf.tidy(() => {
      // A copy: tfjs records split's own output array on the gradient tape, so it must not grow.
      const y = [...(tf.split(this.cv1.forward(x, ctx), 2, 3) as tf.Tensor4D[])]; // 2 x [B, H, W, c]
      for (const m of this.m) y.push(m.forward(y[y.length - 1]!, ctx));
      return this.cv2.forward(tf.concat(y, 3), ctx); // [B, H, W, (2 + n) c] -> [B, H, W, c2]
    });
  }
}

/** C3(c1, c2, n=1, shortcut=True, g=1, e=0.5): cv3(cat(m(cv1(x)), cv2(x))). */
export class C3 implements Block {
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly cv3: Conv;
  m: Block[];

  constructor(store: StateStore, name: string, c1: number, c2: number, n = 1, shortcut = true, g = 1, e = 0.5, k: [number, number] | null = [1, 3]) {
    const c_ = Math.trunc(c2 * e);
    this.cv1 = new Conv(store, `${name}.cv1`, c1, c_, 1, 1);
    this.cv2 = new Conv(store, `${name}.cv2`, c1, c_, 1, 1);
    this.cv3 = new Conv(store, `${name}.cv3`, 2 * c_, c2, 1);
    this.m = [];
    if (k) for (let i = 0; i < n; i++) this.m.push(new Bottleneck(store, `${name}.m.${i}`, c_, c_, shortcut, g, k, 1.0));
  }

  /** [B, H, W, c1] -> [B, H, W, c2] */
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D {
    return tf.tidy(() => {
      let a = this.cv1.forward(x, ctx);
      for (const m of this.m) a = m.forward(a, ctx);
      return this.cv3.forward(tf.concat([a, this.cv2.forward(x, ctx)], 3), ctx);
    });
  }
}

/** C3k(c1, c2, n=1, shortcut=True, g=1, e=0.5, k=3): C3 whose Bottlenecks use k x k convs on both sides. */
export class C3k extends C3 {
  constructor(store: StateStore, name: string, c1: number, c2: number, n = 1, shortcut = true, g = 1, e = 0.5, k = 3) {
    super(store, name, c1, c2, n, shortcut, g, e, [k, k]);
  }
}

/** C3k2(c1, c2, n=1, c3k=False, e=0.5, g=1, shortcut=True): C2f whose inner blocks are C3k(c, c, 2) when c3k, else Bottleneck(c, c) (e=0.5). */
export class C3k2 extends C2f {
  constructor(store: StateStore, name: string, c1: number, c2: number, n = 1, c3k = false, e = 0.5, g = 1, shortcut = true) {
    super(store, name, c1, c2, n, shortcut, g, e, false);
    for (let i = 0; i < n; i++) {
      const mName = `${name}.m.${i}`;
      this.m.push(c3k ? new C3k(store, mName, this.c, this.c, 2, shortcut, g) : new Bottleneck(store, mName, this.c, this.c, shortcut, g));
    }
  }
}

/** SPPF(c1, c2, k=5): cv1 to c1/2, three chained k x k max pools (stride 1), concat the four, cv2. */
export class SPPF implements Block {
  readonly cv1: Conv;
  readonly cv2: Conv;

  constructor(store: StateStore, name: string, c1: number, c2: number, readonly k = 5) {
    const c_ = Math.floor(c1 / 2);
    this.cv1 = new Conv(store, `${name}.cv1`, c1, c_, 1, 1);
    this.cv2 = new Conv(store, `${name}.cv2`, c_ * 4, c2, 1, 1);
  }

  /** [B, H, W, c1] -> [B, H, W, c2] */
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D {
    return tf.tidy(() => {
      const y = [this.cv1.forward(x, ctx)];
      const p = Math.floor(this.k / 2);
      for (let i = 0; i < 3; i++) y.push(maxPool2d(y[y.length - 1]!, this.k, 1, p));
      return this.cv2.forward(tf.concat(y, 3), ctx); // [B, H, W, 4 c_]
    });
  }
}

/**
 * Attention(dim, num_heads=8, attn_ratio=0.5): multi-head self-attention over the H*W positions.
 * qkv is a 1x1 Conv (no act) to num_heads * (2 key_dim + head_dim) channels, grouped per head as
 * [q | k | v]; out = proj(attn(v) + pe(v)), pe a depthwise 3x3 Conv (no act).
 */
export class Attention implements Block {
  readonly headDim: number;
  readonly keyDim: number;
  readonly scale: number;
  readonly qkv: Conv;
  readonly proj: Conv;
  readonly pe: Conv;

  constructor(store: StateStore, name: string, readonly dim: number, readonly numHeads = 8, attnRatio = 0.5) {
    this.headDim = Math.floor(dim / numHeads);
    this.keyDim = Math.trunc(this.headDim * attnRatio);
    this.scale = this.keyDim ** -0.5;
    const h = dim + this.keyDim * numHeads * 2;
    this.qkv = new Conv(store, `${name}.qkv`, dim, h, 1, 1, null, 1, 1, false);
    this.proj = new Conv(store, `${name}.proj`, dim, dim, 1, 1, null, 1, 1, false);
    this.pe = new Conv(store, `${name}.pe`, dim, dim, 3, 1, null, dim, 1, false);
  }

  /** [B, H, W, dim] -> [B, H, W, dim] */
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, hh, ww, c] = x.shape;
      const n = hh * ww;
      const nh = this.numHeads;
      const kd = this.keyDim;
      const hd = this.headDim;
      const qkv = tf.reshape(this.qkv.forward(x, ctx), [b, n, nh, 2 * kd + hd]); // [B, N, nh, 2kd+hd]
      const heads = tf.transpose(qkv, [0, 2, 1, 3]); // [B, nh, N, 2kd+hd]
      const [q, k, v] = tf.split(heads, [kd, kd, hd], 3) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), this.scale)); // [B, nh, N(query), N(key)]
      const out = tf.matMul(attn, v); // [B, nh, N, hd]
      const toMap = (t: tf.Tensor): tf.Tensor4D => tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [b, hh, ww, c]); // channel = head * hd + d
      const y = tf.add(toMap(out), this.pe.forward(toMap(v), ctx)) as tf.Tensor4D; // [B, H, W, dim]
      return this.proj.forward(y, ctx);
    });
  }
}

/** PSABlock(c, attn_ratio=0.5, num_heads=4, shortcut=True): x + attn(x), then x + ffn(x), ffn = Conv(c, 2c, 1) -> Conv(2c, c, 1, act=False). */
export class PSABlock implements Block {
  readonly attn: Attention;
  readonly ffn: [Conv, Conv];

  constructor(store: StateStore, name: string, c: number, attnRatio = 0.5, numHeads = 4, readonly add = true) {
    this.attn = new Attention(store, `${name}.attn`, c, numHeads, attnRatio);
    this.ffn = [new Conv(store, `${name}.ffn.0`, c, c * 2, 1), new Conv(store, `${name}.ffn.1`, c * 2, c, 1, 1, null, 1, 1, false)];
  }

  /** [B, H, W, c] -> [B, H, W, c] */
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D {
    return tf.tidy(() => {
      const a = this.attn.forward(x, ctx);
      const x1 = this.add ? (tf.add(x, a) as tf.Tensor4D) : a;
      const f = this.ffn[1].forward(this.ffn[0].forward(x1, ctx), ctx);
      return this.add ? (tf.add(x1, f) as tf.Tensor4D) : f;
    });
  }
}

/** C2PSA(c1, c2, n=1, e=0.5): cv1 to 2c, split (a, b), b through n PSABlocks (num_heads = c / 64), cv2(cat(a, b)). c1 must equal c2. */
export class C2PSA implements Block {
  readonly c: number;
  readonly cv1: Conv;
  readonly cv2: Conv;
  readonly m: PSABlock[] = [];

  constructor(store: StateStore, name: string, c1: number, c2: number, n = 1, e = 0.5) {
    if (c1 !== c2) throw new Error(`${name}: C2PSA needs c1 == c2 (got ${c1}, ${c2})`);
    this.c = Math.trunc(c1 * e);
    this.cv1 = new Conv(store, `${name}.cv1`, c1, 2 * this.c, 1, 1);
    this.cv2 = new Conv(store, `${name}.cv2`, 2 * this.c, c1, 1);
    for (let i = 0; i < n; i++) this.m.push(new PSABlock(store, `${name}.m.${i}`, this.c, 0.5, Math.floor(this.c / 64)));
  }

  /** [B, H, W, c1] -> [B, H, W, c1] */
  forward(x: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor4D {
    return tf.tidy(() => {
      const [a, b0] = tf.split(this.cv1.forward(x, ctx), 2, 3) as [tf.Tensor4D, tf.Tensor4D];
      let b = b0;
      for (const m of this.m) b = m.forward(b, ctx);
      return this.cv2.forward(tf.concat([a, b], 3), ctx);
    });
  }
}

/**
 * DFL(c1=16): the expected value of a softmax over c1 bins (a fixed 1x1 conv with weights 0..c1-1).
 * [B, N, 4 * c1] -> [B, N, 4], distances in stride units.
 */
export class DFL {
  readonly weight;

  constructor(store: StateStore, name: string, readonly c1 = 16) {
    const w = new Float32Array(c1).map((_, i) => i);
    this.weight = store.add(`${name}.conv.weight`, [1, c1, 1, 1], 'plain', 'fixed', w);
  }

  forward(box: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, n] = box.shape;
      const p = tf.softmax(tf.reshape(box, [b * n * 4, this.c1])); // [B*N*4, c1]
      return tf.reshape(tf.matMul(p, tf.reshape(this.weight.variable, [this.c1, 1])), [b, n, 4]);
    });
  }
}
