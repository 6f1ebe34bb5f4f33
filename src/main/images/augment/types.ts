/**
 * @file What the augmentations pass along: an image and its labels, boxes in image pixels (xyxy).
 * Every transform is pure: it returns new pixels and new label arrays and never touches its input,
 * so cached images can be handed to it directly.
 */
import type { RawImage } from '../raw-image';

/** Labels of one image: class ids and boxes, `boxes` holding x1, y1, x2, y2 in pixels per box. */
export interface Labels {
  cls: number[];
  /** [N, 4] xyxy pixels. */
  boxes: Float32Array;
}

/** An image with its labels (Ultralytics' `labels` dict: img, cls, instances). */
export interface LabeledImage extends Labels {
  image: RawImage;
}

/** Ultralytics' augmentation hyperparameters (cfg/default.yaml), under their own names. */
export interface Hyp {
  /** Hue gain, fraction of the hue circle. */
  hsv_h: number;
  /** Saturation gain (fraction). */
  hsv_s: number;
  /** Value gain (fraction). */
  hsv_v: number;
  /** Rotation range, +/- degrees. */
  degrees: number;
  /** Translation, +/- fraction of the output size. */
  translate: number;
  /** Scale gain: the scale is drawn from [1 - scale, 1 + scale]. */
  scale: number;
  /** Shear range, +/- degrees. */
  shear: number;
  /** Perspective range, +/- (0 to 0.001 is sensible). */
  perspective: number;
  /** Probability of a vertical flip. */
  flipud: number;
  /** Probability of a horizontal flip. */
  fliplr: number;
  /** Probability of a 4-image mosaic. */
  mosaic: number;
  /** Probability of MixUp. */
  mixup: number;
  /** Turn mosaic (and mixup) off for the last N epochs. */
  close_mosaic: number;
}

/** Ultralytics' defaults for detection training. */
export const DEFAULT_HYP: Readonly<Hyp> = Object.freeze({
  hsv_h: 0.015,
  hsv_s: 0.7,
  hsv_v: 0.4,
  degrees: 0,
  translate: 0.1,
  scale: 0.5,
  shear: 0,
  perspective: 0,
  flipud: 0,
  fliplr: 0.5,
  mosaic: 1,
  mixup: 0,
  close_mosaic: 10,
});

/** Number of boxes in a label set. */
export function boxCount(labels: Labels): number {
  return labels.boxes.length / 4;
}
