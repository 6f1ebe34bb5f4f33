/**
 * boxtune's wasm gradient kernels (src/main/model/wasm-kernels) against tfjs' cpu backend, kernel by
 * kernel, on random inputs over a grid of shapes, strides and pads: max |wasm - cpu| / max |cpu|
 * below 1e-4. Also wasm's own MaxPoolGrad (the other backward kernel YOLO needs), and our
 * zero-copy Identity.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkRows, registerWasmTrainingKernels, WASM_TRAINING_KERNELS, wasmTrainingKernelsRegistered } from '../../../../src/main/model/wasm-kernels/index';
import { compareKernel, randomInputs, runOn, startBackends, wasmDataIds } from './kernel-compare';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type ConvCase = { x: [number, number, number, number]; f: [number, number, number, number]; s: number | [number, number]; pad: Pad; d?: number };

const TOL = 1e-4;

const convCases: ConvCase[] = [
  { x: [2, 9, 9, 3], f: [3, 3, 3, 5], s: 2, pad: 'same' },
  { x: [2, 8, 8, 4], f: [3, 3, 4, 6], s: 1, pad: 'same' },
  { x: [1, 7, 6, 4], f: [1, 1, 4, 6], s: 1, pad: 'valid' },
  { x: [2, 10, 7, 5], f: [3, 3, 5, 4], s: 1, pad: 1 },
  { x: [1, 11, 13, 3], f: [5, 5, 3, 4], s: 2, pad: 2 },
  { x: [2, 9, 8, 3], f: [3, 2, 3, 4], s: [2, 1], pad: 'valid' },
  { x: [1, 12, 12, 4], f: [3, 3, 4, 8], s: 3, pad: 'same' },
  { x: [1, 9, 9, 2], f: [3, 3, 2, 3], s: 1, pad: [[0, 0], [2, 0], [1, 2], [0, 0]] },
  { x: [1, 8, 8, 3], f: [3, 3, 3, 2], s: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }, // YOLO's Conv(k=3, s=2, p=1)
  { x: [2, 16, 16, 8], f: [1, 1, 8, 16], s: 2, pad: 'valid' },
  { x: [1, 5, 5, 2], f: [2, 2, 2, 3], s: 1, pad: 2 }, // pad > k-1: dx cannot be a plain conv of dy
  { x: [3, 6, 5, 1], f: [3, 3, 1, 1], s: 1, pad: 'same' },
  { x: [1, 4, 4, 3], f: [4, 4, 3, 2], s: 1, pad: 'valid' }, // a 1x1 output
  { x: [2, 8, 8, 6], f: [1, 1, 6, 4], s: 1, pad: 'valid' }, // 1x1 reduction (K > CO)
  { x: [1, 9, 9, 1], f: [3, 3, 1, 12], s: 1, pad: 'same' }, // CO > K: dW computed transposed, plain im2col
];

/** Large enough that M = B*OH*OW spans several chunks (the pointwise path and the strided-plane path). */
const chunkedCases: ConvCase[] = [
  { x: [1, 130, 130, 2], f: [1, 1, 2, 3], s: 1, pad: 'valid' },
  { x: [1, 132, 130, 2], f: [3, 3, 2, 3], s: 1, pad: 'same' },
  { x: [1, 130, 130, 1], f: [3, 3, 1, 12], s: 1, pad: 'same' },
];

const dwCases: ConvCase[] = [
  { x: [2, 9, 9, 4], f: [3, 3, 4, 1], s: 1, pad: 'same' },
  { x: [2, 9, 9, 4], f: [3, 3, 4, 2], s: 2, pad: 'same' },
  { x: [1, 10, 8, 3], f: [5, 5, 3, 1], s: 1, pad: 2 },
  { x: [1, 11, 11, 6], f: [3, 3, 6, 1], s: 2, pad: 'valid' },
  { x: [1, 12, 12, 3], f: [3, 3, 3, 1], s: 1, pad: 'same', d: 2 },
  { x: [2, 7, 9, 5], f: [3, 3, 5, 3], s: 1, pad: [[0, 0], [1, 0], [0, 1], [0, 0]] },
];

const label = (c: ConvCase) => `x [${c.x}] f [${c.f}] s ${JSON.stringify(c.s)} pad ${JSON.stringify(c.pad)}${c.d ? ` d ${c.d}` : ''}`;

function outShape(c: ConvCase, depthwise: boolean): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, c.d ?? 1, c.pad, undefined, depthwise).outShape;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** <dy, depthwiseConv2d(x, w)>, the forward conv run on the cpu backend. */
async function adjointDot(x: { shape: number[]; values: Float32Array }, w: { shape: number[]; values: Float32Array }, dy: { shape: number[]; values: Float32Array }, c: ConvCase): Promise<number> {
  await tf.setBackend('cpu');
  const y = tf.tidy(() => tf.depthwiseConv2d(tf.tensor4d(x.values, c.x), tf.tensor4d(w.values, c.f), c.s, c.pad, 'NHWC', c.d ?? 1));
  const v = y.dataSync();
  y.dispose();
  return dot(v, dy.values);
}

