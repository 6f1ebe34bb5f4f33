import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerGradients } from '../../../src/main/model/gradients';
import { YoloModel } from '../../../src/main/model/yolo';
import { maxAbsDiff, randomImages, smoothYolo11Yaml, tinyYolo11Yaml, tinyYolov8Yaml, useModelTestBackend } from '../../helpers/model-fixtures';

/** DFL + dist2bbox written out longhand, to check decode() independently. raw: per level [H, W, no] for batch 0. */
function decodeReference(raw: Float32Array[], hw: [number, number][], stride: number[], nc: number, regMax = 16): number[][] {
  const no = 4 * regMax + nc;
  const out: number[][] = Array.from({ length: 4 + nc }, () => []);
  hw.forEach(([h, w], l) => {
    const r = raw[l]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const base = (y * w + x) * no;
        const d: number[] = [];
        for (let side = 0; side < 4; side++) {
          const logits = Array.from(r.subarray(base + side * regMax, base + (side + 1) * regMax));
          const mx = Math.max(...logits);
          const e = logits.map((v) => Math.exp(v - mx));
          const sum = e.reduce((a, b) => a + b, 0);
          d.push(e.reduce((a, v, i) => a + (v / sum) * i, 0));
        }
        const [ax, ay] = [x + 0.5, y + 0.5];
        const [x1, y1, x2, y2] = [ax - d[0]!, ay - d[1]!, ax + d[2]!, ay + d[3]!];
        const s = stride[l]!;
        out[0]!.push(((x1 + x2) / 2) * s);
        out[1]!.push(((y1 + y2) / 2) * s);
        out[2]!.push((x2 - x1) * s);
        out[3]!.push((y2 - y1) * s);
        for (let c = 0; c < nc; c++) out[4 + c]!.push(1 / (1 + Math.exp(-r[base + 4 * regMax + c]!)));
      }
    }
  });
  return out;
}

