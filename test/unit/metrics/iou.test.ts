import { describe, expect, it } from 'vitest';
import { boxIou, iouOne, xywhToXyxy } from '../../../src/main/metrics/iou';

describe('boxIou', () => {
  it('computes the [na, nb] matrix with Ultralytics eps', () => {
    const a = Float32Array.of(0, 0, 10, 10, 100, 100, 110, 120);
    const b = Float32Array.of(0, 0, 10, 10, 5, 0, 15, 10, 0, 0, 10, 5, 20, 20, 30, 30);
    const m = boxIou(a, b);
    expect(m.length).toBe(8);
    expect(m[0]).toBeCloseTo(100 / (100 + 1e-7), 7); // identical
    expect(m[1]).toBeCloseTo(50 / 150, 6); // half shifted
    expect(m[2]).toBeCloseTo(0.5, 6); // half contained
    expect(m[3]).toBe(0); // disjoint
    expect([...m.subarray(4)]).toEqual([0, 0, 0, 0]);
  });

  it('gives 0 for boxes that only touch, and handles empty inputs', () => {
    expect(boxIou(Float32Array.of(0, 0, 10, 10), Float32Array.of(10, 0, 20, 10))[0]).toBe(0);
    expect(boxIou(new Float32Array(0), Float32Array.of(0, 0, 1, 1)).length).toBe(0);
    expect(iouOne([0, 0, 2, 2], [1, 1, 3, 3])).toBeCloseTo(1 / 7, 6);
  });

  it('converts centre boxes to corners', () => {
    expect([...xywhToXyxy([10, 20, 4, 6])]).toEqual([8, 17, 12, 23]);
  });
});
