/**
 * @file Average precision as Ultralytics computes it (utils/metrics.py `compute_ap`,
 * `ap_per_class`), so our mAP reads the same as theirs on the same predictions.
 *
 * - compute_ap: recall/precision with sentinels (recall 0 -> precision 1, recall 1 -> precision 0),
 *   the precision envelope (running max from the right), then np.interp at 101 recall points
 *   (0, 0.01, ..., 1) integrated with np.trapz. That is trapezoidal, not pycocotools' mean of the
 *   101 points, so values differ slightly from pycocotools.
 * - ap_per_class: predictions sorted by confidence, per class (classes that have labels, ascending)
 *   cumulative TP/FP, recall = TP / n_labels, precision = TP / (TP + FP); AP at each IoU
 *   threshold; P and R curves sampled at 1000 confidences (0..1); F1 from them; the reported P, R,
 *   F1 are taken at the confidence index that maximises the box-filtered (f = 0.1) mean F1.
 */
import { argmax, interp, linspace, pyRound, smooth, trapz } from './numeric';

/** Ultralytics' eps in ap_per_class. */
const EPS = 1e-16;

/** 101 recall points of COCO's interpolated AP. */
const RECALL_POINTS = linspace(0, 1, 101);

/** Number of confidence samples of the P, R, F1 curves. */
export const CURVE_POINTS = 1000;

export interface ApResult {
  ap: number;
  /** Precision envelope with sentinels, the curve AP integrates. */
  mpre: Float64Array;
  /** Recall with sentinels. */
  mrec: Float64Array;
}

/** compute_ap: AP of one recall/precision curve (recall ascending, same length as precision). */
export function computeAp(recall: ArrayLike<number>, precision: ArrayLike<number>): ApResult {
  const n = recall.length;
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  mrec[0] = 0;
  mpre[0] = 1;
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i]!;
    mpre[i + 1] = precision[i]!;
  }
  mrec[n + 1] = 1;
  mpre[n + 1] = 0;
  for (let i = n; i >= 0; i--) if (mpre[i + 1]! > mpre[i]!) mpre[i] = mpre[i + 1]!;
  const ap = trapz(interp(RECALL_POINTS, mrec, mpre), RECALL_POINTS);
  return { ap, mpre, mrec };
}

export interface ApPerClassInput {
  /** `[n, niou]` row-major: 1 where prediction i is a true positive at IoU threshold j. */
  tp: Uint8Array;
  /** Number of IoU thresholds (columns of tp). */
  niou: number;
  /** Confidence of each prediction (float32 as the model gave it). */
  conf: ArrayLike<number>;
  /** Class of each prediction. */
  predCls: ArrayLike<number>;
  /** Number of labels of each class id (index = class id); classes with 0 labels are not scored. */
  targetCounts: ArrayLike<number>;
}

export interface ApPerClassResult {
  /** Class ids that have labels, ascending (Ultralytics' ap_class_index). Rows of every array below. */
  classes: Int32Array;
  /** Labels per scored class. */
  nt: Int32Array;
  /** `[nc, niou]` AP per class and IoU threshold. */
  ap: Float64Array;
  niou: number;
  /** Precision, recall, F1 per class at the max-F1 confidence. */
  p: Float64Array;
  r: Float64Array;
  f1: Float64Array;
  /** TP and FP counts per class at that confidence, as Ultralytics estimates them from P and R. */
  tpAtMaxF1: Float64Array;
  fpAtMaxF1: Float64Array;
  /** Index into px of the max-F1 confidence, and that confidence. */
  maxF1Index: number;
  maxF1Conf: number;
  /** 1000 points 0..1: the confidences of the P/R/F1 curves, and the recalls of prCurve. */
  px: Float64Array;
  /** `[nc, 1000]` precision, recall and F1 against confidence px. */
  pCurve: Float64Array;
  rCurve: Float64Array;
  f1Curve: Float64Array;
  /**
   * `[nc, 1000]` interpolated precision (envelope) at recall px, IoU 0.5: the PR curve. Zero rows
   * for classes without predictions (Ultralytics leaves those rows out of its plot array).
   */
  prCurve: Float64Array;
}

/**
 * ap_per_class over the accumulated predictions of a whole dataset.
 * Predictions of equal confidence keep their input order (numpy's sort leaves that unspecified).
 */
