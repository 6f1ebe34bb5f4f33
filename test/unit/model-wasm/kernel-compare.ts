/**
 * @file Helpers for the wasm training-kernel tests: run one kernel on wasm and on cpu with the
 * same inputs and measure how far apart they are.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../src/main/model/backend';

/** Deterministic values in [-1, 1). */
export function randomValues(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
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
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

/** ||a - b|| / ||b|| */
export function l2RelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return n === 0 ? Math.sqrt(d) : Math.sqrt(d / n);
}

export type KernelInputs = Record<string, { shape: number[]; values: Float32Array }>;

/** Runs `kernel` on `backend` (cpu or wasm) and returns its output values and shape. */
export async function runOn(backend: 'cpu' | 'wasm', kernel: string, inputs: KernelInputs, attrs: Record<string, unknown>): Promise<{ shape: number[]; values: Float32Array }> {
  if (backend === 'wasm') await initBackend('wasm');
  else await tf.setBackend('cpu');
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.values, v.shape, 'float32');
  try {
    const out = tf.engine().runKernel(kernel, ts as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    const values = out.dataSync() as Float32Array;
    const shape = out.shape;
    out.dispose();
    return { shape, values: Float32Array.from(values) };
  } finally {
    tf.dispose(Object.values(ts));
  }
}