describe('wasm training kernels vs the cpu backend', () => {
  beforeAll(async () => {
    await startBackends();
  });

  it('are registered for wasm when the backend starts, idempotently', () => {
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    registerWasmTrainingKernels();
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    const names = WASM_TRAINING_KERNELS.map((k) => k.name);
    for (const n of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) expect(names).toContain(n);
    expect(names).toContain('MaxPoolGrad');
    // the other kernels a YOLO step runs are wasm's own
    for (const n of ['BatchMatMul', 'Conv2D', 'DepthwiseConv2dNative', 'MaxPool', 'SplitV', 'Concat', 'Softmax']) expect(tf.getKernel(n, 'wasm'), n).toBeDefined();
  });

  it('chunks long reductions into bounded blocks', () => {
    expect(chunkRows(100, 27)).toBe(100);
    expect(chunkRows(102400, 27)).toBe(16384);
    expect(chunkRows(102400, 4608)).toBe(910);
    expect(chunkRows(1000, 1 << 24)).toBe(256);
  });

  for (const c of [...convCases, ...chunkedCases]) {
    it(`Conv2DBackpropFilter ${label(c)}`, async () => {
      const inputs = randomInputs({ x: c.x, dy: outShape(c, false) }, 1);
      const ids = wasmDataIds();
      const { wasm, cpu, err } = await compareKernel('Conv2DBackpropFilter', inputs, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f });
      expect(wasm.shape).toEqual(c.f);
      expect(cpu.shape).toEqual(c.f);
      expect(err).toBeLessThan(TOL);
      expect(wasmDataIds()).toBe(ids); // every temporary freed
    });

    it(`Conv2DBackpropInput ${label(c)}`, async () => {
      const inputs = randomInputs({ dy: outShape(c, false), filter: c.f }, 2);
      const ids = wasmDataIds();
      const { wasm, err } = await compareKernel('Conv2DBackpropInput', inputs, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
      expect(wasm.shape).toEqual(c.x);
      expect(err).toBeLessThan(TOL);
      expect(wasmDataIds()).toBe(ids);
    });
  }

  for (const c of dwCases) {
    const attrs = { strides: c.s, pad: c.pad, dilations: c.d ?? 1 };
    it(`DepthwiseConv2dNativeBackpropFilter ${label(c)}`, async () => {
      const inputs = randomInputs({ x: c.x, dy: outShape(c, true) }, 3);
      if (c.d) {
        // tfjs' cpu kernel ignores dilations (and tfjs-core's gradient never asks for them): check
        // the adjoint identity <dW, V> = <dy, depthwiseConv2d(x, V)> against cpu's forward conv.
        const dW = await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', inputs, { ...attrs, filterShape: c.f });
        const v = randomInputs({ v: c.f }, 7).v!;
        const rhs = await adjointDot(inputs.x!, v, inputs.dy!, c);
        expect(Math.abs(dot(dW.values, v.values) - rhs) / Math.abs(rhs)).toBeLessThan(TOL);
        return;
      }
      const { wasm, err } = await compareKernel('DepthwiseConv2dNativeBackpropFilter', inputs, { ...attrs, filterShape: c.f });
      expect(wasm.shape).toEqual(c.f);
      expect(err).toBeLessThan(TOL);
    });

    it(`DepthwiseConv2dNativeBackpropInput ${label(c)}`, async () => {
      const inputs = randomInputs({ dy: outShape(c, true), filter: c.f }, 4);
      if (c.d) {
        const dx = await runOn('wasm', 'DepthwiseConv2dNativeBackpropInput', inputs, { ...attrs, inputShape: c.x });
        const u = randomInputs({ u: c.x }, 8).u!;
        const rhs = await adjointDot(u, inputs.filter!, inputs.dy!, c);
        expect(Math.abs(dot(dx.values, u.values) - rhs) / Math.abs(rhs)).toBeLessThan(TOL);
        return;
      }
      const { wasm, err } = await compareKernel('DepthwiseConv2dNativeBackpropInput', inputs, { ...attrs, inputShape: c.x });
      expect(wasm.shape).toEqual(c.x);
      expect(err).toBeLessThan(TOL);
    });
  }

  const pools: { x: [number, number, number, number]; k: number; s: number; pad: 'same' | 'valid' | number }[] = [
    { x: [2, 8, 8, 4], k: 5, s: 1, pad: 2 }, // SPPF
    { x: [1, 9, 9, 3], k: 2, s: 2, pad: 'valid' },
    { x: [2, 7, 7, 2], k: 3, s: 2, pad: 'same' },
    { x: [1, 8, 8, 3], k: 2, s: 2, pad: 'valid' }, // tfjs-backend-wasm's own MaxPoolGrad gets this one wrong
  ];
  for (const p of pools) {
    it(`MaxPoolGrad x [${p.x}] k ${p.k} s ${p.s} pad ${p.pad}`, async () => {
      const xin = randomInputs({ x: p.x }, 5);
      await tf.setBackend('cpu');
      const y = tf.tidy(() => tf.maxPool(tf.tensor4d(xin.x!.values, p.x), p.k, p.s, p.pad));
      const output = { shape: y.shape, values: Float32Array.from(y.dataSync() as Float32Array) };
      y.dispose();
      const dy = randomInputs({ dy: output.shape }, 6).dy!;
      const { err } = await compareKernel('MaxPoolGrad', { dy, input: xin.x!, output }, { filterSize: p.k, strides: p.s, pad: p.pad });
      expect(err).toBeLessThan(TOL);
    });
  }

  it('Identity shares the data instead of copying it, and frees it with the last reference', async () => {
    await tf.setBackend('wasm');
    const ids = wasmDataIds();
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.engine().runKernel('Identity', { x: a }) as tf.Tensor;
    expect(wasmDataIds()).toBe(ids + 1);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(wasmDataIds()).toBe(ids);
  });
});
