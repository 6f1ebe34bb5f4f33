/**
 * @file Ultralytics' LetterBox applied to a labelled image, for training (the pre-transform of
 * RandomPerspective when there is no mosaic) and validation (scaleup false, square or rect shape).
 * The pixels come from the shared inference letterbox (../letterbox.ts: Python rounding,
 * OpenCV-exact INTER_LINEAR, pad 114), so training, validation and inference see the same image;
 * this module only moves the labels: scaled by the ratio, shifted by the (integer) left/top pad,
 * as Ultralytics >= 8.3 does.
 */
import { letterbox, type LetterboxOptions } from '../letterbox';
import { affineBoxes } from './boxes';
import type { LabeledImage } from './types';

/** How letterboxed pixels relate to the image that went in: x_out = x_in * ratio + pad. */
export interface RatioPad {
  /** [w, h] gains. */
  ratio: [number, number];
  /** [left, top] pad in pixels. */
  pad: [number, number];
}

export interface LetterboxedLabels extends LabeledImage {
  ratioPad: RatioPad;
}

/**
 * LetterBox(new_shape, auto, scaleup, center, stride) on an image and its labels.
 * @example letterboxLabels({ image: 320x240, ... }, { newShape: 320 }) // 40 px grey above and below
 */
export function letterboxLabels(input: LabeledImage, opts: LetterboxOptions): LetterboxedLabels {
  const lb = letterbox(input.image, opts);
  // Ultralytics scales boxes by r on both axes (not by the rounded sizes).
  const boxes = affineBoxes(input.boxes, lb.ratio, lb.ratio, lb.pad.left, lb.pad.top);
  return {
    image: { data: lb.data, width: lb.width, height: lb.height },
    cls: input.cls.slice(),
    boxes,
    ratioPad: { ratio: [lb.ratio, lb.ratio], pad: [lb.pad.left, lb.pad.top] },
  };
}
