/**
 * @file bbox_iou(box1, box2, xywh=False, CIoU=True, eps=1e-7) of ultralytics/utils/metrics.py, twice:
 * in tfjs (differentiable, for the box loss) and in plain TypeScript on numbers (for the
 * TaskAlignedAssigner, which runs without gradients on typed arrays).
 *
 * CIoU = IoU - (rho^2 / c^2 + v * alpha), with
 *   w, h      box sizes, the heights padded by eps (h = y2 - y1 + eps),
 *   rho^2     squared distance of the centres, c^2 the squared diagonal of the enclosing box (+ eps),
 *   v         (4 / pi^2) * (atan(w2 / h2) - atan(w1 / h1))^2,
 *   alpha     v / (v - IoU + 1 + eps), computed under torch.no_grad() (no gradient flows through it).
 */
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './tf-util';

export const IOU_EPS = 1e-7;
const FOUR_OVER_PI2 = 4 / Math.PI ** 2;

/**
 * Complete IoU of xyxy boxes, differentiable through box1 and box2 (alpha detached as in Ultralytics).
 * [..., 4], [..., 4] (broadcastable) -> [...]
 */
export function bboxCiou(box1: tf.Tensor, box2: tf.Tensor, eps = IOU_EPS): tf.Tensor {
  return tf.tidy(() => {
    const axis = box1.rank - 1;
    const [b1x1, b1y1, b1x2, b1y2] = tf.split(box1, 4, axis) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]; // [..., 1]
    const [b2x1, b2y1, b2x2, b2y2] = tf.split(box2, 4, box2.rank - 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const w1 = tf.sub(b1x2, b1x1);
    const h1 = tf.add(tf.sub(b1y2, b1y1), eps);
    const w2 = tf.sub(b2x2, b2x1);
    const h2 = tf.add(tf.sub(b2y2, b2y1), eps);

    // clamp_(0) as tf.maximum: its gradient at exactly 0 passes through like torch's clamp_min
    const iw = tf.maximum(tf.sub(tf.minimum(b1x2, b2x2), tf.maximum(b1x1, b2x1)), 0);
    const ih = tf.maximum(tf.sub(tf.minimum(b1y2, b2y2), tf.maximum(b1y1, b2y1)), 0);
    const inter = tf.mul(iw, ih);
    const union = tf.add(tf.sub(tf.add(tf.mul(w1, h1), tf.mul(w2, h2)), inter), eps);
    const iou = tf.div(inter, union);

    const cw = tf.sub(tf.maximum(b1x2, b2x2), tf.minimum(b1x1, b2x1)); // enclosing box
    const ch = tf.sub(tf.maximum(b1y2, b2y2), tf.minimum(b1y1, b2y1));
    const c2 = tf.add(tf.add(tf.square(cw), tf.square(ch)), eps);
    const dx = tf.sub(tf.sub(tf.add(b2x1, b2x2), b1x1), b1x2);
    const dy = tf.sub(tf.sub(tf.add(b2y1, b2y2), b1y1), b1y2);
    const rho2 = tf.div(tf.add(tf.square(dx), tf.square(dy)), 4);
    const v = tf.mul(tf.square(tf.sub(tf.atan(tf.div(w2, h2)), tf.atan(tf.div(w1, h1)))), FOUR_OVER_PI2);
    const alpha = stopGradient(tf.div(v, tf.add(tf.sub(v, iou), 1 + eps)));
    const ciou = tf.sub(iou, tf.add(tf.div(rho2, c2), tf.mul(v, alpha))); // [..., 1]
    return tf.squeeze(ciou, [ciou.rank - 1]);
  });
}

/**
 * The same CIoU on plain numbers (float64), boxes xyxy. Used by the assigner, where the two boxes
 * are a ground truth (box1) and a prediction (box2).
 */
export function ciou(
  b1x1: number,
  b1y1: number,
  b1x2: number,
  b1y2: number,
  b2x1: number,
  b2y1: number,
  b2x2: number,
  b2y2: number,
  eps = IOU_EPS,
): number {
  const w1 = b1x2 - b1x1;
  const h1 = b1y2 - b1y1 + eps;
  const w2 = b2x2 - b2x1;
  const h2 = b2y2 - b2y1 + eps;
  const inter = Math.max(Math.min(b1x2, b2x2) - Math.max(b1x1, b2x1), 0) * Math.max(Math.min(b1y2, b2y2) - Math.max(b1y1, b2y1), 0);
  const union = w1 * h1 + w2 * h2 - inter + eps;
  const iou = inter / union;
  const cw = Math.max(b1x2, b2x2) - Math.min(b1x1, b2x1);
  const ch = Math.max(b1y2, b2y2) - Math.min(b1y1, b2y1);
  const c2 = cw * cw + ch * ch + eps;
  const dx = b2x1 + b2x2 - b1x1 - b1x2;
  const dy = b2y1 + b2y2 - b1y1 - b1y2;
  const rho2 = (dx * dx + dy * dy) / 4;
  const da = Math.atan(w2 / h2) - Math.atan(w1 / h1);
  const v = FOUR_OVER_PI2 * da * da;
  const alpha = v / (v - iou + (1 + eps));
  return iou - (rho2 / c2 + v * alpha);
}
