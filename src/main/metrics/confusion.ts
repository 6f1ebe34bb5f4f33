/**
 * @file Ultralytics' detection ConfusionMatrix (utils/metrics.py): an (nc + 1) x (nc + 1) count
 * matrix, rows = predicted class, columns = true class, the last row and column "background".
 *
 * Per image: predictions with conf > 0.25 only (their validator passes conf 0.001 and the matrix
 * swaps in 0.25); pairs (label, prediction) with IoU > 0.45 regardless of class; each prediction
 * keeps its highest-IoU label, then each label its highest-IoU prediction. A matched label counts
 * at [predicted class, true class] (off the diagonal when the class is wrong), an unmatched label
 * at [background, true class] (missed), an unmatched prediction at [predicted class, background].
 */
import { boxIou, type XyxyArray } from './iou';

export interface ConfusionOptions {
  /** Confidence threshold for predictions to count. Default 0.25. */
  conf?: number;
  /** IoU above which a prediction and a label match. Default 0.45. */
  iou?: number;
}

export class ConfusionMatrix {
  readonly nc: number;
  readonly conf: number;
  readonly iouThres: number;
  /** `[(nc + 1) * (nc + 1)]` row-major: matrix[pred * (nc + 1) + true]. */
  readonly matrix: Float64Array;

  constructor(nc: number, options: ConfusionOptions = {}) {
    this.nc = nc;
    // Ultralytics: "apply 0.25 if default val conf is passed".
    this.conf = options.conf === undefined || options.conf === 0.001 ? 0.25 : options.conf;
    this.iouThres = options.iou ?? 0.45;
    this.matrix = new Float64Array((nc + 1) * (nc + 1));
  }

  /** Count cell [predicted, true]; `this.nc` is background. */
  at(pred: number, truth: number): number {
    return this.matrix[pred * (this.nc + 1) + truth]!;
  }

  private add(pred: number, truth: number): void {
    this.matrix[pred * (this.nc + 1) + truth]!++;
  }

  /**
   * Adds one image.
   * @param predBoxes `[nPred * 4]` xyxy, @param predConf, @param predCls per prediction
   * @param gtBoxes `[nGt * 4]` xyxy (same pixel space), @param gtCls per label
   */
  processImage(
    predBoxes: XyxyArray,
    predConf: ArrayLike<number>,
    predCls: ArrayLike<number>,
    gtBoxes: XyxyArray,
    gtCls: ArrayLike<number>,
  ): void {
    const bg = this.nc;
    // torch compares float32 tensors with Python floats in float32
    const conf = Math.fround(this.conf);
    const iouThres = Math.fround(this.iouThres);
    const keep: number[] = [];
    for (let i = 0; i < predConf.length; i++) if (predConf[i]! > conf) keep.push(i);
    const nd = keep.length;
    const ng = gtCls.length;
    if (ng === 0) {
      for (const i of keep) this.add(predCls[i]!, bg);
      return;
    }
    if (predConf.length === 0) {
      for (let g = 0; g < ng; g++) this.add(bg, gtCls[g]!);
      return;
    }
    const boxes = new Float32Array(nd * 4);
    keep.forEach((i, k) => boxes.set(predBoxes.subarray(4 * i, 4 * i + 4), 4 * k));
    const iou = boxIou(gtBoxes, boxes); // [ng, nd]

    // Each prediction keeps its best label (ties: later label), then each label its best
    // prediction among those (ties: later prediction), as their two sort + np.unique passes do.
    const bestGt = new Int32Array(nd).fill(-1);
    const bestGtIou = new Float64Array(nd);
    for (let d = 0; d < nd; d++) {
      for (let g = 0; g < ng; g++) {
        const v = iou[g * nd + d]!;
        if (v > iouThres && (bestGt[d]! < 0 || v >= bestGtIou[d]!)) {
          bestGt[d] = g;
          bestGtIou[d] = v;
        }
      }
    }
    const gtMatch = new Int32Array(ng).fill(-1);
    const gtMatchIou = new Float64Array(ng);
    for (let d = 0; d < nd; d++) {
      const g = bestGt[d]!;
      if (g < 0) continue;
      if (gtMatch[g]! < 0 || bestGtIou[d]! >= gtMatchIou[g]!) {
        gtMatch[g] = d;
        gtMatchIou[g] = bestGtIou[d]!;
      }
    }

    const predMatched = new Uint8Array(nd);
    for (let g = 0; g < ng; g++) {
      const d = gtMatch[g]!;
      if (d >= 0) {
        this.add(predCls[keep[d]!]!, gtCls[g]!);
        predMatched[d] = 1;
      } else {
        this.add(bg, gtCls[g]!);
      }
    }
    for (let d = 0; d < nd; d++) if (!predMatched[d]) this.add(predCls[keep[d]!]!, bg);
  }

  /** True and false positives per class (background left out), as Ultralytics' tp_fp. */
  tpFp(): { tp: Float64Array; fp: Float64Array } {
    const n = this.nc + 1;
    const tp = new Float64Array(this.nc);
    const fp = new Float64Array(this.nc);
    for (let c = 0; c < this.nc; c++) {
      let row = 0;
      for (let t = 0; t < n; t++) row += this.matrix[c * n + t]!;
      tp[c] = this.matrix[c * n + c]!;
      fp[c] = row - tp[c]!;
    }
    return { tp, fp };
  }

  /** Column-normalised copy (each true class sums to 1), as in confusion_matrix_normalized.png. */
  normalized(): Float64Array {
    const n = this.nc + 1;
    const out = new Float64Array(n * n);
    for (let t = 0; t < n; t++) {
      let col = 0;
      for (let p = 0; p < n; p++) col += this.matrix[p * n + t]!;
      for (let p = 0; p < n; p++) out[p * n + t] = this.matrix[p * n + t]! / (col + 1e-9);
    }
    return out;
  }

  /** Rows as plain arrays (predicted x true), for JSON. */
  toRows(normalize = false): number[][] {
    const m = normalize ? this.normalized() : this.matrix;
    const n = this.nc + 1;
    return Array.from({ length: n }, (_, p) => Array.from(m.subarray(p * n, (p + 1) * n)));
  }
}
