/**
 * @file Ultralytics' non_max_suppression (utils/nms.py) for a detect head's raw output
 * `[B, 4 + nc, N]` (cx, cy, w, h in input pixels, then per-class scores), on typed arrays.
 *
 * Per image:
 * 1. candidates: anchors whose best class score > conf (compared in float32, as torch does);
 * 2. xywh -> xyxy (float32, as torch);
 * 3. multiLabel (what the validator uses): one row per (anchor, class) with score > conf, in anchor
 *    then class order; otherwise the best class only;
 * 4. optional class filter; more than maxNms rows: keep the maxNms most confident;
 * 5. boxes offset by class * maxWh (7680) so classes never suppress each other (agnostic: no
 *    offset), then torchvision's greedy NMS: by score, descending; drop any later box whose IoU
 *    with a kept one is > iou, all in float32 as torchvision computes it;
 * 6. the first maxDet kept, most confident first.
 *
 * Greedy NMS is quadratic in the boxes it compares; we run it per class bucket, which gives the
 * same result as the offset trick whenever the offsets really separate the classes (all boxes
 * span less than maxWh), and fall back to one bucket otherwise.
 */

export interface NmsOptions {
  /** Score threshold (strictly greater passes). Default 0.25. */
  conf?: number;
  /** IoU threshold: a box is dropped when its IoU with a kept box is greater. Default 0.45. */
  iou?: number;
  /** A box may keep several classes (validation). Default false: its best class only. */
  multiLabel?: boolean;
  /** Class-agnostic NMS. Default false. */
  agnostic?: boolean;
  /** Detections kept per image. Default 300. */
  maxDet?: number;
  /** Boxes that go into NMS at most. Default 30000. */
  maxNms?: number;
  /** Class offset in pixels. Default 7680. */
  maxWh?: number;
  /** Keep only these class ids. */
  classes?: readonly number[];
  /** Number of class rows; rows after 4 + nc (mask coefficients) are ignored. Default: all rows after 4. */
  nc?: number;
}

/** Detections of one image, most confident first. Boxes are xyxy in the model's input pixels. */
export interface Detections {
  count: number;
  /** `[count * 4]` x1, y1, x2, y2. */
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
  /** Index of the anchor (column of the raw output) each detection came from. */
  anchors: Int32Array;
}

const f32 = Math.fround;

/**
 * NMS over a raw output tensor `[B, C, N]` (C = 4 + nc [+ extra]), or an end-to-end output
 * `[B, N, 6]` (x1, y1, x2, y2, score, class; only filtered by conf and cut to maxDet).
 */
export function nonMaxSuppression(
  data: Float32Array,
  dims: readonly number[],
  options: NmsOptions = {},
): Detections[] {
  if (dims.length !== 3) throw new RangeError(`expected a [batch, channels, anchors] output, got [${dims.join(', ')}]`);
  const [bs, c, n] = dims as [number, number, number];
  if (data.length < bs * c * n) throw new RangeError(`output has ${data.length} values, dims say ${bs * c * n}`);
  const out: Detections[] = [];
  for (let b = 0; b < bs; b++) {
    const img = data.subarray(b * c * n, (b + 1) * c * n);
    out.push(n === 6 && c !== 6 ? endToEnd(img, c, options) : nmsImage(img, c, n, options));
  }
  return out;
}

