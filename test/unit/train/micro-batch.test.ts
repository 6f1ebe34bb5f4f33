/**
 * A batch run as several passes gives the one-pass loss items and gradients (with BatchNorm in eval,
 * where the passes cannot differ by batch statistics), slices keep boxes with their images, and the
 * BatchNorm momentum is put back afterwards.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { YoloModel } from '../../../src/main/model/yolo';
import type { Batch } from '../../../src/main/train/data/loader';
import { V8DetectionLoss } from '../../../src/main/train/loss/detection-loss';
import { batchGradients, maxImagesPerPass, sliceBatch } from '../../../src/main/train/micro-batch';
import { tinyYolo11Yaml } from '../../helpers/model-fixtures';
import { trainingBackend } from '../../helpers/train-backend';

/** B random images of size x size, with boxes on some of them (image 1 has none). */
function syntheticBatch(B: number, size: number): Batch {
  let seed = 7;
  const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const images = Float32Array.from({ length: B * size * size * 3 }, rand);
  const batchIdx: number[] = [];
  const cls: number[] = [];
  const boxes: number[] = [];
  for (let b = 0; b < B; b++) {
    if (b === 1) continue;
    for (let k = 0; k <= b % 3; k++) {
      batchIdx.push(b);
      cls.push((b + k) % 3);
      boxes.push(0.2 + 0.15 * k, 0.3 + 0.1 * (b % 4), 0.2 + 0.05 * k, 0.25);
    }
  }
  return {
    epoch: 0, index: 0, count: B, height: size, width: size, images,
    batchIdx: Int32Array.from(batchIdx), cls: Int32Array.from(cls), boxes: Float32Array.from(boxes),
    indices: Int32Array.from({ length: B }, (_, i) => i), originalSizes: new Int32Array(B * 2).fill(size),
    ratioPad: new Float32Array(B * 4),
  };
}

function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.norm(tf.sub(a, b)).dataSync()[0]! / Math.max(tf.norm(a).dataSync()[0]!, 1e-12));
}

describe('micro-batches', () => {
  let model: YoloModel;
  let loss: V8DetectionLoss;
  beforeAll(async () => {
    await trainingBackend();
    model = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, ['a', 'b', 'c'], { seed: 2 });
    loss = V8DetectionLoss.fromModel(model);
  });
  afterAll(() => model.dispose());

  it('how many images one wasm pass holds, and no limit elsewhere', () => {
    expect(maxImagesPerPass('wasm', 320, 320)).toBe(4);
    expect(maxImagesPerPass('wasm', 640, 640)).toBe(1);
    expect(maxImagesPerPass('wasm', 1280, 1280)).toBe(1);
    expect(maxImagesPerPass('cpu', 640, 640)).toBe(Infinity);
    expect(maxImagesPerPass('tensorflow', 640, 640)).toBe(Infinity);
  });

  it('a slice keeps its images and their boxes, re-indexed', () => {
    const b = syntheticBatch(5, 8);
    const s = sliceBatch(b, 2, 4);
    expect(s.count).toBe(2);
    expect(Array.from(s.images)).toEqual(Array.from(b.images.subarray(2 * 8 * 8 * 3, 4 * 8 * 8 * 3)));
    const want = [...b.batchIdx].map((v, k) => [v, k] as const).filter(([v]) => v >= 2 && v < 4);
    expect(Array.from(s.batchIdx)).toEqual(want.map(([v]) => v - 2));
    expect(Array.from(s.cls)).toEqual(want.map(([, k]) => b.cls[k]));
    expect(Array.from(s.boxes)).toEqual(want.flatMap(([, k]) => Array.from(b.boxes.subarray(k * 4, k * 4 + 4))));
    expect(Array.from(s.indices)).toEqual([2, 3]);
  });

  it('uneven passes give the one-pass items and gradients, and restore the BN momentum', () => {
    const b = syntheticBatch(5, 64);
    const params = model.params();
    const vars = params.map((p) => p.variable);
    const nameOf = new Map(params.map((p) => [p.variable.name, p.name]));
    model.train();
    model.frozenLayers = 1000; // BN in eval: passes then see exactly what one pass sees
    const whole = batchGradients(model, loss, b, vars, nameOf, 8);
    const split = batchGradients(model, loss, b, vars, nameOf, 2); // 3 passes: 2 + 2 + 1 images
    model.frozenLayers = 0;
    expect(whole.passes).toBe(1);
    expect(split.passes).toBe(3);
    for (let k = 0; k < 3; k++) expect(split.items[k]).toBeCloseTo(whole.items[k]!, 4);
    expect(split.grads.size).toBe(whole.grads.size);
    expect(whole.grads.size).toBeGreaterThan(100); // every parameter, cached folded kernels or not
    let worst = 0;
    for (const [name, g] of whole.grads) worst = Math.max(worst, relDiff(g, split.grads.get(name)!));
    expect(worst).toBeLessThan(1e-4);
    expect([...model.store.batchNorms.values()].every((bn) => bn.momentum === 0.03)).toBe(true);
    tf.dispose([...whole.grads.values(), ...split.grads.values()]);
  });
});
