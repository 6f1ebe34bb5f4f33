import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import { initBackend } from '../src/main/model/backend';
import { registerGradients } from '../src/main/model/gradients';
import { YoloModel } from '../src/main/model/yolo';
import { readPtFile } from '../src/main/model/pt/pt-reader';
import { randomImages } from '../test/helpers/model-fixtures';
await registerGradients();
await initBackend('wasm');
const model = YoloModel.fromCheckpoint(readPtFile(path.resolve('../shared/models/yolo11n-coco.pt')));
const prof = process.argv.includes('--prof');
const times = new Map<string, number>();
if (prof) {
  const eng = tf.engine() as any;
  const orig = eng.runKernelFunc.bind(eng);
  eng.runKernelFunc = (p: any) => { const t0 = performance.now(); const r = orig(p); times.set(p.kernelName, (times.get(p.kernelName) ?? 0) + performance.now() - t0); return r; };
}
for (const b of [2, 4]) {
  const x = randomImages(b, 320, 320, 7);
  const vars = model.params().map((p) => p.variable);
  const step = () => { const { value, grads } = tf.variableGrads(() => tf.addN(model.forward(x, { training: true }).map((r) => tf.sum(tf.square(r)))) as tf.Scalar, vars); value.dataSync(); tf.dispose([value, grads]); };
  step(); times.clear();
  const n0 = tf.memory().numTensors;
  const t0 = performance.now(); const N = 3;
  for (let i = 0; i < N; i++) step();
  console.log(`batch ${b}: ${((performance.now() - t0) / N / 1000).toFixed(2)} s/step, tensors ${n0} -> ${tf.memory().numTensors}`);
  if (prof) { console.log([...times].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, v]) => `${k} ${(v / N).toFixed(0)}`).join('\n')); times.clear(); }
  x.dispose();
}
