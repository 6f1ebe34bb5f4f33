/**
 * @file v8DetectionLoss of ultralytics/utils/loss.py (Ultralytics 8.3.186) in tfjs: the training
 * loss of YOLOv8 / YOLO11 detection heads.
 *
 *   const criterion = V8DetectionLoss.fromModel(model);            // nc, reg_max, stride
 *   const { value, grads } = tf.variableGrads(() => {
 *     const raw = model.forward(images, { training: true });       // [B, H/s, W/s, 4*reg_max + nc] per level
 *     const { total, items } = criterion.compute(raw, batch);      // items: [box, cls, dfl]
 *     return total;                                                // sum(items) * B, what backward uses
 *   });
 *
 * Per level the raw head output is NHWC [B, H_i, W_i, 4*reg_max + nc]: box-distribution logits
 * first (side-major: l, t, r, b, reg_max bins each), then class logits (Ultralytics' cat(cv2, cv3)).
 * Anchors run row-major over (y, x) within a level, levels concatenated (N = sum H_i * W_i).
 *
 * Steps, as Ultralytics:
 * 1. targets (batch_idx, cls, normalised xywh) -> per image, padded to the most boxes any image has,
 *    scaled to pixels of the input (h, w = first level's size * first stride), xyxy; mask_gt marks
 *    real rows (x1 + y1 + x2 + y2 > 0).
 * 2. TaskAlignedAssigner(topk 10, alpha 0.5, beta 6) on detached predictions (sigmoid scores,
 *    decoded boxes * stride, anchors * stride), in plain TypeScript (assigner.ts); it reads the
 *    levels' values once (dataSync) and decodes only the anchors inside some box. Its outputs are
 *    constants for the rest.
 * 3. cls: BCE-with-logits of all class logits against the soft targets (oneHot(label) * score on
 *    foreground anchors, 0 elsewhere), summed, / tss = max(sum(target_scores), 1).
 * 4. box and DFL on the foreground anchors only (their rows gathered from each level, the gradient
 *    scattered back): bbox_decode (softmax over the reg_max bins, expectation with arange(reg_max),
 *    dist2bbox around the anchor centre; grid units), box = sum((1 - CIoU(pred, target / stride))
 *    * weight) / tss with weight = the anchor's target score; dfl = targets bbox2dist clamped to
 *    [0, reg_max - 1 - 0.01], cross-entropy on the two neighbouring bins weighted by distance, mean
 *    over the 4 sides, * weight, summed, / tss.
 * 5. items = [box * 7.5, cls * 0.5, dfl * 1.5]; total = sum(items) * batch size.
 *
 * Nothing runs on the full [B, N, no] outputs but the class BCE (and, on 'device', the slice of the
 * class channels), which is what makes this cheap on tfjs' cpu and wasm backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import { TaskAlignedAssigner, type AssignerResult } from './assigner';
import { bboxCiou } from './iou';
import { customGrad1 } from './tf-util';
import { makeAnchors } from '../../model/modules/head';

const f32 = Math.fround;

/** Targets as Ultralytics' collate_fn lays them out. */
export interface DetectionTargets {
  /** [T] image of each box within the batch (0..B-1). */
  batchIdx: ArrayLike<number>;
  /** [T] class of each box. */
  cls: ArrayLike<number>;
  /** [T, 4] cx, cy, w, h normalised by the input width and height. */
  bboxes: ArrayLike<number>;
}

/** Loss gains (Ultralytics' default.yaml box, cls, dfl). */
export interface LossGains {
  box: number;
  cls: number;
  dfl: number;
}

export const DEFAULT_LOSS_GAINS: LossGains = { box: 7.5, cls: 0.5, dfl: 1.5 };

export interface DetectionLossOptions {
  /** Number of classes. */
  nc: number;
  /** Strides of the head's levels, e.g. [8, 16, 32]. */
  stride: readonly number[];
  /** Bins of the box distribution (16). 1 means the head predicts distances directly (no DFL). */
  regMax?: number;
  /** Gains over DEFAULT_LOSS_GAINS. */
  hyp?: Partial<LossGains>;
  /** Anchors per ground truth in the assigner (v8DetectionLoss' tal_topk, 10). */
  talTopk?: number;
  /**
   * Where the class loss (BCE over B x N x nc logits, the only work on the full outputs) runs:
   * 'device' as tfjs ops (the class channels sliced out of each level); 'js' in TypeScript on the
   * values the assigner reads anyway, with the gradient uploaded as one tensor per level (on tfjs'
   * plain-JS cpu backend the strided slice and its gradient cost ~10x the rest of the loss: 2 x 320
   * px loss + backward ~0.12 s 'js' vs ~1.1 s 'device'; on wasm both are ~0.03 s). Default 'auto':
   * 'js' on the cpu backend, 'device' elsewhere (wasm, tfjs-node, GPU).
   */
  clsLossOn?: 'auto' | 'device' | 'js';
}

