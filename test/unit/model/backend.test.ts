import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/model/backend';

const require = createRequire(import.meta.url);
const installed = (pkg: string) => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

describe('backend choice', () => {
  it('takes the best backend that loads and says why the better ones did not', async () => {
    const choice = await initBackend();
    const order = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
    expect(choice.reasons.map((r) => r.backend)).toEqual(order.slice(0, order.indexOf(choice.name)));
    for (const r of choice.reasons) expect(r.reason.length).toBeGreaterThan(5);
    expect(tf.getBackend()).toBe(choice.tfName);
    if (!installed('@tensorflow/tfjs-node-gpu')) {
      expect(choice.reasons[0]).toEqual({ backend: 'tensorflow-gpu', reason: '@tensorflow/tfjs-node-gpu is not installed' });
    }
    if (!installed('@tensorflow/tfjs-node') && !installed('@tensorflow/tfjs-node-gpu')) expect(choice.name).toBe('wasm');
    const y = tf.tidy(() => tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 1]) as tf.Tensor4D, 1, 1).dataSync());
    expect(y[5]).toBe(18);
  });

  it('starts lower when asked, and reports the skipped ones', async () => {
    const choice = await initBackend('cpu');
    expect(choice.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(choice.reasons.map((r) => r.reason)).toEqual(['not tried: cpu was requested', 'not tried: cpu was requested', 'not tried: cpu was requested']);
  });
});
