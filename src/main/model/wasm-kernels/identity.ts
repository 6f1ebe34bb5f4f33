/**
 * @file Identity for the wasm backend without a copy. tfjs-core's engine clones (runs Identity on)
 * every tensor a kernel saves for its gradient, and tfjs-backend-wasm's Identity copies the data:
 * a memcpy of every activation of the network per training step (~4% of a yolo11n step). Sharing
 * the data with a reference count is what the cpu backend's Identity and wasm's own Reshape do;
 * tensor data is never written in place, so the share is safe.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelArgs } from './wasm-heap';

export function identity(args: WasmKernelArgs<'x', Record<string, never>>): tf.TensorInfo {
  const { x } = args.inputs;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
