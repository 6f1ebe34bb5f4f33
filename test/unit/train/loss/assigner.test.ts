/**
 * TaskAlignedAssigner on hand-made cases, checked by hand: an 8 x 8 grid of anchors (stride 8, a
 * 64 x 64 image, centres at 4, 12, ..., 60 px), ground truths and predictions chosen so the CIoUs
 * have closed forms. Also torch.topk's CPU tie-break on fixtures produced by libstdc++ itself.
 */
import { describe, expect, it } from 'vitest';
import { TaskAlignedAssigner, denseAccessors, denseTargetScores, type AssignerInput } from '../../../../src/main/train/loss/assigner';
import { ciou } from '../../../../src/main/train/loss/iou';
import { torchTopkIndices } from '../../../../src/main/train/loss/torch-topk';

const S = 8; // stride
const W = 8; // anchors per row
const NA = W * W;

/** Anchor centres in pixels, row-major over (y, x). [64, 2] */
const ANCHORS = new Float32Array(NA * 2);
for (let a = 0; a < NA; a++) {
  ANCHORS[2 * a] = ((a % W) + 0.5) * S;
  ANCHORS[2 * a + 1] = (Math.floor(a / W) + 0.5) * S;
}

/** Index of the anchor centred at (x, y) px. */
const at = (x: number, y: number): number => ((y / S - 0.5) * W + (x / S - 0.5)) | 0;

interface Gt {
  box: [number, number, number, number];
  label: number;
}

/**
 * Runs the assigner on one image. score(a, c): predicted class score; box(a): predicted box (xyxy px).
 * Padding rows (mask 0) are appended up to `pad` ground truths.
 */
function assign(gts: Gt[], score: (a: number, c: number) => number, box: (a: number) => number[], opts: { topk: number; nc: number; pad?: number }) {
  const G = Math.max(gts.length, opts.pad ?? 0);
  const gtBboxes = new Float32Array(G * 4);
  const gtLabels = new Float32Array(G);
  const maskGt = new Uint8Array(G);
  gts.forEach((g, i) => {
    gtBboxes.set(g.box, 4 * i);
    gtLabels[i] = g.label;
    maskGt[i] = 1;
  });
  const scores = new Float32Array(NA * opts.nc);
  const boxes = new Float32Array(NA * 4);
  for (let a = 0; a < NA; a++) {
    for (let c = 0; c < opts.nc; c++) scores[a * opts.nc + c] = score(a, c);
    boxes.set(box(a), 4 * a);
  }
  const input: AssignerInput = { bs: 1, nMaxBoxes: G, ...denseAccessors(scores, boxes, NA, opts.nc), ancPoints: ANCHORS, gtLabels, gtBboxes, maskGt };
  return new TaskAlignedAssigner({ topk: opts.topk, numClasses: opts.nc, alpha: 0.5, beta: 6.0 }).forward(input);
}

const fgList = (fg: Uint8Array): number[] => [...fg.keys()].filter((a) => fg[a]);

