import { describe, expect, it } from 'vitest';
import { apPerClass, computeAp, CURVE_POINTS } from '../../../src/main/metrics/ap';
import { interp, linspace, pyRound, smooth, trapz } from '../../../src/main/metrics/numeric';

describe('numpy helpers', () => {
  it('interp uses the last of repeated xp values, left/right outside', () => {
    const xp = [0, 0.5, 0.5, 1];
    const fp = [1, 1, 0.5, 0];
    expect([...interp([0.25, 0.5, 0.75, 1, 2, -1], xp, fp, 9, 7)]).toEqual([1, 0.5, 0.25, 0, 7, 9]);
  });

  it('linspace ends exactly on stop; trapz integrates; pyRound rounds halves to even', () => {
    const x = linspace(0, 1, 101);
    expect(x[100]).toBe(1);
    expect(x[1]).toBe(0.01);
    expect(trapz([1, 1, 1], [0, 0.5, 1])).toBe(1);
    expect([pyRound(0.5), pyRound(1.5), pyRound(2.5), pyRound(2.6)]).toEqual([0, 2, 2, 3]);
  });

  it('smooth is a 101-tap box filter at f = 0.1 over 1000 points, padded with edge values', () => {
    const y = new Float64Array(1000);
    y[500] = 101;
    const s = smooth(y, 0.1);
    expect(s[500]).toBeCloseTo(1, 12);
    expect(s[450]).toBeCloseTo(1, 12);
    expect(s[449]).toBe(0);
    expect(s[551]).toBe(0);
    expect(smooth(Float64Array.from({ length: 1000 }, () => 2), 0.1)[0]).toBeCloseTo(2, 12);
  });
});

describe('computeAp', () => {
  it('gives 0.995 for a perfect detector (the 101st point, recall 1, reads the precision-0 sentinel)', () => {
    expect(computeAp([1], [1]).ap).toBeCloseTo(0.995, 12);
  });

  it('matches a hand computation of Ultralytics\' 101-point trapezoid', () => {
    // TP, FP, TP over 2 labels: recall .5 .5 1, precision 1 .5 .667
    // envelope: 1 up to recall .5 (points 0..0.49), 2/3 from 0.50 to 0.99, 0 at 1.0
    // trapz: 0.49 + 0.01 * (1 + 2/3) / 2 + 0.49 * 2/3 + 0.01 * (2/3) / 2
    const expected = 0.49 + 0.01 * (5 / 6) + 0.49 * (2 / 3) + 0.01 / 3;
    const res = computeAp([0.5, 0.5, 1], [1, 0.5, 2 / 3]);
    expect(res.ap).toBeCloseTo(expected, 12);
    expect(res.ap).toBeCloseTo(0.8283333333, 9);
    expect([...res.mpre]).toEqual([1, 1, 2 / 3, 2 / 3, 0]);
    expect([...res.mrec]).toEqual([0, 0.5, 0.5, 1, 1]);
  });

  it('is 0 when nothing is found', () => {
    expect(computeAp([0, 0], [0, 0]).ap).toBeCloseTo(0, 12);
  });
});

describe('apPerClass', () => {
  // class 0: 2 labels; predictions at conf .9 (TP at all IoUs), .8 (FP), .7 (TP only at IoU .5)
  // class 1: 1 label, no prediction; class 2: no label, one prediction (not scored)
  const niou = 10;
  // (given out of order: rows are conf .7, .9, .8, then the class-2 prediction)
  const tp = new Uint8Array(4 * niou);
  tp[0] = 1;
  tp.fill(1, niou, 2 * niou);
  const input = {
    tp,
    niou,
    conf: Float32Array.of(0.7, 0.9, 0.8, 0.95),
    predCls: Int32Array.of(0, 0, 0, 2),
    targetCounts: [2, 1, 0],
  };
  const res = apPerClass(input);

  it('scores the classes that have labels, in id order', () => {
    expect([...res.classes]).toEqual([0, 1]);
    expect([...res.nt]).toEqual([2, 1]);
  });

  it('computes AP per IoU threshold from the cumulative TP/FP', () => {
    expect(res.ap[0]).toBeCloseTo(0.8283333333, 9); // IoU .5: TP FP TP
    // IoU .55+: TP FP FP -> recall .5 .5 .5, precision 1 .5 .333: envelope 1 below recall .5,
    // 1/3 at .5 (last repeat), then a straight line to the (1, 0) sentinel:
    // 0.49 + 0.01 * (1 + 1/3) / 2 + integral of (2/3)(1 - x) over [.5, 1] = 0.49 + 1/150 + 1/12
    const expected = computeAp([0.5, 0.5, 0.5], [1, 0.5, 1 / 3]).ap;
    expect(res.ap[1]).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.49 + 1 / 150 + 1 / 12, 9);
    expect(res.ap[niou]).toBe(0); // class 1 has no predictions
  });

  it('reads P and R at the max of the smoothed mean F1', () => {
    // F1 over class rows: class 0 is 0.8 for conf <= .7 (P 2/3, R 1), class 1 is 0 -> argmax at 0
    expect(res.maxF1Index).toBe(0);
    expect(res.p[0]).toBeCloseTo(2 / 3, 12);
    expect(res.r[0]).toBeCloseTo(1, 12);
    expect(res.f1[0]).toBeCloseTo(0.8, 12);
    expect(res.p[1]).toBe(0);
    expect(res.tpAtMaxF1[0]).toBe(2);
    expect(res.fpAtMaxF1[0]).toBe(1);
  });

  it('samples P and R against confidence like np.interp(-x, -conf, ...)', () => {
    const at = (curve: Float64Array, row: number, conf: number) => curve[row * CURVE_POINTS + Math.round(conf * 999)]!;
    expect(at(res.rCurve, 0, 0.95)).toBe(0); // above every prediction: left = 0
    expect(at(res.pCurve, 0, 0.95)).toBe(1); // left = 1
    expect(at(res.rCurve, 0, 0.85)).toBeCloseTo(0.5, 2);
    expect(at(res.rCurve, 0, 0.5)).toBe(1);
    expect(res.px.length).toBe(CURVE_POINTS);
    expect(res.prCurve.length).toBe(2 * CURVE_POINTS);
  });

  it('handles no labels at all', () => {
    const r = apPerClass({ tp: new Uint8Array(10), niou: 10, conf: [0.5], predCls: [0], targetCounts: [0] });
    expect(r.classes.length).toBe(0);
    expect(r.ap.length).toBe(0);
  });
});