export function apPerClass(input: ApPerClassInput): ApPerClassResult {
  const { tp, niou, conf, predCls, targetCounts } = input;
  const n = conf.length;

  const classList: number[] = [];
  for (let c = 0; c < targetCounts.length; c++) if (targetCounts[c]! > 0) classList.push(c);
  const classes = Int32Array.from(classList);
  const nc = classes.length;
  const nt = Int32Array.from(classList, (c) => targetCounts[c]!);
  const rowOf = new Map<number, number>();
  classList.forEach((c, i) => rowOf.set(c, i));

  // Bucket predictions by scored class, then sort each bucket by confidence (descending, stable).
  const counts = new Int32Array(nc + 1);
  for (let i = 0; i < n; i++) {
    const row = rowOf.get(predCls[i]!);
    if (row !== undefined) counts[row + 1]!++;
  }
  for (let k = 0; k < nc; k++) counts[k + 1]! += counts[k]!;
  const starts = counts.slice();
  const order = new Int32Array(counts[nc]!);
  for (let i = 0; i < n; i++) {
    const row = rowOf.get(predCls[i]!);
    if (row !== undefined) order[starts[row]!++] = i;
  }

  const px = linspace(0, 1, CURVE_POINTS);
  const negPx = px.map((v) => -v);
  const ap = new Float64Array(nc * niou);
  const pCurve = new Float64Array(nc * CURVE_POINTS);
  const rCurve = new Float64Array(nc * CURVE_POINTS);
  const prCurve = new Float64Array(nc * CURVE_POINTS);

  for (let ci = 0; ci < nc; ci++) {
    const idx = order.subarray(counts[ci]!, counts[ci + 1]!);
    idx.sort((a, b) => conf[b]! - conf[a]! || a - b);
    const np = idx.length;
    const nl = nt[ci]!;
    if (np === 0 || nl === 0) continue;

    const negConf = new Float64Array(np);
    for (let k = 0; k < np; k++) negConf[k] = -conf[idx[k]!]!;
    const recall = new Float64Array(np);
    const precision = new Float64Array(np);
    for (let j = 0; j < niou; j++) {
      let tpc = 0;
      let fpc = 0;
      for (let k = 0; k < np; k++) {
        if (tp[idx[k]! * niou + j]) tpc++;
        else fpc++;
        recall[k] = tpc / (nl + EPS);
        precision[k] = tpc / (tpc + fpc);
      }
      const res = computeAp(recall, precision);
      ap[ci * niou + j] = res.ap;
      if (j === 0) {
        rCurve.set(interp(negPx, negConf, recall, 0), ci * CURVE_POINTS);
        pCurve.set(interp(negPx, negConf, precision, 1), ci * CURVE_POINTS);
        prCurve.set(interp(px, res.mrec, res.mpre), ci * CURVE_POINTS);
      }
    }
  }

  const f1Curve = new Float64Array(nc * CURVE_POINTS);
  for (let k = 0; k < f1Curve.length; k++) {
    const p = pCurve[k]!;
    const r = rCurve[k]!;
    f1Curve[k] = (2 * p * r) / (p + r + EPS);
  }
  const meanF1 = new Float64Array(CURVE_POINTS);
  if (nc > 0) {
    for (let ci = 0; ci < nc; ci++) for (let k = 0; k < CURVE_POINTS; k++) meanF1[k]! += f1Curve[ci * CURVE_POINTS + k]!;
    for (let k = 0; k < CURVE_POINTS; k++) meanF1[k]! /= nc;
  }
  const maxF1Index = argmax(smooth(meanF1, 0.1));

  const p = new Float64Array(nc);
  const r = new Float64Array(nc);
  const f1 = new Float64Array(nc);
  const tpAtMaxF1 = new Float64Array(nc);
  const fpAtMaxF1 = new Float64Array(nc);
  for (let ci = 0; ci < nc; ci++) {
    p[ci] = pCurve[ci * CURVE_POINTS + maxF1Index]!;
    r[ci] = rCurve[ci * CURVE_POINTS + maxF1Index]!;
    f1[ci] = f1Curve[ci * CURVE_POINTS + maxF1Index]!;
    tpAtMaxF1[ci] = pyRound(r[ci]! * nt[ci]!);
    fpAtMaxF1[ci] = pyRound(tpAtMaxF1[ci]! / (p[ci]! + EPS) - tpAtMaxF1[ci]!);
  }

  return {
    classes,
    nt,
    ap,
    niou,
    p,
    r,
    f1,
    tpAtMaxF1,
    fpAtMaxF1,
    maxF1Index,
    maxF1Conf: px[maxF1Index]!,
    px,
    pCurve,
    rCurve,
    f1Curve,
    prCurve,
  };
}
