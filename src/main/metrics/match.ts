/**
 * @file Ultralytics' `match_predictions` (engine/validator.py): which predictions are true
 * positives at each IoU threshold 0.50:0.05:0.95, as the `[nPred, 10]` "correct" matrix that
 * ap_per_class consumes.
 *
 * Their non-scipy path, per threshold: take every (label, prediction) pair with the same class and
 * IoU >= threshold; sort the pairs by IoU, descending; keep the first pair of each prediction (its
 * best label); then keep the first remaining pair of each label *in prediction order* (np.unique
 * over an array that the previous np.unique left sorted by prediction index; the re-sort by IoU is
 * commented out in their code). So a label goes to the earliest prediction, i.e. the most confident
 * one after NMS, among those whose best label it is, not to the one with the highest IoU.
 * Ties in IoU for one prediction go to the higher label index (their argsort()[::-1] on a stable
 * sort); numpy's quicksort makes that tie order unspecified for large arrays, so exact ties are the
 * only place results can differ.
 */

/** torch.linspace(0.5, 0.95, 10) in float32, computed the way torch's CPU kernel does. */
export const IOU_THRESHOLDS: Float32Array = torchLinspaceF32(0.5, 0.95, 10);

/**
 * torch.linspace for float32: step = (end - start) / (steps - 1) in float32; the first half counts
 * up from start, the second half down from end.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const f = Math.fround;
  const s = f(start);
  const e = f(end);
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
  }
  return out;
}

/**
 * The correct matrix for one image.
 *
 * @param predCls class of each prediction, in NMS output order (most confident first)
 * @param trueCls class of each label
 * @param iou `[nLabels, nPred]` row-major, as box_iou(labels, predictions)
 * @param thresholds IoU thresholds (default 0.50:0.05:0.95)
 * @returns `[nPred, nThresholds]` row-major, 1 where the prediction is a true positive
 *
 * @example
 * // one person label, two person predictions overlapping it at IoU 0.9 and 0.6
 * matchPredictions([0, 0], [0], Float32Array.of(0.9, 0.6))
 * // => row 0 correct at every threshold <= 0.9, row 1 never (the label is taken)
 */
export function matchPredictions(
  predCls: ArrayLike<number>,
  trueCls: ArrayLike<number>,
  iou: ArrayLike<number>,
  thresholds: ArrayLike<number> = IOU_THRESHOLDS,
): Uint8Array {
  const nPred = predCls.length;
  const nLabel = trueCls.length;
  const nt = thresholds.length;
  const correct = new Uint8Array(nPred * nt);
  if (nPred === 0 || nLabel === 0) return correct;

  // Best label of each prediction over all labels of its class, and that IoU. Thresholds only
  // decide whether the best pair qualifies: a prediction's best qualifying label at threshold t is
  // its overall best label when that IoU >= t, and nothing otherwise.
  const bestLabel = new Int32Array(nPred).fill(-1);
  const bestIou = new Float64Array(nPred);
  for (let d = 0; d < nPred; d++) {
    const c = predCls[d]!;
    let best = -1;
    let bestV = -1;
    for (let l = 0; l < nLabel; l++) {
      if (trueCls[l] !== c) continue;
      const v = iou[l * nPred + d]!;
      if (v >= bestV) {
        // >=: among equal IoUs the later label wins (reversed stable sort)
        bestV = v;
        best = l;
      }
    }
    bestLabel[d] = best;
    bestIou[d] = bestV;
  }

  // Each label goes to the first prediction (in prediction order) that picked it.
  const taken = new Uint8Array(nLabel);
  for (let t = 0; t < nt; t++) {
    const thr = thresholds[t]!;
    taken.fill(0);
    for (let d = 0; d < nPred; d++) {
      const l = bestLabel[d]!;
      if (l < 0 || !(bestIou[d]! >= thr) || taken[l]) continue;
      taken[l] = 1;
      correct[d * nt + t] = 1;
    }
  }
  return correct;
}
