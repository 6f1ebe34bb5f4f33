/**
 * The loss's gradients through the model against Ultralytics 8.3.186 (../shared/golden/yolo11n-coco):
 * a fresh models/yolo11n-coco.pt, train-mode forward (BatchNorm batch statistics) on the two-image
 * loss batch loss_img, v8DetectionLoss on its 10 targets, backward of sum(loss_items) * batch size.
 * The five saved gradients (torch layout) must match within 1e-3 relative (L2 norm of the difference
 * over the norm of the reference). Runs on wasm with boxtune's convolution-backprop kernels
 * (src/main/model/wasm-kernels), else on the plain-JS cpu backend, where this one step takes minutes.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerGradients } from '../../src/main/model/gradients';
import { tfToTorch } from '../../src/main/model/modules/nn';
import { readPtFile } from '../../src/main/model/pt/pt-reader';
import { YoloModel } from '../../src/main/model/yolo';
import { V8DetectionLoss, type DetectionTargets } from '../../src/main/train/loss/detection-loss';
import { useModelTestBackend } from '../helpers/model-fixtures';
import { l2RelError } from '../unit/model/wasm-kernels/kernel-compare';

const repoRoot = path.resolve(__dirname, '../..');
const SHARED = path.resolve(repoRoot, '../shared');
const GOLDEN = path.join(SHARED, 'golden/yolo11n-coco');

interface GoldenJson {
  arrays: Record<string, { shape: number[] }>;
  loss: { values: { box: number; cls: number; dfl: number; 'backprop_total=(loss_items*bs).sum()': number }; grads: Record<string, string> };
}
const golden = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'golden.json'), 'utf8')) as GoldenJson;
const readF32 = (name: string): Float32Array => {
  const b = fs.readFileSync(path.join(GOLDEN, `${name}.bin`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

function goldenTargets(): DetectionTargets {
  const t = readF32('loss_targets');
  const n = golden.arrays.loss_targets!.shape[0]!;
  return {
    batchIdx: Array.from({ length: n }, (_, i) => t[6 * i]!),
    cls: Array.from({ length: n }, (_, i) => t[6 * i + 1]!),
    bboxes: Array.from({ length: 4 * n }, (_, k) => t[6 * Math.floor(k / 4) + 2 + (k % 4)]!),
  };
}

describe('v8DetectionLoss gradients through yolo11n (Ultralytics 8.3.186)', () => {
  let model: YoloModel;
  let imgs: tf.Tensor4D;

  beforeAll(async () => {
    await registerGradients();
    // wasm with boxtune's training kernels (backend.ts registers them), else the plain-JS cpu backend
    await useModelTestBackend();
    const wasmCanTrain = tf.getBackend() === 'wasm' && ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'].every((k) => tf.getKernel(k, 'wasm'));
    if (!wasmCanTrain) await tf.setBackend('cpu');
    model = YoloModel.fromCheckpoint(readPtFile(path.join(SHARED, 'models/yolo11n-coco.pt')));
    const shape = golden.arrays.loss_img!.shape as [number, number, number, number];
    imgs = tf.tidy(() => tf.transpose(tf.tensor4d(readF32('loss_img'), shape), [0, 2, 3, 1])); // NCHW -> NHWC
  });
  afterAll(() => {
    imgs?.dispose();
    model?.dispose();
  });

  it('the five saved gradients match within 1e-3 relative L2', () => {
    const criterion = V8DetectionLoss.fromModel(model);
    const targets = goldenTargets();
    // gradients only for the five saved parameters (tfjs prunes the backward pass to their paths)
    const params = model.params().filter((p) => p.name in golden.loss.grads);
    expect(params.length).toBe(5);
    let items: [number, number, number] = [0, 0, 0];
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const raw = model.forward(imgs, { training: true });
      const out = criterion.compute(raw, targets, { imgsz: [320, 320] });
      items = out.items;
      return out.total;
    }, params.map((p) => p.variable));
    const ms = performance.now() - t0;
    const { values } = golden.loss;
    const ref = [values.box, values.cls, values.dfl];
    const lossErr = items.map((v, i) => Math.abs(v - ref[i]!) / ref[i]!);
    const errs: string[] = [];
    for (const [name, file] of Object.entries(golden.loss.grads)) {
      const p = params.find((q) => q.name === name);
      expect(p, name).toBeDefined();
      const entry = model.entries().find((e) => e.name === name)!;
      const g = grads[p!.variable.name];
      expect(g, `no gradient for ${name}`).toBeDefined();
      const ours = tfToTorch(g!, entry); // torch layout (OIHW for conv weights)
      const want = readF32(file);
      expect([...entry.torchShape]).toEqual(golden.arrays[file]!.shape);
      const e = l2RelError(ours, want);
      errs.push(`${name} ${e.toExponential(2)}`);
      expect(e, name).toBeLessThan(1e-3);
    }
    console.log(
      `train-mode forward + loss + backward ${ms.toFixed(0)} ms (${tf.getBackend()}); loss items ${items.map((v) => v.toFixed(5)).join(' / ')} ` +
        `(relative errors ${lossErr.map((e) => e.toExponential(2)).join(' / ')}); gradient relative L2 errors: ${errs.join(', ')}`,
    );
    for (const e of lossErr) expect(e).toBeLessThan(1e-3);
    expect(Math.abs(value.dataSync()[0]! - values['backprop_total=(loss_items*bs).sum()']) / values['backprop_total=(loss_items*bs).sum()']).toBeLessThan(1e-3);
    tf.dispose([value, ...Object.values(grads)]);
  }, 1_800_000);
});
