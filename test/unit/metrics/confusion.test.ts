import { describe, expect, it } from 'vitest';
import { ConfusionMatrix } from '../../../src/main/metrics/confusion';

const BG = 3; // nc = 3, background index

describe('ConfusionMatrix', () => {
  it('uses conf 0.25 (also when given the val default 0.001) and IoU 0.45', () => {
    expect(new ConfusionMatrix(3).conf).toBe(0.25);
    expect(new ConfusionMatrix(3, { conf: 0.001 }).conf).toBe(0.25);
    expect(new ConfusionMatrix(3, { conf: 0.5 }).conf).toBe(0.5);
    expect(new ConfusionMatrix(3).iouThres).toBe(0.45);
  });

  it('counts correct, wrong-class, missed and spurious boxes', () => {
    const cm = new ConfusionMatrix(3);
    const gt = Float32Array.of(0, 0, 10, 10, 100, 100, 110, 110, 200, 200, 210, 210);
    const gtCls = [0, 1, 2];
    const pred = Float32Array.of(
      0, 0, 10, 10, // class 0 on label 0: correct
      100, 100, 110, 111, // class 2 on label 1 (a class 1): confused
      300, 300, 310, 310, // class 0 on nothing: background FP
      200, 200, 210, 210, // on label 2 but conf 0.1: ignored, so label 2 is missed
    );
    cm.processImage(pred, [0.9, 0.8, 0.7, 0.1], [0, 2, 0, 2], gt, gtCls);
    expect(cm.at(0, 0)).toBe(1);
    expect(cm.at(2, 1)).toBe(1);
    expect(cm.at(0, BG)).toBe(1);
    expect(cm.at(BG, 2)).toBe(1);
    const total = cm.matrix.reduce((a, b) => a + b, 0);
    expect(total).toBe(4);
    const { tp, fp } = cm.tpFp();
    expect([...tp]).toEqual([1, 0, 0]);
    expect([...fp]).toEqual([1, 0, 1]);
  });

  it('keeps one prediction per label: the highest IoU', () => {
    const cm = new ConfusionMatrix(3);
    const gt = Float32Array.of(0, 0, 10, 10);
    const pred = Float32Array.of(0, 0, 10, 8, 0, 0, 10, 10);
    cm.processImage(pred, [0.9, 0.5], [1, 0], gt, [0]);
    expect(cm.at(0, 0)).toBe(1); // IoU 1.0 wins over 0.8
    expect(cm.at(1, BG)).toBe(1);
  });

  it('handles images without labels or without predictions', () => {
    const cm = new ConfusionMatrix(3);
    cm.processImage(Float32Array.of(0, 0, 1, 1), [0.9], [1], new Float32Array(0), []);
    cm.processImage(new Float32Array(0), [], [], Float32Array.of(0, 0, 1, 1), [2]);
    expect(cm.at(1, BG)).toBe(1);
    expect(cm.at(BG, 2)).toBe(1);
    const norm = cm.normalized();
    expect(norm[BG * 4 + 2]).toBeCloseTo(1, 6);
    expect(cm.toRows().length).toBe(4);
  });
});
