/**
 * @file Ultralytics' Detect head (ultralytics/nn/modules/head.py) in tfjs, NHWC, plus the anchor
 * helpers of ultralytics/utils/tal.py (make_anchors, dist2bbox). Raw outputs are per level
 * [B, H, W, 4*reg_max + nc] (box distribution logits first, class logits after), the NHWC form of
 * Ultralytics' training-mode output; decode() gives the [B, 4+nc, N] inference output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DFL } from './block';
import { Conv, DWConv } from './conv';
import { Conv2d, type ForwardCtx, type StateStore } from './nn';

/** One class/box branch: a list of layers ending in a plain Conv2d with bias. */
type Branch = { convs: Conv[]; pred: Conv2d };

/**
 * Detect(nc=80, ch=(), legacy): per level i, cv2[i] = Conv(ch_i, c2, 3) -> Conv(c2, c2, 3) -> Conv2d(c2, 4*reg_max, 1)
 * (boxes) and cv3[i] = Conv(ch_i, c3, 3) -> Conv(c3, c3, 3) -> Conv2d(c3, nc, 1) (classes; YOLOv8 / legacy) or,
 * for YOLO11, DWConv(ch_i, ch_i, 3) -> Conv(ch_i, c3, 1) -> DWConv(c3, c3, 3) -> Conv(c3, c3, 1) -> Conv2d(c3, nc, 1).
 * c2 = max(16, ch_0 / 4, 4*reg_max), c3 = max(ch_0, min(nc, 100)).
 */
export class Detect {
  readonly nl: number;
  readonly no: number;
  readonly c2: number;
  readonly c3: number;
  readonly cv2: Branch[] = [];
  cv3: Branch[] = [];
  readonly dfl: DFL | null;

  constructor(
    private readonly store: StateStore,
    readonly name: string,
    readonly nc: number,
    readonly ch: number[],
    readonly legacy: boolean,
    readonly regMax = 16,
  ) {
    this.nl = ch.length;
    this.no = nc + regMax * 4;
    const ch0 = ch[0] ?? 0;
    this.c2 = Math.max(16, Math.floor(ch0 / 4), regMax * 4);
    this.c3 = Math.max(ch0, Math.min(nc, 100));
    ch.forEach((x, i) => {
      const p = `${name}.cv2.${i}`;
      this.cv2.push({
        convs: [new Conv(store, `${p}.0`, x, this.c2, 3), new Conv(store, `${p}.1`, this.c2, this.c2, 3)],
        pred: new Conv2d(store, `${p}.2`, this.c2, 4 * regMax, 1, 1, 0, 1, 1, true),
      });
    });
    this.cv3 = this.buildClassBranches(nc);
    this.dfl = regMax > 1 ? new DFL(store, `${name}.dfl`, regMax) : null;
  }

  /** The class branches for `nc` classes (their state entries are created in the store). */
  buildClassBranches(nc: number): Branch[] {
    const c3 = this.c3;
    return this.ch.map((x, i) => {
      const p = `${this.name}.cv3.${i}`;
      const convs = this.legacy
        ? [new Conv(this.store, `${p}.0`, x, c3, 3), new Conv(this.store, `${p}.1`, c3, c3, 3)]
        : [
            new DWConv(this.store, `${p}.0.0`, x, x, 3),
            new Conv(this.store, `${p}.0.1`, x, c3, 1),
            new DWConv(this.store, `${p}.1.0`, c3, c3, 3),
            new Conv(this.store, `${p}.1.1`, c3, c3, 1),
          ];
      return { convs, pred: new Conv2d(this.store, `${p}.2`, c3, nc, 1, 1, 0, 1, 1, true) };
    });
  }

  /** Raw per-level outputs. [B, H_i, W_i, ch_i] x nl -> [B, H_i, W_i, 4*reg_max + nc] x nl */
  forward(xs: tf.Tensor4D[], ctx: ForwardCtx): tf.Tensor4D[] {
    return xs.map((x, i) =>
      tf.tidy(() => {
        const run = (b: Branch): tf.Tensor4D => {
          let y = x;
          for (const c of b.convs) y = c.forward(y, ctx);
          return b.pred.forward(y);
        };
        return tf.concat([run(this.cv2[i]!), run(this.cv3[i]!)], 3);
      }),
    );
  }