/** One image's raw output `[C, N]` (channel-major). */
export function nmsImage(pred: Float32Array, channels: number, n: number, options: NmsOptions = {}): Detections {
  const conf = options.conf ?? 0.25;
  const iouThres = options.iou ?? 0.45;
  const maxDet = options.maxDet ?? 300;
  const maxNms = options.maxNms ?? 30000;
  const maxWh = options.maxWh ?? 7680;
  const nc = options.nc || channels - 4;
  if (!(conf >= 0 && conf <= 1)) throw new RangeError(`invalid confidence threshold ${conf}, valid values are between 0.0 and 1.0`);
  if (!(iouThres >= 0 && iouThres <= 1)) throw new RangeError(`invalid IoU ${iouThres}, valid values are between 0.0 and 1.0`);
  if (nc < 1 || 4 + nc > channels) throw new RangeError(`nc ${nc} does not fit ${channels} channels`);
  // torch compares a float32 tensor with a Python float in float32.
  const confF32 = f32(conf);
  const multiLabel = (options.multiLabel ?? false) && nc > 1;
  const agnostic = options.agnostic ?? false;
  const classFilter = options.classes ? new Set(options.classes) : null;

  // 1. Best score per anchor, row by row (the tensor is channel-major).
  const best = new Float32Array(n).fill(-Infinity);
  const bestCls = new Int32Array(n);
  for (let k = 0; k < nc; k++) {
    const row = (4 + k) * n;
    for (let a = 0; a < n; a++) {
      const s = pred[row + a]!;
      if (s > best[a]!) {
        best[a] = s;
        bestCls[a] = k;
      }
    }
  }

  // 2-4. Rows (anchor, class, score) in Ultralytics' order.
  const rowAnchor: number[] = [];
  const rowCls: number[] = [];
  const rowScore: number[] = [];
  for (let a = 0; a < n; a++) {
    if (!(best[a]! > confF32)) continue;
    if (multiLabel) {
      for (let k = 0; k < nc; k++) {
        const s = pred[(4 + k) * n + a]!;
        if (s > confF32 && (!classFilter || classFilter.has(k))) {
          rowAnchor.push(a);
          rowCls.push(k);
          rowScore.push(s);
        }
      }
    } else if (!classFilter || classFilter.has(bestCls[a]!)) {
      rowAnchor.push(a);
      rowCls.push(bestCls[a]!);
      rowScore.push(best[a]!);
    }
  }
  let m = rowScore.length;
  if (m === 0) return empty();

  // Sort once by score, descending, stable; keeps NMS order and the maxNms cut.
  let order = Int32Array.from({ length: m }, (_, i) => i);
  order.sort((i, j) => rowScore[j]! - rowScore[i]! || i - j);
  if (m > maxNms) {
    order = order.slice(0, maxNms);
    m = maxNms;
  }
  const anchors = new Int32Array(m);
  const classes = new Int32Array(m);
  const scores = new Float32Array(m);
  for (let k = 0; k < m; k++) {
    const r = order[k]!;
    anchors[k] = rowAnchor[r]!;
    classes[k] = rowCls[r]!;
    scores[k] = rowScore[r]!;
  }

  // xyxy in float32 (torch: x - w / 2, x + w / 2), and the class-offset copy NMS compares.
  const boxes = new Float32Array(m * 4);
  const nmsBoxes = new Float32Array(m * 4);
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < m; k++) {
    const a = anchors[k]!;
    const cx = pred[a]!;
    const cy = pred[n + a]!;
    const dw = f32(pred[2 * n + a]! / 2);
    const dh = f32(pred[3 * n + a]! / 2);
    const x1 = f32(cx - dw);
    const y1 = f32(cy - dh);
    const x2 = f32(cx + dw);
    const y2 = f32(cy + dh);
    boxes[4 * k] = x1;
    boxes[4 * k + 1] = y1;
    boxes[4 * k + 2] = x2;
    boxes[4 * k + 3] = y2;
    lo = Math.min(lo, x1, y1);
    hi = Math.max(hi, x2, y2);
    const off = agnostic ? 0 : f32(classes[k]! * maxWh);
    nmsBoxes[4 * k] = x1 + off;
    nmsBoxes[4 * k + 1] = y1 + off;
    nmsBoxes[4 * k + 2] = x2 + off;
    nmsBoxes[4 * k + 3] = y2 + off;
  }

  // 5. Greedy NMS per class bucket when the offsets separate the classes, else over everything.
  const separated = !agnostic && hi - lo < maxWh - 1;
  const kept = new Uint8Array(m);
  if (separated) {
    const buckets = new Map<number, number[]>();
    for (let k = 0; k < m; k++) {
      let list = buckets.get(classes[k]!);
      if (!list) buckets.set(classes[k]!, (list = []));
      list.push(k);
    }
    for (const list of buckets.values()) greedyNms(nmsBoxes, Int32Array.from(list), iouThres, kept);
  } else {
    greedyNms(nmsBoxes, Int32Array.from({ length: m }, (_, k) => k), iouThres, kept);
  }

  // 6. Kept rows in score order, at most maxDet.
  const keep: number[] = [];
  for (let k = 0; k < m && keep.length < maxDet; k++) if (kept[k]) keep.push(k);
  const res: Detections = {
    count: keep.length,
    boxes: new Float32Array(keep.length * 4),
    scores: new Float32Array(keep.length),
    classes: new Int32Array(keep.length),
    anchors: new Int32Array(keep.length),
  };
  keep.forEach((k, i) => {
    res.boxes.set(boxes.subarray(4 * k, 4 * k + 4), 4 * i);
    res.scores[i] = scores[k]!;
    res.classes[i] = classes[k]!;
    res.anchors[i] = anchors[k]!;
  });
  return res;
}

