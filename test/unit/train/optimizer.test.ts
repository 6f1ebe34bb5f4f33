import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelEma } from '../../../src/main/train/ema';
import { clipGradNorm, GroupedOptimizer, type TrainableParam } from '../../../src/main/train/optimizer';
import { applyLearningRates, batchScaling, lrFactor, pyRound, warmupIterations } from '../../../src/main/train/schedule';
import { autoIterations, chooseOptimizer } from '../../../src/shared/training';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function params(): TrainableParam[] {
  return [
    { name: 'model.0.conv.weight', variable: tf.variable(tf.tensor([1, -2, 3])), group: 'weight' },
    { name: 'model.0.bn.weight', variable: tf.variable(tf.tensor([0.5])), group: 'bn' },
    { name: 'model.0.bn.bias', variable: tf.variable(tf.tensor([0.25, -0.25])), group: 'bias' },
  ];
}
const values = (p: TrainableParam): number[] => Array.from(p.variable.dataSync());

describe('GroupedOptimizer', () => {
  it('puts parameters in Ultralytics groups: pg0 biases, pg1 decayed weights, pg2 norm weights', () => {
    const opt = new GroupedOptimizer(params(), { name: 'SGD', lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
    expect(opt.groups.map((g) => [g.id, g.group, g.weightDecay])).toEqual([
      ['pg0', 'bias', 0],
      ['pg1', 'weight', 5e-4],
      ['pg2', 'bn', 0],
    ]);
  });

  it('matches torch SGD with Nesterov momentum and weight decay over three steps', () => {
    const ps = params();
    const opt = new GroupedOptimizer(ps, { name: 'SGD', lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    // Reference computed by hand from torch.optim.SGD's documented rule.
    let p = [1, -2, 3];
    let buf: number[] | null = null;
    const grad = [0.5, 0.25, -1];
    for (let step = 0; step < 3; step++) {
      const g = grad.map((x) => tf.tensor([x]));
      opt.step(new Map([['model.0.conv.weight', tf.tensor(grad)]]));
      g.forEach((t) => t.dispose());
      const d = grad.map((x, i) => x + 0.01 * p[i]!);
      buf = buf ? buf.map((b, i) => 0.9 * b + d[i]!) : d;
      const upd = d.map((x, i) => x + 0.9 * buf![i]!);
      p = p.map((x, i) => x - 0.1 * upd[i]!);
    }
    values(ps[0]!).forEach((v, i) => expect(v).toBeCloseTo(p[i]!, 5));
    expect(values(ps[1]!)).toEqual([0.5]); // no gradient: untouched
    opt.dispose();
  });

  it('matches torch AdamW (decoupled decay, bias-corrected moments)', () => {
    const ps = params();
    const opt = new GroupedOptimizer(ps, { name: 'AdamW', lr: 0.01, momentum: 0.9, weightDecay: 0.1 });
    let p = [1, -2, 3];
    let m = [0, 0, 0];
    let v = [0, 0, 0];
    const grad = [0.5, 0.25, -1];
    for (let t = 1; t <= 3; t++) {
      opt.step(new Map([['model.0.conv.weight', tf.tensor(grad)]]));
      p = p.map((x) => x * (1 - 0.01 * 0.1));
      m = m.map((x, i) => 0.9 * x + 0.1 * grad[i]!);
      v = v.map((x, i) => 0.999 * x + 0.001 * grad[i]! ** 2);
      p = p.map((x, i) => x - (0.01 / (1 - 0.9 ** t)) * (m[i]! / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8)));
    }
    values(ps[0]!).forEach((val, i) => expect(val).toBeCloseTo(p[i]!, 5));
    // The state round-trips for resume.
    const state = opt.getState();
    const again = new GroupedOptimizer(params(), { name: 'AdamW', lr: 0.01, momentum: 0.9, weightDecay: 0.1 });
    again.setState(state);
    expect(again.steps).toBe(3);
    expect(Array.from(again.getState().slots['model.0.conv.weight']!.v!)).toEqual(Array.from(state.slots['model.0.conv.weight']!.v!));
    opt.dispose();
    again.dispose();
  });

  it('leaks no tensors across steps', () => {
    const ps = params();
    const opt = new GroupedOptimizer(ps, { name: 'SGD', lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    const grads = new Map(ps.map((p) => [p.name, tf.onesLike(p.variable)] as const));
    opt.step(grads);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.step(grads);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
  });
});

describe('clipGradNorm', () => {
  it('scales gradients to a global norm of maxNorm, and leaves small ones alone', () => {
    const grads = new Map([
      ['a', tf.tensor([30, 0])],
      ['b', tf.tensor([40])],
    ]);
    const { norm, grads: clipped } = clipGradNorm(grads, 10);
    expect(norm).toBeCloseTo(50, 4);
    expect(Array.from(clipped.get('a')!.dataSync())[0]).toBeCloseTo(6, 4);
    expect(Array.from(clipped.get('b')!.dataSync())[0]).toBeCloseTo(8, 4);
    const small = clipGradNorm(new Map([['a', tf.tensor([3, 4])]]), 10);
    expect(small.norm).toBeCloseTo(5, 5);
  });
});

describe('schedule', () => {
  const sched = { epochs: 10, lrf: 0.01, cosLr: false };
  it('decays linearly or by cosine to lrf', () => {
    expect(lrFactor(0, sched)).toBe(1);
    expect(lrFactor(5, sched)).toBeCloseTo(0.505, 10);
    expect(lrFactor(10, sched)).toBeCloseTo(0.01, 10);
    expect(lrFactor(5, { ...sched, cosLr: true })).toBeCloseTo(0.505, 10);
    expect(lrFactor(2.5, { ...sched, cosLr: true })).toBeCloseTo(((1 - Math.cos(Math.PI / 4)) / 2) * -0.99 + 1, 10);
  });

  it('warms up for 3 epochs but at least 100 iterations', () => {
    expect(warmupIterations(10, 3)).toBe(100);
    expect(warmupIterations(100, 3)).toBe(300);
    expect(warmupIterations(100, 0)).toBe(-1);
  });

  it('interpolates bias lr down, other lrs up, momentum up, accumulate up during warmup', () => {
    const groups = [
      { id: 'pg0' as const, group: 'bias' as const, lr: 0, initialLr: 0.01, momentum: 0.937, weightDecay: 0 },
      { id: 'pg1' as const, group: 'weight' as const, lr: 0, initialLr: 0.01, momentum: 0.937, weightDecay: 5e-4 },
    ];
    const w = { warmupBiasLr: 0.1, warmupMomentum: 0.8, momentum: 0.937, nbs: 64, batch: 16 };
    expect(applyLearningRates(groups, { name: 'SGD' }, 0, 100, 0, sched, w)).toBe(1);
    expect(groups.map((g) => g.lr)).toEqual([0.1, 0]);
    expect(groups[0]!.momentum).toBe(0.8);
    expect(applyLearningRates(groups, { name: 'SGD' }, 50, 100, 0, sched, w)).toBe(2); // numpy rounds 2.5 to even
    expect(groups[0]!.lr).toBeCloseTo(0.055, 10);
    expect(groups[1]!.lr).toBeCloseTo(0.005, 10);
    expect(groups[1]!.momentum).toBeCloseTo(0.8685, 10);
    expect(applyLearningRates(groups, { name: 'SGD' }, 150, 100, 1, sched, w)).toBe(4);
    expect(groups.map((g) => g.lr)).toEqual([0.01 * 0.901, 0.01 * 0.901].map((x) => expect.closeTo(x, 12)));
  });

  it('chooses like optimizer=auto and scales decay by batch', () => {
    expect(chooseOptimizer('auto', { lr0: 0.01, momentum: 0.937, warmupBiasLr: 0.1, nc: 7, iterations: 70 })).toMatchObject({
      name: 'AdamW',
      lr: 0.000909,
      momentum: 0.9,
      warmupBiasLr: 0,
    });
    expect(chooseOptimizer('auto', { lr0: 0.01, momentum: 0.937, warmupBiasLr: 0.1, nc: 80, iterations: 20_000 }).name).toBe('SGD');
    expect(chooseOptimizer('SGD', { lr0: 0.02, momentum: 0.9, warmupBiasLr: 0.1, nc: 80, iterations: 1 })).toMatchObject({ lr: 0.02, warmupBiasLr: 0.1 });
    expect(batchScaling(16, 5e-4)).toEqual({ accumulate: 4, weightDecay: 5e-4 });
    expect(batchScaling(8, 5e-4)).toEqual({ accumulate: 8, weightDecay: 5e-4 });
    expect(batchScaling(128, 5e-4)).toEqual({ accumulate: 1, weightDecay: 1e-3 });
    expect(autoIterations(424, 8, 10)).toBe(70);
    expect(batchScaling(128, 5e-4).accumulate).toBe(1); // round(0.5) = 0, then at least 1
    expect([0.5, 1.5, 2.5, -2.5, 2.4, 2.6].map(pyRound)).toEqual([0, 2, 2, -2, 2, 3]);
  });
});

describe('ModelEma', () => {
  it('ramps its decay and averages every entry', () => {
    const w = tf.variable(tf.tensor([1, 1]));
    const ema = new ModelEma([{ name: 'w', variable: w }]);
    expect(ema.decayAt(2000)).toBeCloseTo(0.9999 * (1 - Math.exp(-1)), 12);
    w.assign(tf.tensor([3, 5]));
    ema.update([{ name: 'w', variable: w }]);
    const d = 0.9999 * (1 - Math.exp(-1 / 2000));
    expect(Array.from(ema.get('w')!.dataSync())).toEqual([1 * d + 3 * (1 - d), 1 * d + 5 * (1 - d)].map((x) => expect.closeTo(x, 5)));
    expect(ema.updates).toBe(1);
    ema.dispose();
  });
});
