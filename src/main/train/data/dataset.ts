/**
 * @file The labels a training run reads: one `TrainSample` per image (path, size, classes, boxes in
 * the original image's pixels), from a split of the project store or straight from a data.yaml.
 * Labels only: pixels are decoded later, in the loader's workers.
 */
import { AppError, formatProblem } from '../../../shared/errors';
import type { Split } from '../../../shared/types';
import type { ReadOptions } from '../../formats/options';
import { readYoloDataset } from '../../formats/yolo';
import { probeImage } from '../../images/probe';
import type { LabelStore } from '../../store/label-store';

/** One training image: labels only. */
export interface TrainSample {
  /** Absolute path of the image file. */
  imagePath: string;
  /** Class index per box (rank in `TrainData.names`). */
  cls: number[];
  /** [N, 4] x1, y1, x2, y2 in pixels of the original image. */
  boxes: Float32Array;
  /** Size of the image (EXIF-oriented), the pixels `boxes` refer to. */
  width: number;
  height: number;
  /** Project-relative path when the sample comes from the store. */
  relPath?: string;
}

export interface TrainData {
  /** Class names; class index i is names[i]. */
  names: string[];
  samples: TrainSample[];
  warnings: string[];
}

export interface StoreSamplesOptions {
  /**
   * Also train on images still marked unlabeled (as backgrounds when they have no boxes). Default
   * false: an image nobody has labeled yet says nothing about where objects are not.
   */
  includeUnlabeled?: boolean;
}

/**
 * The images of one split of the project with their boxes; class index = the class's rank in
 * `store.classes()` (the YOLO id on export). Labeled images without boxes are kept as backgrounds,
 * as Ultralytics keeps images with empty label files.
 */
export function samplesFromStore(store: LabelStore, split: Split, opts: StoreSamplesOptions = {}): TrainData {
  const ds = store.exportDataset([split]);
  const samples: TrainSample[] = [];
  let skipped = 0;
  for (const img of ds.images) {
    if (!img.labeled && !opts.includeUnlabeled) {
      skipped++;
      continue;
    }
    const boxes = new Float32Array(img.boxes.length * 4);
    img.boxes.forEach((b, i) => boxes.set([b.x, b.y, b.x + b.w, b.y + b.h], i * 4));
    samples.push({
      imagePath: img.absPath,
      relPath: img.relPath,
      cls: img.boxes.map((b) => b.classIndex),
      boxes,
      width: img.width,
      height: img.height,
    });
  }
  const warnings = skipped ? [`${skipped} ${split} image(s) are not labeled yet and were left out`] : [];
  return { names: ds.classes, samples, warnings };
}

/**
 * The images of one split of an Ultralytics data.yaml. Normalised labels become pixels with each
 * image's size read from its header (`probeImage`, EXIF-aware). Images missing a label file are
 * backgrounds (as in Ultralytics); unreadable images are skipped with a warning; malformed labels
 * throw IMPORT_INVALID listing each problem.
 */
export function samplesFromYaml(yamlPath: string, split: Exclude<Split, 'none'>, opts: ReadOptions = {}): TrainData {
  const parsed = readYoloDataset(yamlPath, opts);
  if (parsed.problems.length) {
    const first = parsed.problems.slice(0, 5).map(formatProblem).join('\n');
    throw new AppError('IMPORT_INVALID', `${yamlPath} has ${parsed.problems.length} label problem(s):\n${first}`, {
      problems: parsed.problems,
    });
  }
  const samples: TrainSample[] = [];
  const warnings = [...parsed.warnings];
  let unreadable = 0;
  let example = '';
  for (const img of parsed.images) {
    if (img.split !== split) continue;
    const probed = probeImage(img.absPath);
    if (!probed.ok) {
      if (unreadable++ === 0) example = `${img.absPath}: ${probed.reason}`;
      continue;
    }
    const { width, height } = probed.probe;
    const boxes = new Float32Array(img.boxes.length * 4);
    img.boxes.forEach((b, i) => {
      const sx = b.normalized ? width : 1;
      const sy = b.normalized ? height : 1;
      const x1 = clamp(b.x * sx, width);
      const y1 = clamp(b.y * sy, height);
      boxes.set([x1, y1, clamp((b.x + b.w) * sx, width), clamp((b.y + b.h) * sy, height)], i * 4);
    });
    samples.push({ imagePath: img.absPath, cls: img.boxes.map((b) => b.classIndex), boxes, width, height });
  }
  if (unreadable) warnings.push(`${unreadable} ${split} image(s) could not be read and were skipped (e.g. ${example})`);
  return { names: parsed.classes, samples, warnings };
}

function clamp(v: number, hi: number): number {
  return Math.min(Math.max(v, 0), hi);
}

/** Instances per class over the samples (for pre-flight checks and the class weights of reports). */
export function instancesPerClass(samples: readonly TrainSample[], nc: number): number[] {
  const counts = new Array<number>(nc).fill(0);
  for (const s of samples) for (const c of s.cls) if (c >= 0 && c < nc) counts[c]!++;
  return counts;
}