export interface DetectionLossResult {
  /** sum(items) * batch size: the scalar to differentiate (on the gradient tape when called under one). */
  total: tf.Scalar;
  /** [box, cls, dfl] after gains, per image (Ultralytics' loss_items). */
  items: [number, number, number];
}

/** Targets after preprocess: per image, padded to G rows. */
export interface PaddedTargets {
  /** G = n_max_boxes. */
  nMaxBoxes: number;
  /** [B, G] */
  gtLabels: Float32Array;
  /** [B, G, 4] xyxy pixels */
  gtBboxes: Float32Array;
  /** [B, G] 1 for real rows */
  maskGt: Uint8Array;
}

export interface ComputeOptions {
  /** [h, w] of the input; must match the size the levels imply (first level size * first stride). */
  imgsz?: readonly [number, number];
  /**
   * Use this assignment instead of running the assigner (e.g. `last.assign` of an earlier call on the
   * same batch): holds the targets fixed, as the gradient sees them, for finite-difference checks.
   */
  assignment?: AssignerResult;
}

/** Per-loss details of the last compute() call, for tests and diagnostics. */
export interface LossDetails {
  assign: AssignerResult;
  targets: PaddedTargets;
  /** max(sum of target scores, 1): what the losses are divided by. */
  targetScoresSum: number;
  /** The sum of target scores before that clamp (passes of one batch add these up). */
  rawScoreSum: number;
  numFg: number;
}

/**
 * bbox2dist(anchor_points, bbox, reg_max): xyxy box -> (left, top, right, bottom) distances from the
 * anchor, clamped to [0, reg_max - 0.01], float32 like torch. Writes 4 values at out[o].
 */
export function bbox2dist(ax: number, ay: number, box: ArrayLike<number>, bo: number, regMax: number, out: Float32Array, o: number): void {
  const hi = f32(regMax - 0.01);
  const c = (v: number) => Math.min(Math.max(v, 0), hi);
  out[o] = c(f32(ax - box[bo]!));
  out[o + 1] = c(f32(ay - box[bo + 1]!));
  out[o + 2] = c(f32(box[bo + 2]! - ax));
  out[o + 3] = c(f32(box[bo + 3]! - ay));
}

/** Rows idx of x, with a gradient by scatter (tfjs' own gather gradient needs UnsortedSegmentSum, which wasm lacks). [R, C] -> [M, C] */
function gatherRows(x: tf.Tensor2D, idx: tf.Tensor1D): tf.Tensor2D {
  const [r, c] = x.shape;
  const f = customGrad1((t, save) => {
    save([idx]);
    return {
      value: tf.gather(t, idx),
      gradFunc: (dy, saved) => tf.scatterND(tf.expandDims(saved[0]!, 1), dy, [r, c]),
    };
  });
  return f(x) as tf.Tensor2D;
}

/**
 * BCEWithLogits(reduction='none'): max(x, 0) - x*y + log(1 + exp(-|x|)), with the gradient
 * (sigmoid(x) - y) through x only (y is a constant target). [...], [...] -> [...]
 */
export function bceWithLogits(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const f = customGrad1((t, save) => {
    save([t, y]);
    return {
      value: tf.add(tf.sub(tf.relu(t), tf.mul(t, y)), tf.log1p(tf.exp(tf.neg(tf.abs(t))))),
      gradFunc: (dy, saved) => tf.mul(dy, tf.sub(tf.sigmoid(saved[0]!), saved[1]!)),
    };
  });
  return f(x);
}

export class V8DetectionLoss {
  readonly nc: number;
  readonly regMax: number;
  /** 4 * reg_max + nc channels per anchor. */
  readonly no: number;
  readonly stride: number[];
  readonly hyp: LossGains;
  readonly assigner: TaskAlignedAssigner;
  readonly useDfl: boolean;
  readonly clsLossOn: 'auto' | 'device' | 'js';
  /** Set by each compute() call. */
  last: LossDetails | null = null;

