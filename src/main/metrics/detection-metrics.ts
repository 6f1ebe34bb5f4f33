/**
 * @file Detection validation metrics the way Ultralytics' DetectionValidator + DetMetrics produce
 * them: add images one at a time (predictions after NMS, labels), then compute P, R, mAP50,
 * mAP50-95, per-class AP, fitness, the curves for charts and the confusion matrix.
 *
 * Boxes of an image's predictions and labels must be in the same pixel space. Ultralytics 8.3.x
 * compares them in the letterboxed model-input space (labels scaled to the letterbox, predictions
 * as NMS left them, unclipped); IoU does not depend on the scale, only clipping differs.
 */
import { apPerClass, type ApPerClassResult } from './ap';
import { ConfusionMatrix, type ConfusionOptions } from './confusion';
import { boxIou, type XyxyArray } from './iou';
import { IOU_THRESHOLDS, matchPredictions } from './match';

/** One image's predictions (NMS output, most confident first) and labels. */
export interface ImageDetections {
  /** `[nPred * 4]` xyxy. */
  predBoxes: XyxyArray;
  predConf: ArrayLike<number>;
  predCls: ArrayLike<number>;
  /** `[nGt * 4]` xyxy. */
  gtBoxes: XyxyArray;
  gtCls: ArrayLike<number>;
}

export interface DetectionMetricsOptions {
  /** Number of classes of the model (ids 0..nc-1). */
  nc: number;
  names?: readonly string[];
  /** Weights of mAP50 and mAP50-95 in fitness. Default [0.1, 0.9] (Ultralytics' Metric.fitness). */
  fitnessWeights?: readonly [number, number];
  /** Build the confusion matrix (conf 0.25, IoU 0.45 unless given). Default true. */
  confusion?: boolean | ConfusionOptions;
}

export interface ClassMetrics {
  classId: number;
  name: string;
  /** Images with at least one label of this class. */
  images: number;
  /** Labels of this class. */
  instances: number;
  precision: number;
  recall: number;
  f1: number;
  ap50: number;
  ap75: number;
  /** Mean AP over IoU 0.50:0.05:0.95. */
  ap50_95: number;
}

export interface DetectionMetricsResult {
  /** Images added. */
  images: number;
  /** Labels over all images. */
  instances: number;
  /** Mean over scored classes (classes with labels) of P and R at the max-F1 confidence. */
  precision: number;
  recall: number;
  mAP50: number;
  mAP75: number;
  mAP50_95: number;
  fitness: number;
  /** Classes with labels, ascending id. */
  perClass: ClassMetrics[];
  /** mAP50-95 per class id 0..nc-1; classes without labels get the overall mAP50-95 (Ultralytics' maps). */
  maps: number[];
  /** The confidence where P and R are read. */
  maxF1Conf: number;
  /** Everything ap_per_class produced (curves for charts: px, pCurve, rCurve, f1Curve, prCurve). */
  ap: ApPerClassResult;
  confusion: ConfusionMatrix | null;
}