  /**
   * Inference output from raw outputs, as Ultralytics' Detect._inference: DFL expectation, dist2bbox
   * around anchor centres (offset 0.5), times stride; sigmoid class scores.
   * [B, H_i, W_i, no] x nl -> [B, 4 + nc, N], boxes xywh in input pixels.
   */
  decode(raw: tf.Tensor4D[], stride: number[]): tf.Tensor3D {
    return tf.tidy(() => {
      const b = raw[0]!.shape[0];
      const flat = tf.concat(raw.map((r) => tf.reshape(r, [b, -1, this.no])), 1) as tf.Tensor3D; // [B, N, no]
      const n = flat.shape[1];
      const [box, cls] = tf.split(flat, [4 * this.regMax, this.nc], 2) as [tf.Tensor3D, tf.Tensor3D];
      const dist = this.dfl ? this.dfl.forward(box) : box; // [B, N, 4]
      const { anchorPoints, strideTensor } = makeAnchors(raw.map((r) => [r.shape[1], r.shape[2]] as const), stride);
      const anchors = tf.tensor2d(anchorPoints, [n, 2]); // [N, 2]
      const strides = tf.tensor2d(strideTensor, [n, 1]); // [N, 1]
      const dbox = tf.mul(dist2bbox(dist, anchors, true), strides); // [B, N, 4]
      const out = tf.concat([dbox, tf.sigmoid(cls)], 2); // [B, N, 4 + nc]
      if (out.shape[1] !== n) throw new Error('anchor count mismatch');
      return tf.transpose(out, [0, 2, 1]) as tf.Tensor3D; // [B, 4 + nc, N]
    });
  }

  /** Ultralytics' Detect.bias_init: box logits 1.0, class logits log(5 / nc / (640 / s)^2) (5 objects per 640px image prior). */
  biasInit(stride: number[]): void {
    this.cv2.forEach((b) => b.pred.bias && this.store.assign(b.pred.bias.name, new Float32Array(4 * this.regMax).fill(1)));
    this.cv3.forEach((b, i) => {
      const s = stride[i] ?? 8 * 2 ** i;
      if (b.pred.bias) this.store.assign(b.pred.bias.name, new Float32Array(this.nc).fill(classBiasPrior(this.nc, s)));
    });
  }
}

/** log(5 / nc / (640 / s)^2): the class-logit prior Ultralytics puts on a fresh head. */
export function classBiasPrior(nc: number, stride: number): number {
  return Math.log(5 / nc / (640 / stride) ** 2);
}

/**
 * make_anchors(feats, strides, grid_cell_offset=0.5): anchor centres (x + 0.5, y + 0.5) in grid
 * units per level, row-major over (y, x), levels concatenated, and each anchor's stride. The head's
 * decode and the loss both use this one. -> anchorPoints [N, 2] (x, y), strideTensor [N]
 */
export function makeAnchors(hw: readonly (readonly [number, number])[], strides: readonly number[], offset = 0.5): { anchorPoints: Float32Array; strideTensor: Float32Array } {
  let n = 0;
  for (const [h, w] of hw) n += h * w;
  const anchorPoints = new Float32Array(n * 2);
  const strideTensor = new Float32Array(n);
  let k = 0;
  hw.forEach(([h, w], i) => {
    const s = strides[i];
    if (s === undefined) throw new Error(`no stride for level ${i}`);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, k++) {
        anchorPoints[2 * k] = x + offset;
        anchorPoints[2 * k + 1] = y + offset;
        strideTensor[k] = s;
      }
    }
  });
  return { anchorPoints, strideTensor };
}

/**
 * dist2bbox(distance, anchor_points, xywh=True): (left, top, right, bottom) distances around anchor
 * points -> boxes. [B, N, 4], [N, 2] -> [B, N, 4] (cx, cy, w, h) or (x1, y1, x2, y2)
 */
export function dist2bbox(distance: tf.Tensor3D, anchors: tf.Tensor2D, xywh = true): tf.Tensor3D {
  return tf.tidy(() => {
    const [lt, rb] = tf.split(distance, 2, 2);
    const x1y1 = tf.sub(anchors, lt!);
    const x2y2 = tf.add(anchors, rb!);
    if (!xywh) return tf.concat([x1y1, x2y2], 2) as tf.Tensor3D;
    const cxy = tf.div(tf.add(x1y1, x2y2), 2);
    const wh = tf.sub(x2y2, x1y1);
    return tf.concat([cxy, wh], 2) as tf.Tensor3D;
  });
}
