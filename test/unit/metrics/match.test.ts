import { describe, expect, it } from 'vitest';
import { IOU_THRESHOLDS, matchPredictions, torchLinspaceF32 } from '../../../src/main/metrics/match';

/** Rows of the correct matrix as 0/1 arrays. */
function rows(correct: Uint8Array, nPred: number): number[][] {
  const nt = correct.length / nPred;
  return Array.from({ length: nPred }, (_, d) => Array.from(correct.subarray(d * nt, (d + 1) * nt)));
}

describe('IoU thresholds', () => {
  it('are torch.linspace(0.5, 0.95, 10) in float32', () => {
    expect(IOU_THRESHOLDS.length).toBe(10);
    expect(IOU_THRESHOLDS[0]).toBe(0.5);
    expect(IOU_THRESHOLDS[9]).toBe(Math.fround(0.95));
    for (let i = 0; i < 10; i++) expect(IOU_THRESHOLDS[i]).toBeCloseTo(0.5 + 0.05 * i, 6);
    expect([...torchLinspaceF32(0, 1, 3)]).toEqual([0, 0.5, 1]);
  });
});

describe('matchPredictions', () => {
  it('gives a label to the earliest (most confident) prediction that picked it, not the best IoU', () => {
    // one label; prediction 0 (more confident) at IoU 0.6, prediction 1 at IoU 0.9
    const c = rows(matchPredictions([0, 0], [0], Float32Array.of(0.6, 0.9)), 2);
    expect(c[0]).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]); // 0.50, 0.55, 0.60
    expect(c[1]).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 0]); // 0.65 .. 0.90, once prediction 0 no longer qualifies
  });

  it('needs the classes to agree', () => {
    const c = rows(matchPredictions([1], [0], Float32Array.of(0.99)), 1);
    expect(c[0]).toEqual(new Array(10).fill(0));
  });

  it('lets a prediction take its highest-IoU label, and each label at most one prediction', () => {
    // labels 0 and 1 (class 0); predictions: 0 overlaps label 0 at 0.55 and label 1 at 0.8;
    // 1 overlaps label 0 at 0.7
    const iou = Float32Array.of(
      0.55, 0.7, // label 0 vs predictions 0, 1
      0.8, 0.0, // label 1
    );
    const c = rows(matchPredictions([0, 0], [0, 0], iou), 2);
    expect(c[0]).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]); // label 1 up to 0.80
    expect(c[1]).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]); // label 0 up to 0.70
  });

  it('counts a duplicate label once per prediction (ties go to the later label)', () => {
    // two identical labels, two identical predictions: both predictions pick label 1, only the first gets it
    const iou = Float32Array.of(0.9, 0.9, 0.9, 0.9);
    const c = rows(matchPredictions([0, 0], [0, 0], iou), 2);
    expect(c[0]!.every((v, i) => v === (i <= 8 ? 1 : 0))).toBe(true);
    expect(c[1]).toEqual(new Array(10).fill(0));
  });

  it('is all zeros without labels or predictions', () => {
    expect(matchPredictions([0, 1], [], new Float32Array(0)).every((v) => v === 0)).toBe(true);
    expect(matchPredictions([], [0], new Float32Array(0)).length).toBe(0);
  });

  it('counts IoU equal to a threshold as a match (>=)', () => {
    const c = rows(matchPredictions([0], [0], Float32Array.of(0.5)), 1);
    expect(c[0]![0]).toBe(1);
    expect(c[0]![1]).toBe(0);
  });
});