describe('YoloModel', () => {
  let model: YoloModel;
  let baseline: number;

  beforeAll(async () => {
    await useModelTestBackend();
    baseline = tf.memory().numTensors;
    model = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, ['a', 'b', 'c'], { seed: 1 });
  });
  afterAll(() => {
    model.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('gives raw per-level outputs and the [B, 4+nc, N] decoded output', () => {
    const x = randomImages(2, 64, 96);
    const raw = model.forward(x);
    expect(raw.map((r) => r.shape)).toEqual([
      [2, 8, 12, 67],
      [2, 4, 6, 67],
      [2, 2, 3, 67],
    ]);
    const out = model.decode(raw);
    expect(out.shape).toEqual([2, 7, 96 + 24 + 6]);
    const first = (t: tf.Tensor) => tf.tidy(() => tf.slice(t, new Array(t.rank).fill(0), [1, ...new Array(t.rank - 1).fill(-1)]).dataSync() as Float32Array);
    const ref = decodeReference(
      raw.map(first),
      raw.map((r) => [r.shape[1], r.shape[2]] as [number, number]),
      model.stride,
      3,
    );
    const ours = tf.tidy(() => tf.slice(out, [0, 0, 0], [1, -1, -1]).arraySync() as number[][][]);
    for (let c = 0; c < 7; c++) expect(maxAbsDiff(ours[0]![c]!, ref[c]!)).toBeLessThan(1e-3);
    tf.dispose([x, raw, out]);
  });

  it('initialises like PyTorch and Ultralytics: bounded conv weights, BN ones/zeros, DFL arange, Detect bias prior', () => {
    const sd = model.stateDict();
    const w = sd.get('model.1.conv.weight')!; // [16, 8, 3, 3], fan_in 72
    const bound = 1 / Math.sqrt(72);
    expect(Math.max(...w.data.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.data.map(Math.abs))).toBeGreaterThan(bound * 0.9);
    expect([...sd.get('model.1.bn.weight')!.data]).toEqual(new Array(16).fill(1));
    expect([...sd.get('model.1.bn.running_var')!.data]).toEqual(new Array(16).fill(1));
    expect([...sd.get('model.22.dfl.conv.weight')!.data]).toEqual([...Array(16).keys()]);
    expect([...sd.get('model.22.cv2.1.2.bias')!.data]).toEqual(new Array(64).fill(1));
    const prior = Math.fround(Math.log(5 / 3 / (640 / 16) ** 2));
    expect([...sd.get('model.22.cv3.1.2.bias')!.data]).toEqual([prior, prior, prior]);
    const again = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, [], { seed: 1 });
    const other = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, [], { seed: 2 });
    expect(maxAbsDiff(again.stateDict().get('model.1.conv.weight')!.data, w.data)).toBe(0);
    expect(maxAbsDiff(other.stateDict().get('model.1.conv.weight')!.data, w.data)).toBeGreaterThan(0);
    expect(again.names).toEqual(['0', '1', '2']);
    again.dispose();
    other.dispose();
  });

  it('groups parameters the way Ultralytics builds its optimizer', () => {
    const ps = model.params();
    const group = (n: string) => ps.find((p) => p.name === n)?.group;
    expect(group('model.0.conv.weight')).toBe('weight');
    expect(group('model.0.bn.weight')).toBe('bn');
    expect(group('model.0.bn.bias')).toBe('bias');
    expect(group('model.22.cv3.0.2.bias')).toBe('bias');
    expect(group('model.22.dfl.conv.weight')).toBeUndefined(); // fixed, not trained
    expect(ps.every((p) => p.variable.trainable)).toBe(true);
    const running = model.entries().filter((e) => e.role === 'running_mean');
    expect(running.every((e) => !e.variable.trainable)).toBe(true);
    expect(model.numParams()).toBe(ps.reduce((a, p) => a + p.variable.size, 0) + 16);
  });

  it('in train mode normalises with batch statistics and updates running stats like PyTorch', () => {
    const m = YoloModel.fromYaml(tinyYolov8Yaml(2), 2, [], { seed: 3 });
    const x = randomImages(2, 32, 32, 5);
    // The first layer's conv output, by hand: [2, 16, 16, 8]
    const conv0 = m.entries().find((e) => e.name === 'model.0.conv.weight')!.variable as tf.Tensor4D;
    const y = tf.conv2d(x, conv0, 2, 1);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const n = y.size / 8;
    const expectMean = Array.from(mean.dataSync(), (v) => 0.03 * v);
    const expectVar = Array.from(variance.dataSync(), (v) => 0.97 + 0.03 * v * (n / (n - 1)));
    const evalOut = m.predict(x);
    m.train();
    tf.dispose(m.forward(x));
    m.eval();
    const sd = m.stateDict();
    expect(maxAbsDiff(sd.get('model.0.bn.running_mean')!.data, expectMean)).toBeLessThan(1e-6);
    expect(maxAbsDiff(sd.get('model.0.bn.running_var')!.data, expectVar)).toBeLessThan(1e-6);
    expect(sd.get('model.0.bn.num_batches_tracked')!.data[0]).toBe(1);
    // eval outputs now differ (running stats moved), and eval is deterministic
    const a = m.predict(x);
    const b = m.predict(x);
    expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBe(0);
    expect(maxAbsDiff(a.dataSync(), evalOut.dataSync())).toBeGreaterThan(0);
    tf.dispose([x, y, mean, variance, evalOut, a, b]);
    m.dispose();
  });

  it('does not leak tensors over 20 eval forwards and 5 training-mode forwards', () => {
    const x = randomImages(2, 64, 64, 9);
    const warm = model.predict(x); // builds the eval-mode folded-weight caches once
    warm.dispose();
    tf.dispose(model.forward(x, { training: true }));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const raw = model.forward(x);
      const out = model.decode(raw);
      tf.dispose([raw, out]);
    }
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < 5; i++) tf.dispose(model.forward(x, { training: true }));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('re-initialises the class head for new classes, keeping everything else (Ultralytics intersect_dicts)', () => {
    const m = YoloModel.fromYaml(tinyYolo11Yaml(80), 80, [], { seed: 4 });
    const before = m.stateDict();
    expect(before.get('model.22.cv3.0.2.weight')!.shape).toEqual([80, 80, 1, 1]); // c3 = max(32, min(80, 100))
    const reinit = m.resetClassHead(3, ['cat', 'dog', 'emu'], { seed: 5 });
    const after = m.stateDict();
    expect(m.nc).toBe(3);
    expect(m.yaml.nc).toBe(3);
    expect(m.names).toEqual(['cat', 'dog', 'emu']);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [k, v] of before) {
      if (k.includes('.cv3.')) continue;
      expect(maxAbsDiff(after.get(k)!.data, v.data), k).toBe(0);
    }
    // c3 shrinks to max(32, 3) = 32: the depthwise convs on the inputs keep their weights, the rest of cv3 is new
    expect(maxAbsDiff(after.get('model.22.cv3.1.0.0.conv.weight')!.data, before.get('model.22.cv3.1.0.0.conv.weight')!.data)).toBe(0);
    expect(after.get('model.22.cv3.1.0.1.conv.weight')!.shape).toEqual([32, 64, 1, 1]);
    expect(after.get('model.22.cv3.2.2.weight')!.shape).toEqual([3, 32, 1, 1]);
    const prior = Math.fround(Math.log(5 / 3 / (640 / 32) ** 2));
    expect([...after.get('model.22.cv3.2.2.bias')!.data]).toEqual([prior, prior, prior]);
    expect(reinit).toContain('model.22.cv3.0.2.weight');
    expect(reinit).not.toContain('model.22.cv3.0.0.0.conv.weight');
    expect(reinit.every((k) => k.includes('.cv3.'))).toBe(true);

    // Same width (c3 stays 32): only the final class convs change.
    const before2 = m.stateDict();
    for (const bn of m.store.batchNorms.values()) bn.momentum = 0.5; // a checkpoint's own BN setting
    const reinit2 = m.resetClassHead(5, undefined, { seed: 6 });
    expect([...m.store.batchNorms.values()].every((bn) => bn.momentum === 0.5)).toBe(true);
    expect(reinit2.sort()).toEqual(['model.22.cv3.0.2.bias', 'model.22.cv3.0.2.weight', 'model.22.cv3.1.2.bias', 'model.22.cv3.1.2.weight', 'model.22.cv3.2.2.bias', 'model.22.cv3.2.2.weight']);
    const after2 = m.stateDict();
    for (const [k, v] of before2) if (!reinit2.includes(k)) expect(maxAbsDiff(after2.get(k)!.data, v.data), k).toBe(0);
    expect(m.names).toEqual(['0', '1', '2', '3', '4']);
    const x = randomImages(1, 64, 64);
    const out = m.predict(x);
    expect(out.shape).toEqual([1, 9, 84]);
    tf.dispose([x, out]);
    m.dispose();
  });

  it('tells a BN-folded export (weight 1, mean 0, var 1 - eps) from a fresh or trained model', () => {
    const m = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, [], { seed: 4 });
    expect(m.hasFoldedBatchNorm()).toBe(false); // fresh init: var 1
    tf.tidy(() => {
      for (const bn of m.store.batchNorms.values()) bn.runningVar.variable.assign(tf.fill([bn.c], Math.fround(1 - bn.eps)));
    });
    expect(m.hasFoldedBatchNorm()).toBe(true);
    const first = [...m.store.batchNorms.values()][0]!;
    tf.tidy(() => first.runningMean.variable.assign(tf.fill([first.c], 0.01)));
    expect(m.hasFoldedBatchNorm()).toBe(false);
    m.dispose();
  });

  it('loads its own state dict back exactly and checks shapes', () => {
    const other = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, [], { seed: 9 });
    other.loadStateDict(model.stateDict());
    const loaded = other.stateDict();
    for (const [k, v] of model.stateDict()) expect(maxAbsDiff(loaded.get(k)!.data, v.data), k).toBe(0);
    const bad = model.stateDict();
    bad.set('model.0.conv.weight', { dtype: 'float32', shape: [1, 2, 3, 4], data: new Float32Array(24) });
    expect(() => other.loadStateDict(bad)).toThrow(/shape mismatch model\.0\.conv\.weight \[1, 2, 3, 4\] vs \[8, 3, 3, 3\]/);
    other.dispose();
  });

  it('is differentiable in train mode: every trainable parameter gets a gradient (cpu backend)', async () => {
    const before = tf.getBackend();
    await registerGradients();
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    const m = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, [], { seed: 12 });
    try {
      const x = randomImages(2, 32, 32, 3);
      const vars = m.params().map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => {
        const raw = m.forward(x, { training: true });
        return tf.addN(raw.map((r) => tf.mean(tf.square(r)))) as tf.Scalar;
      }, vars);
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      const named = m.params();
      for (const p of named) {
        const g = grads[p.variable.name];
        expect(g, p.name).toBeDefined();
        expect(g!.shape, p.name).toEqual(p.variable.shape);
      }
      // the attention block and the depthwise convs are on the gradient path too
      const norm = (n: string) => tf.tidy(() => tf.norm(grads[named.find((p) => p.name === n)!.variable.name]!).dataSync()[0]!);
      expect(norm('model.9.m.0.attn.qkv.conv.weight')).toBeGreaterThan(0);
      expect(norm('model.22.cv3.0.0.0.conv.weight')).toBeGreaterThan(0);
      tf.dispose([x, value, grads]);
    } finally {
      m.dispose();
      await tf.setBackend(before);
    }
  });

  it('has gradients that match central finite differences (smooth network, cpu backend)', async () => {
    const before = tf.getBackend();
    await registerGradients();
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    // No SPPF: max pooling has kinks that finite differences cannot see through.
    const m = YoloModel.fromYaml(smoothYolo11Yaml(3), 3, [], { seed: 12 });
    try {
      const x = randomImages(2, 64, 64, 3);
      const loss = () => tf.tidy(() => tf.addN(m.forward(x, { training: true }).map((r) => tf.mean(tf.square(r)))) as tf.Scalar);
      for (const name of ['model.0.bn.weight', 'model.0.conv.weight', 'model.8.m.0.attn.qkv.conv.weight', 'model.21.cv3.0.0.0.conv.weight']) {
        const p = m.params().find((q) => q.name === name)!;
        const { value, grads } = tf.variableGrads(loss, [p.variable]);
        const g = grads[p.variable.name]!.dataSync();
        tf.dispose([value, grads]);
        let index = 0;
        for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[index]!)) index = i;
        const flat = p.variable.dataSync().slice() as Float32Array;
        const set = (v: Float32Array) => {
          const t = tf.tensor(v, p.variable.shape);
          p.variable.assign(t);
          t.dispose();
        };
        const at = (delta: number) => {
          const v = flat.slice();
          v[index] = v[index]! + delta;
          set(v);
          const l = loss();
          const value = l.dataSync()[0]!;
          l.dispose();
          return value;
        };
        const h = 1e-3;
        const numeric = (at(h) - at(-h)) / (2 * h);
        set(flat);
        expect(Math.abs(numeric - g[index]!), `${name}[${index}]: numeric ${numeric} vs tape ${g[index]}`).toBeLessThan(0.03 * Math.abs(g[index]!) + 1e-3);
      }
      x.dispose();
    } finally {
      m.dispose();
      await tf.setBackend(before);
    }
  });

  it('rejects inputs of the wrong size or channels', () => {
    const x = tf.zeros([1, 50, 64, 3]) as tf.Tensor4D;
    expect(() => model.forward(x)).toThrow(/multiples of 32/);
    const y = tf.zeros([1, 64, 64, 1]) as tf.Tensor4D;
    expect(() => model.forward(y)).toThrow(/3 channels/);
    tf.dispose([x, y]);
  });
});