/** Growable typed buffer. */
class Grow<T extends Float32Array | Int32Array | Uint8Array> {
  data: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const next = this.make(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  push(v: number): void {
    this.reserve(1);
    this.data[this.length++] = v;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

export class DetectionMetrics {
  readonly nc: number;
  readonly names: readonly string[];
  readonly niou = IOU_THRESHOLDS.length;
  private readonly fitnessWeights: readonly [number, number];
  private readonly tp = new Grow((n) => new Uint8Array(n));
  private readonly conf = new Grow((n) => new Float32Array(n));
  private readonly predCls = new Grow((n) => new Int32Array(n));
  private readonly targetCounts: Float64Array;
  private readonly imageCounts: Float64Array;
  private seen = 0;
  readonly confusion: ConfusionMatrix | null;

  constructor(options: DetectionMetricsOptions) {
    this.nc = options.nc;
    this.names = options.names ?? Array.from({ length: options.nc }, (_, i) => String(i));
    this.fitnessWeights = options.fitnessWeights ?? [0.1, 0.9];
    this.targetCounts = new Float64Array(options.nc);
    this.imageCounts = new Float64Array(options.nc);
    const cm = options.confusion ?? true;
    this.confusion = cm === false ? null : new ConfusionMatrix(options.nc, cm === true ? {} : cm);
  }

  /** Images added so far. */
  get images(): number {
    return this.seen;
  }

  /** Adds one image: matches its predictions to its labels at the 10 IoU thresholds. */
  add(img: ImageDetections): void {
    const nPred = img.predConf.length;
    const nGt = img.gtCls.length;
    this.seen++;
    const present = new Set<number>();
    for (let g = 0; g < nGt; g++) {
      const c = img.gtCls[g]!;
      if (!(c >= 0 && c < this.nc)) throw new RangeError(`label class ${c} outside 0..${this.nc - 1}`);
      this.targetCounts[c]!++;
      present.add(c);
    }
    for (const c of present) this.imageCounts[c]!++;

    const niou = this.niou;
    this.tp.reserve(nPred * niou);
    if (nPred > 0 && nGt > 0) {
      const iou = boxIou(img.gtBoxes, img.predBoxes); // [nGt, nPred]
      const correct = matchPredictions(img.predCls, img.gtCls, iou);
      this.tp.data.set(correct, this.tp.length);
    } else {
      this.tp.data.fill(0, this.tp.length, this.tp.length + nPred * niou);
    }
    this.tp.length += nPred * niou;
    for (let i = 0; i < nPred; i++) {
      this.conf.push(img.predConf[i]!);
      this.predCls.push(img.predCls[i]!);
    }
    this.confusion?.processImage(img.predBoxes, img.predConf, img.predCls, img.gtBoxes, img.gtCls);
  }

  /** P, R, mAP50, mAP50-95, per-class AP, fitness and curves over everything added. */
  compute(): DetectionMetricsResult {
    const ap = apPerClass({
      tp: this.tp.view(),
      niou: this.niou,
      conf: this.conf.view(),
      predCls: this.predCls.view(),
      targetCounts: this.targetCounts,
    });
    const nc = ap.classes.length;
    const niou = ap.niou;
    const mean = (xs: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < xs.length; i++) s += xs[i]!;
      return xs.length ? s / xs.length : 0;
    };
    const perClass: ClassMetrics[] = [];
    let sum50 = 0;
    let sum75 = 0;
    let sumAll = 0;
    for (let ci = 0; ci < nc; ci++) {
      const row = ap.ap.subarray(ci * niou, (ci + 1) * niou);
      const c = ap.classes[ci]!;
      const ap50 = row[0]!;
      const ap75 = row[5] ?? 0;
      const ap50_95 = mean(row);
      sum50 += ap50;
      sum75 += ap75;
      for (let j = 0; j < niou; j++) sumAll += row[j]!;
      perClass.push({
        classId: c,
        name: this.names[c] ?? String(c),
        images: this.imageCounts[c]!,
        instances: ap.nt[ci]!,
        precision: ap.p[ci]!,
        recall: ap.r[ci]!,
        f1: ap.f1[ci]!,
        ap50,
        ap75,
        ap50_95,
      });
    }
    const mAP50 = nc ? sum50 / nc : 0;
    const mAP75 = nc ? sum75 / nc : 0;
    const mAP50_95 = nc ? sumAll / (nc * niou) : 0;
    const maps = Array.from({ length: this.nc }, () => mAP50_95);
    for (const pc of perClass) maps[pc.classId] = pc.ap50_95;
    const [w50, w5095] = this.fitnessWeights;
    let instances = 0;
    for (const n of this.targetCounts) instances += n;
    return {
      images: this.seen,
      instances,
      precision: mean(ap.p),
      recall: mean(ap.r),
      mAP50,
      mAP75,
      mAP50_95,
      fitness: w50 * mAP50 + w5095 * mAP50_95,
      perClass,
      maps,
      maxF1Conf: ap.maxF1Conf,
      ap,
      confusion: this.confusion,
    };
  }
}

/** Ultralytics' fitness: 0.1 * mAP50 + 0.9 * mAP50-95. */
export function fitness(mAP50: number, mAP50_95: number): number {
  return 0.1 * mAP50 + 0.9 * mAP50_95;
}