/**
 * torchvision.ops.nms on the rows `idx` (already in descending score order): marks kept rows in
 * `kept`. Float32 arithmetic as the CPU kernel: areas, intersection, IoU; the threshold stays a
 * double (the kernel takes it as one).
 */
function greedyNms(b: Float32Array, idx: Int32Array, iouThres: number, kept: Uint8Array): void {
  const m = idx.length;
  const x1 = new Float32Array(m);
  const y1 = new Float32Array(m);
  const x2 = new Float32Array(m);
  const y2 = new Float32Array(m);
  const area = new Float32Array(m);
  for (let k = 0; k < m; k++) {
    const r = idx[k]!;
    x1[k] = b[4 * r]!;
    y1[k] = b[4 * r + 1]!;
    x2[k] = b[4 * r + 2]!;
    y2[k] = b[4 * r + 3]!;
    area[k] = f32(f32(x2[k]! - x1[k]!) * f32(y2[k]! - y1[k]!));
  }
  const suppressed = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    if (suppressed[i]) continue;
    kept[idx[i]!] = 1;
    const ix1 = x1[i]!;
    const iy1 = y1[i]!;
    const ix2 = x2[i]!;
    const iy2 = y2[i]!;
    const iarea = area[i]!;
    for (let j = i + 1; j < m; j++) {
      if (suppressed[j]) continue;
      const w = f32(Math.min(ix2, x2[j]!) - Math.max(ix1, x1[j]!));
      if (!(w > 0)) continue;
      const h = f32(Math.min(iy2, y2[j]!) - Math.max(iy1, y1[j]!));
      if (!(h > 0)) continue;
      const inter = f32(w * h);
      const ovr = f32(inter / f32(f32(iarea + area[j]!) - inter));
      if (ovr > iouThres) suppressed[j] = 1;
    }
  }
}

/** End-to-end models (NMS inside): rows of x1, y1, x2, y2, score, class. */
function endToEnd(pred: Float32Array, rows: number, options: NmsOptions): Detections {
  const conf = options.conf ?? 0.25;
  const maxDet = options.maxDet ?? 300;
  const classFilter = options.classes ? new Set(options.classes) : null;
  const keep: number[] = [];
  for (let r = 0; r < rows && keep.length < maxDet; r++) {
    if (pred[6 * r + 4]! > f32(conf)) keep.push(r);
  }
  const sel = classFilter ? keep.filter((r) => classFilter.has(Math.trunc(pred[6 * r + 5]!))) : keep;
  const res: Detections = {
    count: sel.length,
    boxes: new Float32Array(sel.length * 4),
    scores: new Float32Array(sel.length),
    classes: new Int32Array(sel.length),
    anchors: Int32Array.from(sel),
  };
  sel.forEach((r, i) => {
    res.boxes.set(pred.subarray(6 * r, 6 * r + 4), 4 * i);
    res.scores[i] = pred[6 * r + 4]!;
    res.classes[i] = Math.trunc(pred[6 * r + 5]!);
  });
  return res;
}

function empty(): Detections {
  return { count: 0, boxes: new Float32Array(0), scores: new Float32Array(0), classes: new Int32Array(0), anchors: new Int32Array(0) };
}
