/**
 * @file Gradient kernels that let YOLO train on tfjs-backend-wasm. Its 4.22 build registers no
 * Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or DepthwiseConv2dNativeBackpropInput
 * (a training step fails with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"),
 * its Conv2DBackpropInput is a scalar loop ~10x slower than the forward conv, its MaxPoolGrad
 * misroutes gradients of some strided pools, and its Identity (run by the engine on every tensor
 * saved for a gradient) copies the data. Everything else a train-mode yolo forward + backward needs
 * (BatchMatMul, Softmax, SplitV, Concat, ...) it has.
 *
 *   await import('@tensorflow/tfjs-backend-wasm');
 *   registerWasmTrainingKernels();   // backend.ts does this when it picks wasm
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilter, conv2DBackpropInput } from './conv2d-backprop';
import { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise-backprop';
import { identity } from './identity';
import { maxPoolGrad } from './max-pool-grad';

export { chunkRows } from './wasm-heap';

/** The kernels we register for 'wasm', and whether each adds a missing kernel or replaces a slow or wrong one. */
export const WASM_TRAINING_KERNELS: readonly { name: string; kind: 'added' | 'replaced'; kernelFunc: tf.KernelFunc }[] = [
  { name: tf.Conv2DBackpropFilter, kind: 'added', kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc },
  { name: tf.Conv2DBackpropInput, kind: 'replaced', kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc },
  { name: tf.DepthwiseConv2dNativeBackpropFilter, kind: 'added', kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as tf.KernelFunc },
  { name: tf.DepthwiseConv2dNativeBackpropInput, kind: 'added', kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as tf.KernelFunc },
  { name: tf.MaxPoolGrad, kind: 'replaced', kernelFunc: maxPoolGrad as unknown as tf.KernelFunc },
  { name: tf.Identity, kind: 'replaced', kernelFunc: identity as unknown as tf.KernelFunc },
];

/** True when our kernels are the ones tfjs will run on wasm. */
export function wasmTrainingKernelsRegistered(): boolean {
  return WASM_TRAINING_KERNELS.every((k) => tf.getKernel(k.name, 'wasm')?.kernelFunc === k.kernelFunc);
}

/**
 * Registers the kernels for the 'wasm' backend (idempotent). Call after @tensorflow/tfjs-backend-wasm
 * has been imported: importing it registers its own kernels, which would replace ours.
 */
export function registerWasmTrainingKernels(): void {
  if (!tf.getKernel(tf.BatchMatMul, 'wasm')) throw new Error('import @tensorflow/tfjs-backend-wasm before registering its training kernels');
  for (const k of WASM_TRAINING_KERNELS) {
    const current = tf.getKernel(k.name, 'wasm');
    if (current?.kernelFunc === k.kernelFunc) continue;
    if (current) tf.unregisterKernel(k.name, 'wasm');
    tf.registerKernel({ kernelName: k.name, backendName: 'wasm', kernelFunc: k.kernelFunc });
  }
}
