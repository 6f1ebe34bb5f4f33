/**
 * @file TaskAlignedAssigner of ultralytics/utils/tal.py (Ultralytics 8.3.186), in plain TypeScript.
 *
 * Why not tfjs: the assigner runs without gradients (Ultralytics wraps it in torch.no_grad) and is
 * made of masks, top-k, argmax and scatters over [B, maxGT, N] (N = 8400 at 640). On tfjs' cpu and
 * wasm backends each of those is a kernel allocating a fresh [B, maxGT, N] tensor, and tfjs has no
 * top-k with torch's tie-break. Here one pass per ground truth visits only the anchors inside its
 * box (the metric is 0 elsewhere), reads the predictions it needs through accessors (the class
 * score of that box's class and the decoded box, of candidate anchors only: a few hundred of the
 * B * N), reproduces torch's top-k exactly (torch-topk.ts), and returns per-anchor results (label,
 * score, box, fg) that the loss feeds to tfjs as constants.
 *
 * Numerics follow torch's float32 where they decide anything discrete: inputs are float32, the
 * in-box test compares float32 differences, CIoU is computed in float64 and rounded to float32, and
 * the metric s^alpha * u^beta is rounded to float32 step by step (a metric that underflows to 0 in
 * torch is 0 here too, and joins the tie-break among zeros).
 */
import { ciou } from './iou';
import { torchTopkIndices } from './torch-topk';

const f32 = Math.fround;

export interface AssignerOptions {
  /** Anchors per ground truth. v8DetectionLoss uses 10 (the class default is 13). */
  topk?: number;
  /** Number of classes (the background label is nc). */
  numClasses: number;
  /** Exponent of the class score. v8DetectionLoss uses 0.5 (class default 1.0). */
  alpha?: number;
  /** Exponent of the CIoU. */
  beta?: number;
  eps?: number;
}

export interface AssignerInput {
  /** Batch size B. */
  bs: number;
  /** Ground truths per image after padding (G = n_max_boxes). */
  nMaxBoxes: number;
  /**
   * Predicted score (sigmoid) of class c at anchor a of image b: Ultralytics' pd_scores[b, a, c].
   * Only asked for anchors inside a ground truth, with that ground truth's class.
   */
  scoreOf: (b: number, a: number, c: number) => number;
  /**
   * Predicted box of anchor a of image b, xyxy in pixels, written to out[0..3]: pd_bboxes[b, a].
   * Only asked for anchors inside some ground truth.
   */
  boxOf: (b: number, a: number, out: Float64Array) => void;
  /** Anchor centres in pixels, [N, 2] (x, y). */
  ancPoints: Float32Array;
  /** Class of each ground truth, [B, G]. */
  gtLabels: ArrayLike<number>;
  /** Ground-truth boxes, xyxy in pixels, [B, G, 4]. */
  gtBboxes: Float32Array;
  /** 1 for real ground truths, 0 for padding, [B, G]. */
  maskGt: ArrayLike<number>;
}

/** scoreOf / boxOf over dense arrays: pdScores [B, N, nc] (sigmoid), pdBboxes [B, N, 4] xyxy pixels. */
export function denseAccessors(
  pdScores: ArrayLike<number>,
  pdBboxes: ArrayLike<number>,
  na: number,
  nc: number,
): Pick<AssignerInput, 'scoreOf' | 'boxOf'> {
  return {
    scoreOf: (b, a, c) => pdScores[(b * na + a) * nc + c]!,
    boxOf: (b, a, out) => {
      const o = (b * na + a) * 4;
      for (let j = 0; j < 4; j++) out[j] = pdBboxes[o + j]!;
    },
  };
}

export interface AssignerResult {
  /** Class assigned to each anchor (that of GT targetGtIdx; meaningful where fgMask), [B, N]. */
  targetLabels: Int32Array;
  /** Box assigned to each anchor, xyxy pixels, [B, N, 4]. */
  targetBboxes: Float32Array;
  /**
   * Normalised alignment target of each anchor, [B, N] (0 for background). Ultralytics' dense
   * target_scores [B, N, nc] is oneHot(targetLabels) * targetScore (see denseTargetScores).
   */
  targetScore: Float32Array;
  /** 1 for foreground anchors, [B, N]. */
  fgMask: Uint8Array;
  /** Index of the ground truth each anchor serves (0 for background), [B, N]. */
  targetGtIdx: Int32Array;
}

/** Ultralytics' target_scores [B, N, nc] from an assigner result. */
export function denseTargetScores(r: AssignerResult, nc: number): Float32Array {
  const out = new Float32Array(r.targetScore.length * nc);
  for (let a = 0; a < r.targetScore.length; a++) {
    if (r.fgMask[a]) out[a * nc + r.targetLabels[a]!] = r.targetScore[a]!;
  }
  return out;
}

export class TaskAlignedAssigner {
  readonly topk: number;
  readonly numClasses: number;
  readonly bgIdx: number;
  readonly alpha: number;
  readonly beta: number;
  readonly eps: number;

  constructor(opts: AssignerOptions) {
    this.topk = opts.topk ?? 13;
    this.numClasses = opts.numClasses;
    this.bgIdx = opts.numClasses;
    this.alpha = opts.alpha ?? 1.0;
    this.beta = opts.beta ?? 6.0;
    this.eps = opts.eps ?? 1e-9;
  }

