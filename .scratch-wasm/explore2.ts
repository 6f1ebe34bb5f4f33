import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../src/main/model/backend';
import { registerGradients } from '../src/main/model/gradients';
import { YoloModel } from '../src/main/model/yolo';
import { tinyYolo11Yaml, randomImages } from '../test/helpers/model-fixtures';

await registerGradients();
await initBackend('wasm');
const wasmK = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
const cpuK = tf.getKernelsForBackend('cpu');
const missing = new Set<string>();
const cpu = tf.findBackend('cpu')!;
for (const k of cpuK) {
  if (wasmK.has(k.kernelName)) continue;
  tf.registerKernel({ kernelName: k.kernelName, backendName: 'wasm', kernelFunc: (({ inputs, backend, attrs }: any) => {
    missing.add(k.kernelName);
    const cin: any = {};
    for (const [n, t] of Object.entries(inputs) as any) {
      const vals = (backend as any).readSync(t.dataId);
      cin[n] = { dataId: cpu.write(vals, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    }
    const out = k.kernelFunc({ inputs: cin, backend: cpu, attrs } as any) as any;
    const outs = Array.isArray(out) ? out : [out];
    const res = outs.map((o: any) => { const v = cpu.readSync(o.dataId); const r = (backend as any).makeOutput(o.shape, o.dtype); (backend as any).typedArrayFromHeap(r).set(v); return r; });
    return Array.isArray(out) ? res : res[0];
  }) as any });
}
for (const yaml of [tinyYolo11Yaml(3)]) {
const m = YoloModel.fromYaml(yaml, 3, [], { seed: 1 });
const x = randomImages(2, 64, 64, 3);
const { value, grads } = tf.variableGrads(() => tf.addN(m.forward(x, { training: true }).map((r) => tf.sum(tf.square(r)))) as tf.Scalar, m.params().map(p=>p.variable));
console.log('ok', value.dataSync()[0]);
}
console.log('missing used', [...missing].join(' '));