describe('TaskAlignedAssigner', () => {
  it('anchor grid is row-major (y, x) with centres at cell + 0.5', () => {
    expect([ANCHORS[0], ANCHORS[1], ANCHORS[2], ANCHORS[3], ANCHORS[2 * 8], ANCHORS[2 * 8 + 1]]).toEqual([4, 4, 12, 4, 4, 12]);
    expect(at(12, 4)).toBe(1);
    expect(at(4, 12)).toBe(8);
  });

  it('no targets: every anchor is background with zero target scores', () => {
    const r = assign([], () => 0.5, () => [0, 0, 8, 8], { topk: 10, nc: 3 });
    expect(fgList(r.fgMask)).toEqual([]);
    expect(r.targetScore.every((v) => v === 0)).toBe(true);
    expect(r.targetLabels.every((v) => v === 3)).toBe(true); // bg_idx = nc
    expect(denseTargetScores(r, 3).every((v) => v === 0)).toBe(true);
  });

  it('only padding rows: nothing is assigned', () => {
    const r = assign([], () => 0.5, () => [0, 0, 8, 8], { topk: 10, nc: 3, pad: 2 });
    expect(fgList(r.fgMask)).toEqual([]);
    expect(r.targetScore.every((v) => v === 0)).toBe(true);
  });

  it('candidates are anchors whose centre is strictly inside the box', () => {
    const a = new TaskAlignedAssigner({ numClasses: 1 });
    // edges exactly on centres 4 and 28: those anchors are out
    const c = a.candidatesInGt(ANCHORS, Float32Array.of(4, 4, 28, 20), 0);
    expect(Array.from(c)).toEqual([at(12, 12), at(20, 12)]);
  });

  it('one target: the top-k anchors inside it by s^0.5 * CIoU^6, targets normalised to the best CIoU', () => {
    // GT [8, 8, 40, 32] holds the 12 centres x in {12..36}, y in {12, 20, 28}. Every anchor predicts
    // the GT box except (12, 12), which predicts it shifted right by 8 px:
    //   IoU = 24*24 / (768 + 768 - 576) = 0.6, rho^2 / c^2 = 64 / (40^2 + 24^2) = 0.0294118, v = 0
    //   -> CIoU = 0.5705882.
    const gt: Gt = { box: [8, 8, 40, 32], label: 1 };
    const shifted = at(12, 12);
    const u = 0.6 - 64 / (40 * 40 + 24 * 24);
    expect(ciou(8, 8, 40, 32, 16, 8, 48, 32)).toBeCloseTo(u, 6);
    // class-1 scores rise with the anchor index; the shifted anchor has the best score
    const score = (a: number, c: number) => (c === 1 ? (a === shifted ? 0.99 : 0.1 + a / 100) : 0.05);
    const box = (a: number) => (a === shifted ? [16, 8, 48, 32] : [8, 8, 40, 32]);
    const r = assign([gt], score, box, { topk: 4, nc: 2 });

    const inside = [12, 20, 28].flatMap((y) => [12, 20, 28, 36].map((x) => at(x, y)));
    // metrics: exact-box anchors sqrt(s) * ~1, the shifted one sqrt(0.99) * 0.5706^6 = 0.034: last
    const metric = (a: number) => Math.sqrt(score(a, 1)) * (a === shifted ? u : 1) ** 6;
    const top = [...inside].sort((p, q) => metric(q) - metric(p)).slice(0, 4);
    expect(fgList(r.fgMask)).toEqual([...top].sort((p, q) => p - q));
    expect(top).not.toContain(shifted);
    for (const a of top) {
      expect(r.targetGtIdx[a]).toBe(0);
      expect(r.targetLabels[a]).toBe(1);
      expect(Array.from(r.targetBboxes.subarray(4 * a, 4 * a + 4))).toEqual(gt.box);
      // align / max align * max CIoU over positives (~1 here)
      expect(r.targetScore[a]).toBeCloseTo(Math.sqrt(score(a, 1) / score(top[0]!, 1)), 5);
    }
    expect(r.targetScore[top[0]!]).toBeCloseTo(1, 6);
    // dense form: one-hot at the label
    const dense = denseTargetScores(r, 2);
    expect(dense[top[0]! * 2 + 1]).toBe(r.targetScore[top[0]!]);
    expect(dense[top[0]! * 2]).toBe(0);
  });

  it('a target larger than the image: every anchor is a candidate, the k best are positive', () => {
    // GT [-100, -100, 164, 164], centre (32, 32); every anchor predicts the whole image [0, 0, 64, 64]
    // (same centre, square): CIoU = IoU = 4096 / 264^2 = 0.0587695.
    const u = 4096 / 264 ** 2;
    const score = (a: number) => 0.2 + ((a * 37) % 64) / 100; // distinct
    const r = assign([{ box: [-100, -100, 164, 164], label: 0 }], score, () => [0, 0, 64, 64], { topk: 10, nc: 1 });
    const all = Array.from({ length: NA }, (_, a) => a);
    const top = all.sort((p, q) => score(q) - score(p)).slice(0, 10);
    expect(fgList(r.fgMask)).toEqual([...top].sort((p, q) => p - q));
    // align * u / (max align + eps): with u^6 ~ 4e-8 the eps of 1e-9 shows (~2.6 %), as in Ultralytics
    const align = (a: number) => Math.sqrt(score(a)) * u ** 6;
    for (const a of top) expect(r.targetScore[a]).toBeCloseTo((align(a) * u) / (align(top[0]!) + 1e-9), 6);
    expect(r.targetScore[top[0]!]! / u).toBeCloseTo(1 - 1e-9 / (align(top[0]!) + 1e-9), 4);
  });

  it('two targets competing: an anchor in both top-k goes to the GT it overlaps most, targets normalised after', () => {
    // GT0 [0, 0, 24, 24] (centres 4..20), GT1 [8, 8, 32, 32] (centres 12..28); they share (12|20, 12|20).
    // Every anchor predicts P = [6, 6, 30, 30]:
    //   vs GT0: IoU 324 / 828, rho^2 / c^2 = 72 / 1800      -> u0 = 0.3513043
    //   vs GT1: IoU 484 / 668, rho^2 / c^2 = 8 / 1352       -> u1 = 0.7186340
    const u0 = 324 / 828 - 72 / 1800;
    const u1 = 484 / 668 - 8 / 1352;
    const [S1, S2, A1, B1, B2] = [at(12, 12), at(20, 12), at(4, 4), at(28, 12), at(28, 20)];
    const s0 = new Map([
      [S1, 0.9],
      [S2, 0.8],
      [A1, 0.7],
    ]);
    const s1 = new Map([
      [S1, 0.9],
      [B1, 0.8],
      [B2, 0.7],
    ]);
    const score = (a: number, c: number) => (c === 0 ? (s0.get(a) ?? 0.1) : (s1.get(a) ?? 0.1));
    const gts: Gt[] = [
      { box: [0, 0, 24, 24], label: 0 },
      { box: [8, 8, 32, 32], label: 1 },
    ];
    const r = assign(gts, score, () => [6, 6, 30, 30], { topk: 3, nc: 2, pad: 3 });
    // top-3: GT0 {S1, S2, A1}, GT1 {S1, B1, B2}; S1 is claimed twice and u1 > u0: GT1 keeps it
    expect(fgList(r.fgMask)).toEqual([S1, S2, A1, B1, B2].sort((p, q) => p - q));
    expect([S1, S2, A1, B1, B2].map((a) => r.targetGtIdx[a])).toEqual([1, 0, 0, 1, 1]);
    expect([S1, S2, A1, B1, B2].map((a) => r.targetLabels[a])).toEqual([1, 0, 0, 1, 1]);
    // GT0 now has {S2, A1}: its best metric is S2's; GT1's is S1's. score = u * sqrt(s / s_best)
    expect(r.targetScore[S2]).toBeCloseTo(u0, 6);
    expect(r.targetScore[A1]).toBeCloseTo(u0 * Math.sqrt(0.7 / 0.8), 6);
    expect(r.targetScore[S1]).toBeCloseTo(u1, 6);
    expect(r.targetScore[B1]).toBeCloseTo(u1 * Math.sqrt(0.8 / 0.9), 6);
    expect(r.targetScore[B2]).toBeCloseTo(u1 * Math.sqrt(0.7 / 0.9), 6);
    expect(Array.from(r.targetBboxes.subarray(4 * S1, 4 * S1 + 4))).toEqual(gts[1]!.box);
  });

  it('conflicts are settled by the highest CIoU over every GT, even one the anchor is not top-k for (as torch)', () => {
    // X = (20, 20) lies in all three GTs. topk 1. Class 0 (GT0, GT2): X scores 0.9, so it is their top-1.
    // Class 1 (GT1): Y = (12, 12) scores 0.9 and X 0.2, both predict GT1's box exactly, so Y is GT1's top-1.
    // X, positive for GT0 and GT2, overlaps GT1 most (CIoU ~1): torch's argmax over all GTs' overlaps
    // hands it to GT1, where it was only a candidate. GT0 and GT2 end with no positive.
    const X = at(20, 20);
    const Y = at(12, 12);
    const gts: Gt[] = [
      { box: [0, 0, 32, 32], label: 0 },
      { box: [8, 8, 28, 28], label: 1 },
      { box: [10, 10, 40, 40], label: 0 },
    ];
    const pred = (a: number): [number, number, number, number] => (a === X || a === Y ? [8, 8, 28, 28] : [9, 9, 27, 27]);
    const score = (a: number, c: number) => (c === 0 ? (a === X ? 0.9 : 0.01) : a === Y ? 0.9 : a === X ? 0.2 : 0.01);
    const r = assign(gts, score, pred, { topk: 1, nc: 2 });
    expect(fgList(r.fgMask)).toEqual([Y, X]);
    expect([r.targetGtIdx[X], r.targetGtIdx[Y]]).toEqual([1, 1]);
    expect([r.targetLabels[X], r.targetLabels[Y]]).toEqual([1, 1]);
    // GT1's positives {X, Y}: same box (CIoU ~1), best metric Y's -> scores sqrt(s / 0.9)
    expect(r.targetScore[Y]).toBeCloseTo(1, 6);
    expect(r.targetScore[X]).toBeCloseTo(Math.sqrt(0.2 / 0.9), 6);
  });

  it('many small targets: one anchor each, none for a box between centres, the better CIoU wins a shared anchor', () => {
    // 4 x 4 px boxes around centres, plus one between centres (no anchor inside), plus two boxes
    // around the centre (36, 36) that compete for it.
    const around = (x: number, y: number, r = 2): [number, number, number, number] => [x - r, y - r, x + r, y + r];
    const gts: Gt[] = [
      { box: around(4, 4), label: 0 },
      { box: around(20, 12), label: 1 },
      { box: around(52, 44), label: 2 },
      { box: around(60, 60), label: 0 },
      { box: [13, 13, 19, 19], label: 1 }, // between centres 12 and 20: no candidate
      { box: around(36, 36, 3), label: 2 }, // the prediction [33, 33, 39, 39] matches this one exactly
      { box: [34, 30, 40, 38], label: 2 },
    ];
    const r = assign(gts, () => 0.5, (a) => around(ANCHORS[2 * a]!, ANCHORS[2 * a + 1]!, 3), { topk: 10, nc: 3 });
    const owners = [at(4, 4), at(20, 12), at(52, 44), at(60, 60), at(36, 36)];
    expect(fgList(r.fgMask)).toEqual([...owners].sort((p, q) => p - q));
    expect(owners.map((a) => r.targetGtIdx[a])).toEqual([0, 1, 2, 3, 5]);
    expect(owners.map((a) => r.targetLabels[a])).toEqual([0, 1, 2, 0, 2]);
    // each GT's single positive is its own best: score = its CIoU (exactly 1 - eps-level for GT5)
    for (const [i, a] of owners.entries()) {
      const g = [0, 1, 2, 3, 5][i]!;
      expect(r.targetScore[a]).toBeCloseTo(Math.max(0, ciou(...gts[g]!.box, ...around(ANCHORS[2 * a]!, ANCHORS[2 * a + 1]!, 3))), 6);
    }
    expect(r.targetScore[at(36, 36)]).toBeCloseTo(1, 6);
  });
});

