/**
 * @file Helpers for the wasm training-kernel tests: run one kernel on wasm and on cpu with the
 * same inputs, and measure how far apart two results are.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../../src/main/model/backend';

let started: Promise<unknown> | null = null;

/** Starts wasm (with boxtune's kernels registered) once; cpu is always there. */
export async function startBackends(): Promise<void> {
  started ??= initBackend('wasm').then((c) => {
    if (c.name !== 'wasm') throw new Error(`wasm backend did not start: ${JSON.stringify(c.reasons)}`);
  });
  await started;
}

/** Deterministic values in [-1, 1). */
export function randomValues(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let s = (Math.imul(seed + 1, 2654435761) >>> 0) || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2147483648 - 1;
  }
  return v;
}

/** max |a - b| / max |b|: the error relative to the result's scale (elementwise ratios blow up near 0). */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    d = Number.isNaN(e) ? Infinity : Math.max(d, e);
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

/** ||a - b|| / ||b|| (NaN anywhere gives Infinity). */
export function l2RelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  if (Number.isNaN(d)) return Infinity;
  return n === 0 ? Math.sqrt(d) : Math.sqrt(d / n);
}

export type KernelInputs = Record<string, { shape: number[]; values: Float32Array }>;

/** Random inputs of the given shapes (seeded by position). */
export function randomInputs(shapes: Record<string, number[]>, seed = 1): KernelInputs {
  const out: KernelInputs = {};
  let i = 0;
  for (const [k, shape] of Object.entries(shapes)) out[k] = { shape, values: randomValues(shape.reduce((a, b) => a * b, 1), seed * 31 + i++) };
  return out;
}

/** Runs `kernel` on `backend` and returns its output's shape and values. */
export async function runOn(backend: 'cpu' | 'wasm', kernel: string, inputs: KernelInputs, attrs: object): Promise<{ shape: number[]; values: Float32Array }> {
  await startBackends();
  await tf.setBackend(backend);
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape, 'float32');
  try {
    const out = tf.engine().runKernel(kernel, ts as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    const values = Float32Array.from(out.dataSync() as Float32Array);
    const shape = out.shape;
    out.dispose();
    return { shape, values };
  } finally {
    tf.dispose(Object.values(ts));
  }
}

/** The kernel on wasm and on cpu: both outputs, and max relative error of wasm against cpu. */
export async function compareKernel(kernel: string, inputs: KernelInputs, attrs: object): Promise<{ wasm: { shape: number[]; values: Float32Array }; cpu: { shape: number[]; values: Float32Array }; err: number }> {
  const wasm = await runOn('wasm', kernel, inputs, attrs);
  const cpu = await runOn('cpu', kernel, inputs, attrs);
  return { wasm, cpu, err: maxRelError(wasm.values, cpu.values) };
}

/** The wasm backend's number of live data buffers (what a leak in a kernel's temporaries would grow). */
export function wasmDataIds(): number {
  return (tf.findBackend('wasm') as unknown as { numDataIds(): number }).numDataIds();
}
