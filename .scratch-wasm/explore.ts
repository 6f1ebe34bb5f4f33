import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/main/model/backend';
import { registerGradients } from '../src/main/model/gradients';
import { YoloModel } from '../src/main/model/yolo';
import { tinyYolo11Yaml, randomImages } from '../test/helpers/model-fixtures';

await registerGradients();
await initBackend('wasm');
const wasmK = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
console.log('wasm kernels', wasmK.size);
const m = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, [], { seed: 1 });
const x = randomImages(2, 64, 64, 3);
const used = new Set<string>();
const eng = (tf.engine() as any);
const orig = eng.runKernelFunc.bind(eng);
eng.runKernelFunc = (p: any) => { used.add(p.kernelName); return orig(p); };
try {
  const { value, grads } = tf.variableGrads(() => tf.addN(m.forward(x, { training: true }).map((r) => tf.sum(tf.square(r)))) as tf.Scalar, m.params().map(p=>p.variable));
  console.log('ok', value.dataSync()[0]);
} catch (e) { console.log('ERR', (e as Error).message); }
console.log('used', [...used].sort().join(' '));
console.log('missing', [...used].filter((k) => !wasmK.has(k)).join(' '));
