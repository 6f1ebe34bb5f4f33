/**
 * @file The little of tfjs-backend-wasm's BackendWasm our kernels touch, typed, plus helpers for
 * kernels written in TypeScript over its heap.
 *
 * Heap rule: every allocation (makeOutput, or any wasm kernel we call) may grow the wasm memory,
 * which detaches every Float32Array view taken before it. So views are taken with `f32()` right
 * before a loop that uses them, after the allocations it needs, never kept across a kernel call.
 */
import * as tf from '@tensorflow/tfjs-core';

type DataId = object;

/** The slice of BackendWasm (tfjs-backend-wasm/dist/backend_wasm.d.ts) these kernels use. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: DataId, force?: boolean): boolean;
  incRef(dataId: DataId): void;
  numDataIds(): number;
}

/** A kernel's arguments as tfjs passes them, with the wasm backend. */
export interface WasmKernelArgs<I extends string, A> {
  inputs: Record<I, tf.TensorInfo>;
  backend: WasmBackend;
  attrs: A;
}

/** A float32 view of a tensor's data on the wasm heap (valid until the next allocation). */
export function f32(backend: WasmBackend, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`wasm training kernels take float32 tensors, got ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A new float32 tensor on the wasm heap. Its memory is not cleared. */
export function alloc(backend: WasmBackend, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/** Frees temporaries this kernel made (never its inputs). */
export function free(backend: WasmBackend, ...infos: tf.TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** Runs another wasm kernel (BatchMatMul, Conv2D, ...) on TensorInfos, as tfjs-backend-wasm's own kernels do. */
export function runWasmKernel(name: string, backend: WasmBackend, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>): tf.TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`the wasm backend has no ${name} kernel (is @tensorflow/tfjs-backend-wasm loaded?)`);
  const out = k.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap });
  if (Array.isArray(out)) throw new Error(`${name} returned several tensors`);
  return out;
}

/**
 * `[1, m, k] x [1, k, n] -> [1, m, n]` by the wasm backend's BatchMatMul. With no transposes and a
 * batch of 1 it runs XNNPACK's fully-connected operator (b packed as its weights, cached on b's id
 * until b is disposed); any transpose falls back to a plain C loop ~20x slower, so callers lay out
 * their operands to avoid them.
 */
export function matMul(backend: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  return runWasmKernel(tf.BatchMatMul, backend, { a, b }, { transposeA: false, transposeB: false });
}

/**
 * How many rows of an `rows x width` operand to materialise at once: at most `budget` floats
 * (16 MB by default), so the im2col buffers of the big early layers stay bounded, and at most
 * 16384, so that each float32 dot product XNNPACK accumulates sequentially stays short (summing
 * the chunks' products in float64 then keeps gradients within ~1e-5 of a float64 reference).
 */
export function chunkRows(rows: number, width: number, budget = 1 << 22, maxRows = 16384): number {
  return Math.max(1, Math.min(rows, maxRows, Math.max(256, Math.floor(budget / Math.max(1, width)))));
}
