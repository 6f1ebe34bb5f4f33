import { randomValues, runOn, maxRelError } from '../test/unit/model-wasm/kernel-compare';
const cases: any[] = [
  { k: 'Conv2DBackpropFilter', x: [2,9,9,3], f: [3,3,3,5], s: 2, pad: 'same' },
  { k: 'Conv2DBackpropFilter', x: [2,8,8,4], f: [3,3,4,6], s: 1, pad: 1 },
  { k: 'Conv2DBackpropFilter', x: [1,7,6,4], f: [1,1,4,6], s: 1, pad: 'valid' },
];
for (const c of cases) {
  const { x, f, s, pad } = c;
  // compute dy shape via cpu conv2d
  const tf = await import('@tensorflow/tfjs-core');
  await tf.setBackend('cpu');
  const y = tf.conv2d(tf.zeros(x) as any, tf.zeros(f) as any, s, pad);
  const dyShape = y.shape; y.dispose();
  const xs = { x: { shape: x, values: randomValues(x.reduce((a:number,b:number)=>a*b), 1) }, dy: { shape: dyShape, values: randomValues(dyShape.reduce((a:number,b:number)=>a*b), 2) } };
  const attrs = { strides: s, pad, dataFormat: 'NHWC', filterShape: f };
  const a = await runOn('wasm', c.k, xs, attrs); const b = await runOn('cpu', c.k, xs, attrs);
  console.log(c.k, JSON.stringify(c), a.shape, b.shape, maxRelError(a.values, b.values));
  const fi = { dy: xs.dy, filter: { shape: f, values: randomValues(f.reduce((a:number,b:number)=>a*b), 3) } };
  const ia = { strides: s, pad, dataFormat: 'NHWC', inputShape: x };
  const a2 = await runOn('wasm', 'Conv2DBackpropInput', fi, ia); const b2 = await runOn('cpu', 'Conv2DBackpropInput', fi, ia);
  console.log(' input', a2.shape, b2.shape, maxRelError(a2.values, b2.values));
}
