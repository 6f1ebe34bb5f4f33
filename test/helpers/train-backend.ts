/**
 * The fastest tfjs backend that can train here: wasm once its gradient kernels are registered
 * (src/main/model/wasm-kernels), else the plain-JS cpu backend. Probed with one conv gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/model/backend';
import { registerGradients } from '../../src/main/model/gradients';

export async function trainingBackend(): Promise<'wasm' | 'cpu'> {
  await registerGradients();
  await initBackend('wasm');
  try {
    tf.tidy(() => {
      const w = tf.variable(tf.ones([3, 3, 2, 2]));
      const { grads } = tf.variableGrads(() => tf.sum(tf.conv2d(tf.ones([1, 8, 8, 2]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')), [w]);
      Object.values(grads).forEach((g) => g.dataSync());
      w.dispose();
    });
    return 'wasm';
  } catch {
    await initBackend('cpu');
    return 'cpu';
  }
}
