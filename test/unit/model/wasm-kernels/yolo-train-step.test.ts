/**
 * A full training step (train-mode forward, scalar loss, tf.variableGrads over every parameter) of a
 * small YOLO11-style model that uses every module boxtune builds, on wasm with boxtune's gradient
 * kernels vs the cpu backend: each parameter's gradient within 1e-3 (||wasm - cpu|| / ||cpu||).
 * And no leaks: three wasm steps leave the tensor count and wasm's data buffers unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerGradients } from '../../../../src/main/model/gradients';
import { YoloModel } from '../../../../src/main/model/yolo';
import { tinyYolo11Yaml } from '../../../helpers/model-fixtures';
import { l2RelError, randomValues, startBackends, wasmDataIds } from './kernel-compare';

const B = 2;
const S = 64;

/** Sum of squares of the raw outputs, and every parameter's gradient (by Ultralytics name). */
function trainStep(model: YoloModel, x: tf.Tensor4D): { loss: number; grads: Map<string, Float32Array> } {
  const params = model.params();
  const { value, grads } = tf.variableGrads(() => tf.addN(model.forward(x, { training: true }).map((r) => tf.sum(tf.square(r)))) as tf.Scalar, params.map((p) => p.variable));
  const out = new Map<string, Float32Array>();
  for (const p of params) out.set(p.name, Float32Array.from(grads[p.variable.name]!.dataSync() as Float32Array));
  const loss = value.dataSync()[0]!;
  tf.dispose([value, grads]);
  return { loss, grads: out };
}

describe('a YOLO training step on wasm matches the cpu backend', () => {
  const input = randomValues(B * S * S * 3, 11).map((v) => (v + 1) / 2); // 0..1 like images

  beforeAll(async () => {
    await registerGradients();
    await startBackends();
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('gives every parameter the cpu backend gradient within 1e-3', { timeout: 240_000 }, async () => {
    const run = async (backend: 'wasm' | 'cpu') => {
      await tf.setBackend(backend);
      const model = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, [], { seed: 21 });
      const x = tf.tensor4d(input, [B, S, S, 3]);
      try {
        return trainStep(model, x);
      } finally {
        x.dispose();
        model.dispose();
      }
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    expect(Math.abs(wasm.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-4);
    expect(wasm.grads.size).toBe(cpu.grads.size);
    const norm = (a: Float32Array) => Math.sqrt(a.reduce((acc, v) => acc + v * v, 0));
    const norms = [...cpu.grads.values()].map(norm).sort((a, b) => a - b);
    const tiny = 1e-6 * norms[norms.length >> 1]!;
    const zero: string[] = [];
    let worst = 0;
    for (const [name, g] of cpu.grads) {
      const w = wasm.grads.get(name)!;
      if (norm(g) < tiny) {
        // Analytically zero: the bias of a no-activation Conv's BN whose output reaches the loss only
        // through train-mode BNs, which remove any per-channel constant. Both backends give noise.
        zero.push(name);
        expect(norm(w), name).toBeLessThan(tiny);
        continue;
      }
      const e = l2RelError(w, g);
      worst = Math.max(worst, e);
      expect(e, name).toBeLessThan(1e-3);
    }
    expect(zero.every((n) => /\.(attn\.pe|attn\.proj|ffn\.1)\.bn\.bias$/.test(n)), zero.join(', ')).toBe(true);
    expect(worst).toBeGreaterThan(0); // genuinely different arithmetic, not the same backend twice
  });

  it('does not leak tensors or wasm buffers over three training steps', async () => {
    await tf.setBackend('wasm');
    const model = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, [], { seed: 22 });
    const x = tf.tensor4d(input, [B, S, S, 3]);
    trainStep(model, x); // warm-up
    const tensors = tf.memory().numTensors;
    const buffers = wasmDataIds();
    for (let i = 0; i < 3; i++) trainStep(model, x);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(wasmDataIds()).toBe(buffers);
    x.dispose();
    model.dispose();
  });
});
