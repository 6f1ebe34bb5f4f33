/**
 * @file The training and validation transforms, in Ultralytics' order (data/augment.py
 * v8_transforms and YOLODataset.build_transforms):
 *
 *   train: Mosaic(p = mosaic) -> RandomPerspective(border -s/2 after a mosaic, else LetterBox(s)
 *          first) -> MixUp(p = mixup) -> RandomHSV -> RandomFlip(vertical, flipud)
 *          -> RandomFlip(horizontal, fliplr)
 *   val:   LetterBox(s or the batch's rect shape, scaleup = false)
 *
 * Not reproduced: Albumentations (Blur, MedianBlur, ToGray, CLAHE at p 0.01 each; Ultralytics only
 * runs them when the optional albumentations package is installed) and CopyPaste (segments only).
 *
 * Images come from a `SampleSource` already resized so the long side is imgsz (load_image), with
 * boxes in those pixels. All randomness comes from the `rng` passed in, so a sample is a pure
 * function of (source, index, rng seed).
 */
import type { Rng } from '../../util/rng';
import { loadTrainImage, type LoadImageOptions, type RawImage } from '../raw-image';
import { randomPerspective } from './affine';
import { affineBoxes } from './boxes';
import { randomFlip } from './flip';
import { randomHsv } from './hsv';
import { letterboxLabels, type RatioPad } from './letterbox';
import { beta, mixup } from './mixup';
import { mosaic4 } from './mosaic';
import { DEFAULT_HYP, type Hyp, type LabeledImage } from './types';

/** An image as load_image returns it (long side = imgsz) with its labels in those pixels. */
export interface LoadedSample extends LabeledImage {
  /** Size of the image file before the resize. */
  original: { width: number; height: number };
}

/** Where the transforms get images from (the dataset, or a worker's cache in front of it). */
export interface SampleSource {
  /** Number of images. */
  readonly size: number;
  /** The image at `index`, resized so the long side is imgsz. Must not be mutated by the caller. */
  load(index: number): Promise<LoadedSample>;
}

/**
 * Decodes an image file, resizes it like load_image and brings its labels along. `boxes` are xyxy
 * pixels of the image at `labelSize` (the size the labels were drawn on; default the decoded size):
 * they are normalised by it and denormalised by the resized size, as Ultralytics' labels are.
 */
export async function loadLabeledImage(
  file: string,
  labels: { cls: readonly number[]; boxes: ArrayLike<number> },
  imgsz: number,
  opts: LoadImageOptions & { labelSize?: { width: number; height: number } } = {},
): Promise<LoadedSample> {
  const { image, original } = await loadTrainImage(file, imgsz, opts);
  const ref = opts.labelSize ?? original;
  const boxes = affineBoxes(Float32Array.from(labels.boxes), image.width / ref.width, image.height / ref.height, 0, 0);
  return { image, cls: labels.cls.slice(), boxes, original };
}

/** One transformed image with its labels, ready to collate. */
export interface TransformResult {
  /** imgsz x imgsz for training; the letterbox shape for validation. */
  image: RawImage;
  cls: number[];
  /** [N, 4] xyxy pixels of `image`. */
  boxes: Float32Array;
  /** Validation: how `image` pixels map to the original file's pixels (x_img = x_orig * ratio + pad). Null in training. */
  ratioPad: RatioPad | null;
}

export interface TrainTransformOptions {
  imgsz: number;
  /** Mosaic allowed this epoch (false for the last close_mosaic epochs). */
  mosaic: boolean;
  hyp?: Hyp;
  /**
   * Indexes of the other mosaic images. Ultralytics picks them from its buffer of recently loaded
   * images; the loader passes a chooser that does the same. Default: uniform over the source.
   */
  pickIndexes?: (rng: Rng, count: number) => number[];
}

/**
 * Ultralytics' training transform of image `index` (v8_transforms). Output is imgsz x imgsz.
 */
export async function trainTransform(index: number, source: SampleSource, rng: Rng, opts: TrainTransformOptions): Promise<TransformResult> {
  const hyp = opts.hyp ?? DEFAULT_HYP;
  const s = opts.imgsz;
  const pick = opts.pickIndexes ?? ((r: Rng, k: number) => Array.from({ length: k }, () => r.int(source.size)));
  const mosaicP = opts.mosaic ? hyp.mosaic : 0;

  // Mosaic -> RandomPerspective (the pre_transform both Ultralytics' main path and MixUp use).
  const preTransform = async (i: number): Promise<LabeledImage> => {
    const first = await source.load(i);
    const u = rng.next();
    if (mosaicP > 0 && u <= mosaicP) {
      const others = await Promise.all(pick(rng, 3).map((j) => source.load(j)));
      const m = mosaic4([first, ...others], s, rng);
      return randomPerspective(m, rng, hyp, m.border);
    }
    // No mosaic: LetterBox(imgsz) first (a no-op resize since the long side is already imgsz).
    return randomPerspective(letterboxLabels(first, { newShape: s }), rng, hyp, 0);
  };

  let out = await preTransform(index);
  if (hyp.mixup > 0 && opts.mosaic) {
    const u = rng.next();
    if (u <= hyp.mixup) {
      const other = await preTransform(rng.int(source.size));
      out = mixup(out, other, beta(32, 32, rng));
    }
  }
  out = { ...out, image: randomHsv(out.image, rng, hyp) };
  out = randomFlip(out, rng, 'vertical', hyp.flipud);
  out = randomFlip(out, rng, 'horizontal', hyp.fliplr);
  return { image: out.image, cls: out.cls, boxes: out.boxes, ratioPad: null };
}

export interface ValTransformOptions {
  imgsz: number;
  /** Rect validation: the batch's [height, width] (multiples of the stride). Default imgsz x imgsz. */
  shape?: [number, number];
}

/**
 * Ultralytics' validation transform: LetterBox(new_shape, scaleup=False), centred, pad 114. With
 * no shape this is the square letterbox a batch of 1 (or ONNX inference) sees.
 */
export function valTransform(sample: LoadedSample, opts: ValTransformOptions): TransformResult {
  const lb = letterboxLabels(sample, { newShape: opts.shape ?? opts.imgsz, scaleup: false });
  const rw = (sample.image.width / sample.original.width) * lb.ratioPad.ratio[0];
  const rh = (sample.image.height / sample.original.height) * lb.ratioPad.ratio[1];
  return { image: lb.image, cls: lb.cls, boxes: lb.boxes, ratioPad: { ratio: [rw, rh], pad: lb.ratioPad.pad } };
}
