import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/main/model/backend';
await initBackend('wasm');
function time(name: string, f: () => tf.Tensor, n = 3) {
  tf.dispose(f());
  const t0 = performance.now();
  for (let i = 0; i < n; i++) { const r = f(); r.dataSync(); r.dispose(); }
  const ms = (performance.now() - t0) / n;
  return ms;
}
// yolo11n-ish layers at 320, batch 2
const cases: [number, number, number, number, number, number, number][] = [
 [2,320,320,3,16,3,2],[2,160,160,16,32,3,2],[2,80,80,32,64,1,1],[2,80,80,16,16,3,1],[2,80,80,48,64,1,1],[2,80,80,64,64,3,2],[2,40,40,64,128,1,1],[2,40,40,32,32,3,1],[2,20,20,128,128,3,2],[2,10,10,256,256,3,2],[2,10,10,256,256,1,1],[2,40,40,64,64,3,1],[2,40,40,64,80,1,1]];
for (const [b,h,w,ci,co,k,s] of cases) {
  const x = tf.randomNormal([b,h,w,ci]) as tf.Tensor4D; const W = tf.randomNormal([k,k,ci,co]) as tf.Tensor4D;
  const y = tf.conv2d(x, W, s, 'same');
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const gf = 2*y.size*ci*k*k/1e9;
  const fwd = time('fwd', () => tf.conv2d(x, W, s, 'same'));
  const bf = time('bf', () => tf.engine().runKernel('Conv2DBackpropFilter', {x, dy}, {strides: s, pad: 'same', dataFormat: 'NHWC', filterShape: [k,k,ci,co]}) as tf.Tensor);
  const bi = time('bi', () => tf.conv2dTranspose(dy, W, [b,h,w,ci], s, 'same'));
  console.log(`${[b,h,w,ci,co,k,s]}  ${gf.toFixed(3)} GF  fwd ${fwd.toFixed(1)}  filter ${bf.toFixed(1)}  input ${bi.toFixed(1)} ms`);
  tf.dispose([x, W, y, dy]);
}