  constructor(opts: DetectionLossOptions) {
    this.nc = opts.nc;
    this.regMax = opts.regMax ?? 16;
    this.no = this.nc + 4 * this.regMax;
    this.stride = [...opts.stride];
    this.hyp = { ...DEFAULT_LOSS_GAINS, ...opts.hyp };
    this.useDfl = this.regMax > 1;
    this.clsLossOn = opts.clsLossOn ?? 'auto';
    this.assigner = new TaskAlignedAssigner({ topk: opts.talTopk ?? 10, numClasses: this.nc, alpha: 0.5, beta: 6.0 });
  }

  /** The loss for a model's head (YoloModel or anything with nc, regMax and stride). */
  static fromModel(model: { nc: number; regMax: number; stride: readonly number[] }, hyp?: Partial<LossGains>): V8DetectionLoss {
    return new V8DetectionLoss({ nc: model.nc, regMax: model.regMax, stride: model.stride, ...(hyp ? { hyp } : {}) });
  }

  /**
   * preprocess(targets, batch_size, scale_tensor): per image, padded to the most boxes of any image
   * (rows in the order given), scaled by (w, h, w, h) and converted to xyxy, in float32 as torch.
   */
  preprocess(t: DetectionTargets, batchSize: number, imgsz: readonly [number, number]): PaddedTargets {
    const n = t.batchIdx.length;
    if (t.cls.length !== n || t.bboxes.length !== 4 * n) {
      throw new Error(`targets: batchIdx has ${n} rows, cls ${t.cls.length}, bboxes ${t.bboxes.length / 4}`);
    }
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) counts.set(t.batchIdx[i]!, (counts.get(t.batchIdx[i]!) ?? 0) + 1);
    const G = n === 0 ? 0 : Math.max(...counts.values());
    const gtLabels = new Float32Array(batchSize * G);
    const gtBboxes = new Float32Array(batchSize * G * 4);
    const maskGt = new Uint8Array(batchSize * G);
    const [h, w] = imgsz;
    const fill = new Int32Array(batchSize);
    for (let i = 0; i < n; i++) {
      const b = t.batchIdx[i]!;
      if (!Number.isInteger(b) || b < 0 || b >= batchSize) continue;
      const c = t.cls[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= this.nc) throw new Error(`targets: class ${c} of box ${i} is not in 0..${this.nc - 1}`);
      const row = b * G + fill[b]!++;
      gtLabels[row] = c;
      const cx = f32(t.bboxes[4 * i]! * w);
      const cy = f32(t.bboxes[4 * i + 1]! * h);
      const hw = f32(f32(t.bboxes[4 * i + 2]! * w) / 2);
      const hh = f32(f32(t.bboxes[4 * i + 3]! * h) / 2);
      const o = row * 4;
      gtBboxes[o] = cx - hw;
      gtBboxes[o + 1] = cy - hh;
      gtBboxes[o + 2] = cx + hw;
      gtBboxes[o + 3] = cy + hh;
    }
    for (let r = 0; r < batchSize * G; r++) {
      const o = r * 4;
      maskGt[r] = gtBboxes[o]! + gtBboxes[o + 1]! + gtBboxes[o + 2]! + gtBboxes[o + 3]! > 0 ? 1 : 0;
    }
    return { nMaxBoxes: G, gtLabels, gtBboxes, maskGt };
  }

  /**
   * bbox_decode for a set of anchors: distribution logits -> xyxy boxes in grid units (softmax over
   * the reg_max bins, expectation with arange(reg_max), dist2bbox). [M, 4*reg_max], [M, 2] -> [M, 4]
   */
  bboxDecode(anchorPoints: tf.Tensor2D, predDist: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const m = predDist.shape[0];
      let dist: tf.Tensor2D = predDist; // [M, 4]
      if (this.useDfl) {
        const probs = tf.softmax(tf.reshape(predDist, [m * 4, this.regMax])); // [M*4, reg_max]
        const proj = tf.reshape(tf.range(0, this.regMax, 1, 'float32'), [this.regMax, 1]); // [reg_max, 1]
        dist = tf.reshape(tf.matMul(probs, proj), [m, 4]);
      }
      const lt = tf.slice(dist, [0, 0], [m, 2]);
      const rb = tf.slice(dist, [0, 2], [m, 2]);
      return tf.concat([tf.sub(anchorPoints, lt), tf.add(anchorPoints, rb)], 1) as tf.Tensor2D; // dist2bbox(xywh=False)
    });
  }

  /**
   * The loss of raw per-level head outputs against a batch's targets. preds: NHWC
   * [B, H_i, W_i, 4*reg_max + nc] per level (differentiable).
   *
   * Call it inside tf.variableGrads / tf.grads for gradients; the assignment (and `last`) is
   * recomputed on every call.
   */
  compute(preds: readonly tf.Tensor4D[], batch: DetectionTargets, opts: ComputeOptions = {}): DetectionLossResult {
    const { imgsz } = opts;
    if (preds.length !== this.stride.length) throw new Error(`loss: ${preds.length} levels, the head has ${this.stride.length}`);
    const B = preds[0]!.shape[0];
    const no = this.no;
    const hw = preds.map((p, i) => {
      const [pb, h, w, c] = p.shape;
      if (pb !== B || c !== no) throw new Error(`loss: level ${i} has shape [${p.shape.join(', ')}], expected [${B}, h, w, ${no}]`);
      return [h, w] as [number, number];
    });
    const size: [number, number] = [hw[0]![0] * this.stride[0]!, hw[0]![1] * this.stride[0]!]; // (h, w)
    if (imgsz && (imgsz[0] !== size[0] || imgsz[1] !== size[1])) throw new Error(`loss: imgsz [${imgsz.join(', ')}] but the outputs imply [${size.join(', ')}]`);
    const { anchorPoints, strideTensor } = makeAnchors(hw, this.stride);
    const N = strideTensor.length;
    const levelSize = hw.map(([h, w]) => h * w);
    const levelStart: number[] = [];
    for (let l = 0, acc = 0; l < levelSize.length; acc += levelSize[l]!, l++) levelStart.push(acc);
    const levelOf = new Uint8Array(N);
    levelSize.forEach((n, l) => levelOf.fill(l, levelStart[l]!, levelStart[l]! + n));
    const targets = this.preprocess(batch, B, size);
    const G = targets.nMaxBoxes;
    const nc = this.nc;
    const R = 4 * this.regMax;

    // The levels' values, read once when needed (assigner, class loss in JS).
    const data: (Float32Array | null)[] = preds.map(() => null);
    const levelData = (l: number): Float32Array => (data[l] ??= preds[l]!.dataSync() as Float32Array);

    // Assigner on detached predictions, in pixels: sigmoid scores, decoded boxes * stride, anchors * stride.
    let assign = opts.assignment;
    if (!assign) {
      const at = (b: number, a: number): { d: Float32Array; o: number } => {
        const l = levelOf[a]!;
        return { d: levelData(l), o: (b * levelSize[l]! + a - levelStart[l]!) * no };
      };
      const ancPx = new Float32Array(N * 2);
      for (let a = 0; a < N; a++) {
        ancPx[2 * a] = anchorPoints[2 * a]! * strideTensor[a]!;
        ancPx[2 * a + 1] = anchorPoints[2 * a + 1]! * strideTensor[a]!;
      }
      const dist = new Float64Array(4);
      assign = this.assigner.forward({
        bs: B,
        nMaxBoxes: G,
        scoreOf: (b, a, c) => {
          const { d, o } = at(b, a);
          return f32(1 / (1 + Math.exp(-d[o + R + c]!)));
        },
        boxOf: (b, a, out) => {
          const { d, o } = at(b, a);
          this.decodeDistances(d, o, dist);
          const [ax, ay, s] = [anchorPoints[2 * a]!, anchorPoints[2 * a + 1]!, strideTensor[a]!];
          out[0] = f32(f32(ax - dist[0]!) * s);
          out[1] = f32(f32(ay - dist[1]!) * s);
          out[2] = f32(f32(ax + dist[2]!) * s);
          out[3] = f32(f32(ay + dist[3]!) * s);
        },
        ancPoints: ancPx,
        gtLabels: targets.gtLabels,
        gtBboxes: targets.gtBboxes,
        maskGt: targets.maskGt,
      });
    }
    if (assign.fgMask.length !== B * N) throw new Error(`loss: assignment covers ${assign.fgMask.length} anchors, expected ${B * N}`);
    let scoreSum = 0;
    let numFg = 0;
    for (let i = 0; i < B * N; i++) {
      scoreSum += assign.targetScore[i]!;
      numFg += assign.fgMask[i]!;
    }
    const tss = Math.max(f32(scoreSum), 1); // target_scores_sum = max(target_scores.sum(), 1)
    this.last = { assign, targets, targetScoresSum: tss, rawScoreSum: f32(scoreSum), numFg };

    // Foreground rows per level, in level order, and their constants.
    const fgRows: number[][] = preds.map(() => []);
    const fgAnchor: number[] = []; // b * N + a, in the same order as the gathered rows
    for (let l = 0; l < preds.length; l++) {
      for (let b = 0; b < B; b++) {
        for (let a = levelStart[l]!; a < levelStart[l]! + levelSize[l]!; a++) {
          if (!assign.fgMask[b * N + a]) continue;
          fgRows[l]!.push(b * levelSize[l]! + a - levelStart[l]!);
          fgAnchor.push(b * N + a);
        }
      }
    }

    let items: [number, number, number] = [0, 0, 0];
    const total = tf.tidy(() => {
      // Class loss: BCE-with-logits of the class logits against oneHot(label) * score (zero rows
      // for background), summed per level.
      const onDevice = this.clsLossOn === 'device' || (this.clsLossOn === 'auto' && tf.getBackend() !== 'cpu');
      const clsSums = preds.map((p, l) => {
        const rows = B * levelSize[l]!;
        const n = levelSize[l]!;
        const fgOf = (row: number): number => Math.floor(row / n) * N + levelStart[l]! + (row % n); // b * N + a of a level row
        if (!onDevice) return this.clsLossJs(p, levelData(l), rows, fgOf, assign);
        // the class channels of the level; the target scattered from the fg rows
        const idx: number[] = [];
        const upd: number[] = [];
        for (let row = 0; row < rows; row++) {
          const i = fgOf(row);
          if (!assign.fgMask[i]) continue;
          idx.push(row, assign.targetLabels[i]!);
          upd.push(assign.targetScore[i]!);
        }
        const target = idx.length ? tf.scatterND(tf.tensor2d(idx, [upd.length, 2], 'int32'), tf.tensor1d(upd), [rows, nc]) : tf.zeros([rows, nc]); // [rows, nc]
        const logits = tf.slice(tf.reshape(p, [rows, no]), [0, R], [rows, nc]); // [rows, nc]
        return tf.sum(tf.sum(bceWithLogits(logits, target), 1));
      });
      const lossCls = tf.div(tf.addN(clsSums), tss);

      // Box and DFL losses over foreground anchors.
      let lossBox: tf.Tensor = tf.scalar(0);
      let lossDfl: tf.Tensor = tf.scalar(0);
      if (numFg > 0) {
        const M = numFg;
        const anc = new Float32Array(M * 2); // grid units
        const tBox = new Float32Array(M * 4); // target boxes / stride: grid units
        const weight = new Float32Array(M); // target_scores.sum(-1)[fg]
        const tDist = new Float32Array(M * 4); // bbox2dist targets
        fgAnchor.forEach((i, m) => {
          const a = i % N;
          const s = strideTensor[a]!;
          anc[2 * m] = anchorPoints[2 * a]!;
          anc[2 * m + 1] = anchorPoints[2 * a + 1]!;
          for (let j = 0; j < 4; j++) tBox[4 * m + j] = f32(assign.targetBboxes[4 * i + j]! / s);
          weight[m] = assign.targetScore[i]!;
          bbox2dist(anc[2 * m]!, anc[2 * m + 1]!, tBox, 4 * m, this.regMax - 1, tDist, 4 * m);
        });
        const parts = preds.flatMap((p, l) =>
          fgRows[l]!.length ? [gatherRows(tf.reshape(p, [B * levelSize[l]!, no]) as tf.Tensor2D, tf.tensor1d(fgRows[l]!, 'int32'))] : [],
        );
        const rows = parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as tf.Tensor2D); // [M, no]
        const predDist = tf.slice(rows, [0, 0], [M, R]); // [M, 4*reg_max]
        const w = tf.tensor1d(weight); // [M]
        const pBox = this.bboxDecode(tf.tensor2d(anc, [M, 2]), predDist); // [M, 4] grid units
        const iou = bboxCiou(pBox, tf.tensor2d(tBox, [M, 4])); // [M]
        lossBox = tf.div(tf.sum(tf.mul(tf.sub(1, iou), w)), tss);

        if (this.useDfl) {
          // DFLoss: per side, wl on bin floor(t) and wr = 1 - wl on floor(t) + 1, t clamped to [0, reg_max - 1.01].
          const rm = this.regMax;
          const hi = f32(rm - 1 - 0.01);
          const tgt = new Float32Array(M * 4 * rm); // [M*4, reg_max]
          for (let k = 0; k < M * 4; k++) {
            const t = Math.min(Math.max(tDist[k]!, 0), hi);
            const tl = Math.trunc(t);
            const wl = f32(tl + 1 - t);
            tgt[k * rm + tl] = wl;
            tgt[k * rm + tl + 1] = f32(1 - wl);
          }
          const logits = tf.reshape(predDist, [M * 4, rm]); // [M*4, reg_max]
          const ce = tf.neg(tf.sum(tf.mul(tf.tensor2d(tgt, [M * 4, rm]), tf.logSoftmax(logits)), 1)); // [M*4]: CE(tl) * wl + CE(tr) * wr
          const perAnchor = tf.mean(tf.reshape(ce, [M, 4]), 1); // [M]
          lossDfl = tf.div(tf.sum(tf.mul(perAnchor, w)), tss);
        }
      }

      const parts = [tf.mul(lossBox, this.hyp.box), tf.mul(lossCls, this.hyp.cls), tf.mul(lossDfl, this.hyp.dfl)];
      const v = tf.stack(parts).dataSync();
      items = [v[0]!, v[1]!, v[2]!];
      return tf.mul(tf.addN(parts), B) as tf.Scalar;
    });
    return { total, items };
  }

  /**
   * Sum of BCE-with-logits over one level's class logits, computed in TypeScript (float64 sums) from
   * its values d ([rows, no], rows = B * H * W); the gradient (sigmoid(x) - y) * dy is built in the
   * backward pass and uploaded as one [B, H, W, no] tensor (zeros on the box channels).
   */
  private clsLossJs(p: tf.Tensor4D, d: Float32Array, rows: number, anchorOf: (row: number) => number, assign: AssignerResult): tf.Scalar {
    const { nc, no } = this;
    const R = 4 * this.regMax;
    let sum = 0;
    for (let row = 0; row < rows; row++) {
      const i = anchorOf(row);
      const fgc = assign.fgMask[i] ? assign.targetLabels[i]! : -1;
      const o = row * no + R;
      for (let c = 0; c < nc; c++) {
        const x = d[o + c]!;
        const y = c === fgc ? assign.targetScore[i]! : 0;
        sum += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
      }
    }
    const f = customGrad1((t) => ({
      value: tf.scalar(sum),
      gradFunc: (dy) => {
        const k = dy.dataSync()[0]!;
        const g = new Float32Array(rows * no);
        for (let row = 0; row < rows; row++) {
          const i = anchorOf(row);
          const fgc = assign.fgMask[i] ? assign.targetLabels[i]! : -1;
          const o = row * no + R;
          for (let c = 0; c < nc; c++) {
            const y = c === fgc ? assign.targetScore[i]! : 0;
            g[o + c] = k * (1 / (1 + Math.exp(-d[o + c]!)) - y);
          }
        }
        return tf.tensor(g, t.shape);
      },
    }));
    return f(p) as tf.Scalar;
  }

  /** The expected (l, t, r, b) distances of one anchor's distribution logits d[o .. o + 4*reg_max), float32 like torch. */
  private decodeDistances(d: ArrayLike<number>, o: number, out: Float64Array): void {
    const rm = this.regMax;
    for (let side = 0; side < 4; side++) {
      const base = o + side * rm;
      if (rm === 1) {
        out[side] = d[base]!;
        continue;
      }
      let max = -Infinity;
      for (let j = 0; j < rm; j++) max = Math.max(max, d[base + j]!);
      let z = 0;
      let e = 0;
      for (let j = 0; j < rm; j++) {
        const p = Math.exp(d[base + j]! - max);
        z += p;
        e += p * j;
      }
      out[side] = f32(e / z);
    }
  }
}
