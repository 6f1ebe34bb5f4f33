/**
 * @file Model input for Ultralytics detectors and the way back to image pixels.
 *
 * Two preprocessing modes, as Ultralytics has two:
 * - 'predict' (Predictor): LetterBox(imgsz, auto=False, scaleup=True): resize by
 *   r = min(H / h0, W / w0) to (round(w0 r), round(h0 r)), pad with 114 to the full square.
 * - 'val' (YOLODataset, rect=False): load_image resizes the long side to imgsz with
 *   (min(ceil(w0 r), imgsz), min(ceil(h0 r), imgsz)), then LetterBox(scaleup=False) pads.
 *   Ultralytics validates at a square imgsz; give 'val' a square size.
 *
 * The pixels come from images/letterbox.ts (cv2-exact decode, resize and padding); this file only
 * arranges them as the `[1, 3, H, W]` float tensor ONNX takes and maps boxes back (scale_boxes).
 */
import { decodeImage, letterbox, resizeLinearCv, type Letterboxed, type RgbImage } from '../images/letterbox';
import { pyRound } from '../metrics/numeric';

export type PreprocessMode = 'predict' | 'val';

/** An image ready for the model, and what is needed to map boxes back to it. */
export interface ModelInput {
  /** `[1, 3, H, W]` RGB, 0..1, CHW. */
  tensor: Float32Array;
  /** Model input size (H, W). */
  inputHeight: number;
  inputWidth: number;
  /** The source image size. */
  sourceWidth: number;
  sourceHeight: number;
  /** Size of the resized image inside the padding. */
  resizedWidth: number;
  resizedHeight: number;
  /** Left and top padding in input pixels. */
  padLeft: number;
  padTop: number;
}

/** Image size as [height, width]. */
export type ImageSize = number | readonly [number, number];

function hw(size: ImageSize): [number, number] {
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

/** Decodes (when given a path or bytes) and letterboxes an image for the model. */
export async function prepareInput(image: string | Buffer | RgbImage, imgsz: ImageSize, mode: PreprocessMode = 'predict'): Promise<ModelInput> {
  const img = typeof image === 'string' || Buffer.isBuffer(image) ? await decodeImage(image) : image;
  return prepareDecoded(img, imgsz, mode);
}

/** prepareInput for decoded pixels. */
export function prepareDecoded(img: RgbImage, imgsz: ImageSize, mode: PreprocessMode = 'predict'): ModelInput {
  const [h, w] = hw(imgsz);
  let src = img;
  if (mode === 'val') {
    // load_image: long side to imgsz (a square imgsz in val), ceil on the short side.
    const target = Math.max(h, w);
    const r = target / Math.max(img.height, img.width);
    if (r !== 1) {
      const rw = Math.min(Math.ceil(img.width * r), target);
      const rh = Math.min(Math.ceil(img.height * r), target);
      src = { data: resizeLinearCv(img.data, img.width, img.height, 3, rw, rh), width: rw, height: rh };
    }
  }
  const lb = letterbox(src, { newShape: [h, w], scaleup: mode === 'predict' });
  return {
    tensor: toChw(lb),
    inputHeight: lb.height,
    inputWidth: lb.width,
    sourceWidth: img.width,
    sourceHeight: img.height,
    resizedWidth: lb.resized.width,
    resizedHeight: lb.resized.height,
    padLeft: lb.pad.left,
    padTop: lb.pad.top,
  };
}

/** HWC uint8 RGB -> CHW float32 / 255 (Ultralytics: img.float() / 255). */
export function toChw(lb: Pick<Letterboxed, 'data' | 'width' | 'height'>, out?: Float32Array): Float32Array {
  const plane = lb.width * lb.height;
  const t = out && out.length >= 3 * plane ? out : new Float32Array(3 * plane);
  const src = lb.data;
  for (let i = 0, p = 0; p < plane; p++, i += 3) {
    t[p] = src[i]! / 255;
    t[plane + p] = src[i + 1]! / 255;
    t[2 * plane + p] = src[i + 2]! / 255;
  }
  return t;
}

/**
 * Ultralytics' scale_boxes without ratio_pad: xyxy boxes from the model input (inputH x inputW)
 * back to the source image: gain = min(inputH / h0, inputW / w0), pad = round((input - source *
 * gain) / 2 - 0.1) per axis, (box - pad) / gain, clipped to the image. In place; returns `boxes`.
 */
export function scaleBoxes(
  boxes: Float32Array | Float64Array,
  inputHeight: number,
  inputWidth: number,
  sourceHeight: number,
  sourceWidth: number,
): Float32Array | Float64Array {
  const gain = Math.min(inputHeight / sourceHeight, inputWidth / sourceWidth);
  const padX = pyRound((inputWidth - sourceWidth * gain) / 2 - 0.1);
  const padY = pyRound((inputHeight - sourceHeight * gain) / 2 - 0.1);
  const clip = (v: number, hi: number) => (v < 0 ? 0 : v > hi ? hi : v);
  for (let i = 0; i + 3 < boxes.length; i += 4) {
    boxes[i] = clip((boxes[i]! - padX) / gain, sourceWidth);
    boxes[i + 1] = clip((boxes[i + 1]! - padY) / gain, sourceHeight);
    boxes[i + 2] = clip((boxes[i + 2]! - padX) / gain, sourceWidth);
    boxes[i + 3] = clip((boxes[i + 3]! - padY) / gain, sourceHeight);
  }
  return boxes;
}