describe('torch.topk tie-break (CPU, largest=True)', () => {
  /** Mostly-zero metrics with a few positives, as the assigner sees them. */
  function values(n: number, seed: number, pZero: number): number[] {
    let s = seed >>> 0;
    const r = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296;
    };
    return Array.from({ length: n }, () => (r() < pZero ? 0 : Math.floor(r() * 4) / 4));
  }

  // Expected sets from std::partial_sort (k * 64 <= n) / std::nth_element with torch's comparator,
  // compiled with g++ 12 (libstdc++), on the same values.
  const cases = [
    { n: 84, k: 10, seed: 1, p: 0.9, expected: [15, 31, 34, 36, 57, 61, 65, 69, 76, 79] },
    { n: 84, k: 10, seed: 2, p: 0.5, expected: [9, 25, 28, 33, 49, 55, 62, 74, 77, 81] },
    { n: 700, k: 10, seed: 3, p: 0.995, expected: [0, 1, 3, 4, 5, 7, 8, 9, 180, 369] },
    { n: 2100, k: 10, seed: 4, p: 1, expected: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
    { n: 2100, k: 10, seed: 5, p: 0.999, expected: [0, 1, 2, 3, 4, 5, 7, 8, 9, 1064] },
    { n: 640, k: 10, seed: 6, p: 0.7, expected: [1, 17, 21, 42, 53, 59, 74, 87, 91, 95] },
  ];
  it.each(cases)('n $n, k $k, seed $seed', ({ n, k, seed, p, expected }) => {
    const v = values(n, seed, p);
    const got = Array.from(torchTopkIndices(v, k)).sort((a, b) => a - b);
    expect(got).toEqual(expected);
    // whatever the tie-break, the set holds the k largest values
    const kth = [...v].sort((a, b) => b - a)[k - 1]!;
    for (const i of got) expect(v[i]!).toBeGreaterThanOrEqual(kth);
  });

  it('reads a row out of a larger array (offset)', () => {
    const v = [9, 9, 9, 0, 5, 0, 7];
    expect(Array.from(torchTopkIndices(v, 2, 3, 4)).sort()).toEqual([1, 3]);
  });
});