  /** TaskAlignedAssigner.forward: assigns ground truths to anchors. */
  forward(input: AssignerInput): AssignerResult {
    const { bs, nMaxBoxes: G } = input;
    const na = input.ancPoints.length / 2;
    const out: AssignerResult = {
      targetLabels: new Int32Array(bs * na).fill(this.bgIdx),
      targetBboxes: new Float32Array(bs * na * 4),
      targetScore: new Float32Array(bs * na),
      fgMask: new Uint8Array(bs * na),
      targetGtIdx: new Int32Array(bs * na),
    };
    if (G === 0) return out;
    out.targetLabels.fill(0);

    // per image scratch, [G, N]
    const overlaps = new Float32Array(G * na);
    const align = new Float32Array(G * na);
    const maskPos = new Uint8Array(G * na);
    const count = new Int32Array(na);
    const inGt = new Uint8Array(na);
    const box = new Float64Array(4);
    const boxes = new Float64Array(na * 4); // predicted boxes of this image, filled on first use
    const haveBox = new Uint8Array(na);
    const candidates: Int32Array[] = []; // per GT: anchors whose centre lies inside the box

    for (let b = 0; b < bs; b++) {
      overlaps.fill(0);
      align.fill(0);
      maskPos.fill(0);
      haveBox.fill(0);
      candidates.length = 0;

      // get_pos_mask: select_candidates_in_gts, get_box_metrics, select_topk_candidates
      for (let g = 0; g < G; g++) {
        const cand = this.candidatesInGt(input.ancPoints, input.gtBboxes, (b * G + g) * 4);
        candidates.push(cand);
        if (!input.maskGt[b * G + g]) continue;
        const label = Math.trunc(input.gtLabels[b * G + g]!);
        const gb = (b * G + g) * 4;
        const [gx1, gy1, gx2, gy2] = [input.gtBboxes[gb]!, input.gtBboxes[gb + 1]!, input.gtBboxes[gb + 2]!, input.gtBboxes[gb + 3]!];
        for (const a of cand) {
          if (!haveBox[a]) {
            input.boxOf(b, a, box);
            boxes.set(box, a * 4);
            haveBox[a] = 1;
          }
          const s = input.scoreOf(b, a, label);
          const p = a * 4;
          const u = f32(Math.max(ciou(gx1, gy1, gx2, gy2, boxes[p]!, boxes[p + 1]!, boxes[p + 2]!, boxes[p + 3]!), 0)); // clamp_(0)
          overlaps[g * na + a] = u;
          align[g * na + a] = f32(f32(Math.pow(s, this.alpha)) * f32(Math.pow(u, this.beta)));
        }
        // top-k over all anchors (non-candidates have metric 0), with torch's CPU tie-break
        const top = torchTopkIndices(align, Math.min(this.topk, na), g * na, na);
        // mask_pos = mask_topk * mask_in_gts * mask_gt (the top-k indices of a real GT are distinct)
        for (const a of cand) inGt[a] = 1;
        for (const a of top) if (inGt[a]) maskPos[g * na + a] = 1;
        for (const a of cand) inGt[a] = 0;
      }

      // select_highest_overlaps: an anchor positive for several GTs keeps the GT of highest CIoU
      // (argmax over every GT's overlaps, first index on ties, as torch.argmax)
      count.fill(0);
      for (let g = 0; g < G; g++) for (const a of candidates[g]!) count[a]! += maskPos[g * na + a]!;
      for (let a = 0; a < na; a++) {
        if (count[a]! <= 1) continue;
        let best = 0;
        for (let g = 1; g < G; g++) if (overlaps[g * na + a]! > overlaps[best * na + a]!) best = g;
        for (let g = 0; g < G; g++) maskPos[g * na + a] = g === best ? 1 : 0;
      }

      // normalisation: per GT, the highest metric and the highest CIoU over its positives
      const posAlign = new Float32Array(G);
      const posOverlap = new Float32Array(G);
      for (let g = 0; g < G; g++) {
        for (let a = 0; a < na; a++) {
          if (!maskPos[g * na + a]) continue;
          posAlign[g] = Math.max(posAlign[g]!, align[g * na + a]!);
          posOverlap[g] = Math.max(posOverlap[g]!, overlaps[g * na + a]!);
        }
      }

      // get_targets + normalised scores. After the conflict pass each anchor has at most one GT.
      for (let g = 0; g < G; g++) {
        for (let a = 0; a < na; a++) {
          if (!maskPos[g * na + a]) continue;
          const o = b * na + a;
          out.fgMask[o] = 1;
          out.targetGtIdx[o] = g;
          out.targetScore[o] = f32(f32(align[g * na + a]! * posOverlap[g]!) / f32(posAlign[g]! + this.eps));
        }
      }
      for (let a = 0; a < na; a++) {
        const o = b * na + a;
        const g = out.targetGtIdx[o]!; // argmax over GTs of mask_pos: 0 for background anchors
        out.targetLabels[o] = Math.max(0, Math.trunc(input.gtLabels[b * G + g]!));
        const gb = (b * G + g) * 4;
        out.targetBboxes.set(input.gtBboxes.subarray(gb, gb + 4), o * 4);
      }
    }
    return out;
  }

  /**
   * select_candidates_in_gts: anchors whose centre is strictly inside the box,
   * min(x - x1, y - y1, x2 - x, y2 - y) > eps (the differences in float32).
   */
  candidatesInGt(ancPoints: Float32Array, gtBboxes: Float32Array, offset: number, eps = 1e-9): Int32Array {
    const [x1, y1, x2, y2] = [gtBboxes[offset]!, gtBboxes[offset + 1]!, gtBboxes[offset + 2]!, gtBboxes[offset + 3]!];
    const na = ancPoints.length / 2;
    const out: number[] = [];
    for (let a = 0; a < na; a++) {
      const x = ancPoints[2 * a]!;
      const y = ancPoints[2 * a + 1]!;
      const d = Math.min(f32(x - x1), f32(y - y1), f32(x2 - x), f32(y2 - y));
      if (d > eps) out.push(a);
    }
    return Int32Array.from(out);
  }
}
