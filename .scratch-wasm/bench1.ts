import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/main/model/backend';
await initBackend('wasm');
function time(name: string, f: () => tf.Tensor, n = 3) {
  tf.dispose(f());
  const t0 = performance.now();
  for (let i = 0; i < n; i++) { const r = f(); r.dataSync(); r.dispose(); }
  console.log(name, ((performance.now() - t0) / n).toFixed(1), 'ms');
}
// conv 3x3 64->64 at 40x40 batch 4
const cases: [number, number, number, number, number, number][] = [[4,80,80,32,32,3],[4,40,40,64,64,3],[4,160,160,16,32,3],[4,80,80,64,64,1]];
for (const [b,h,w,ci,co,k] of cases) {
  const x = tf.randomNormal([b,h,w,ci]) as tf.Tensor4D; const W = tf.randomNormal([k,k,ci,co]) as tf.Tensor4D;
  const dy = tf.randomNormal([b,h,w,co]) as tf.Tensor4D;
  const gf = 2*b*h*w*ci*co*k*k/1e9;
  console.log(`case ${[b,h,w,ci,co,k]} ${gf.toFixed(2)} GFLOP`);
  time(' conv2d', () => tf.conv2d(x, W, 1, 'same'));
  time(' backpropInput(native)', () => tf.conv2dTranspose(dy, W, [b,h,w,ci], 1, 'same'));
  const M = b*h*w, K = k*k*ci;
  const cols = tf.randomNormal([M, K]); const dy2 = tf.reshape(dy, [M, co]);
  time(' matmul fast [K,M]x[M,co]', () => tf.matMul(tf.transpose(cols), dy2));
  const colsT = tf.randomNormal([K, M]);
  time(' matmul fast only', () => tf.matMul(colsT, dy2));
  time(' transpose only', () => tf.transpose(cols));
  time(' matmul transposeA', () => tf.matMul(cols, dy2, true, false), 1);
}
