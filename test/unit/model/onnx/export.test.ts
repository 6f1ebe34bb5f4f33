/**
 * ONNX export of small self-made models (random weights, BatchNorm statistics randomised so the
 * folding is exercised): onnxruntime-node runs the file and agrees with our tfjs forward + decode
 * within 1e-4; the file is a well-formed opset-17 model with Ultralytics' interface and metadata.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxDetector } from '../../../../src/main/infer/onnx-detector';
import { parsePyLiteral, parseUltralyticsMetadata, readOnnxMetadataProps } from '../../../../src/main/model/onnx/onnx-metadata';
import { buildOnnx, decodeModel, exportOnnx, pyNamesDict, pyStr, readBoxtuneInfo } from '../../../../src/main/model/onnx';
import { YoloModel } from '../../../../src/main/model/yolo';
import { Rng } from '../../../../src/main/util/rng';
import { maxAbsDiff, randomImages, tinyYolo11Yaml, tinyYolov8Yaml, useModelTestBackend } from '../../../helpers/model-fixtures';
import { tmpDir } from '../../../helpers/tmp';

/** Gives every BatchNorm non-trivial eval statistics, so a wrong fold shows. */
function randomiseBatchNorms(model: YoloModel, seed: number): void {
  const rng = new Rng(seed);
  const u = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
  for (const [name, bn] of model.store.batchNorms) {
    model.store.assign(`${name}.weight`, u(bn.c, 0.5, 1.5));
    model.store.assign(`${name}.bias`, u(bn.c, -0.3, 0.3));
    model.store.assign(`${name}.running_mean`, u(bn.c, -0.3, 0.3));
    model.store.assign(`${name}.running_var`, u(bn.c, 0.4, 2));
  }
}

/** NHWC tfjs input -> NCHW float data for onnxruntime. */
function toNchw(x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);
}

async function runOrt(bytes: Uint8Array, data: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = (await session.run({ images: new ort.Tensor('float32', data, dims) })).output0!;
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

/** Max |a - b| over the box rows (0..3) and over the score rows of [1, 4 + nc, N] outputs. */
function rowDiffs(a: ArrayLike<number>, b: ArrayLike<number>, n: number): { box: number; score: number } {
  let box = 0;
  let score = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (i < 4 * n) box = Math.max(box, d);
    else score = Math.max(score, d);
  }
  return { box, score };
}

describe('ONNX export (self-made models)', () => {
  let baseline: number;
  let v11: YoloModel;
  let v8: YoloModel;
  const names11 = ['cat', "people's", 'back\\slash'];

  beforeAll(async () => {
    await useModelTestBackend();
    baseline = tf.memory().numTensors;
    v11 = YoloModel.fromYaml({ ...tinyYolo11Yaml(3), yaml_file: 'yolo11t.yaml' }, 3, names11, { seed: 3 });
    randomiseBatchNorms(v11, 7);
    v8 = YoloModel.fromYaml(tinyYolov8Yaml(2), 2, ['a', 'b'], { seed: 4 });
    randomiseBatchNorms(v8, 8);
  });
  afterAll(() => {
    v11.dispose();
    v8.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('YOLO11-style model (C3k2, C3k, C2f, SPPF, C2PSA, DWConv head): onnxruntime agrees with tfjs within 1e-4', async () => {
    const { bytes, outputShape } = buildOnnx(v11, { imgsz: 64 });
    expect(outputShape).toEqual([1, 7, 8 * 8 + 4 * 4 + 2 * 2]);
    const x = randomImages(1, 64, 64, 11);
    const ours = v11.predict(x);
    const expected = ours.dataSync();
    const got = await runOrt(bytes, toNchw(x), [1, 3, 64, 64]);
    tf.dispose([x, ours]);
    expect(got.dims).toEqual(outputShape);
    const d = rowDiffs(got.data, expected, outputShape[2]);
    expect(d.box).toBeLessThan(1e-4);
    expect(d.score).toBeLessThan(1e-4);
  });

  it('YOLOv8-style model (C2f, legacy head, two levels) at a rectangular 64x96: agrees within 1e-4', async () => {
    const { bytes, outputShape } = buildOnnx(v8, { imgsz: [64, 96] });
    expect(outputShape).toEqual([1, 6, 8 * 12 + 4 * 6]);
    const x = randomImages(1, 64, 96, 12);
    const ours = v8.predict(x);
    const expected = ours.dataSync();
    const got = await runOrt(bytes, toNchw(x), [1, 3, 64, 96]);
    tf.dispose([x, ours]);
    expect(maxAbsDiff(got.data, expected)).toBeLessThan(1e-4);
  });

  it('writes an opset-17 / IR-8 model with input images [1,3,H,W], output output0 [1,4+nc,N], BN folded away', () => {
    const { proto, bytes } = buildOnnx(v11, { imgsz: 64, date: '2026-01-01T00:00:00' });
    const m = decodeModel(bytes);
    expect(m.ir_version).toBe(8);
    expect(m.opset_import).toEqual([{ version: 17 }]); // domain '' (the default) is not serialised
    expect(m.producer_name).toBe('boxtune');
    const dims = (v: (typeof m.graph.input)[number]) => v.type.tensor_type.shape.dim.map((d) => d.dim_value);
    expect(m.graph.input.map((v) => v.name)).toEqual(['images']);
    expect(dims(m.graph.input[0]!)).toEqual([1, 3, 64, 64]);
    expect(m.graph.output.map((v) => v.name)).toEqual(['output0']);
    expect(dims(m.graph.output[0]!)).toEqual([1, 7, 84]);
    const ops = new Set(m.graph.node.map((n) => n.op_type));
    expect([...ops].sort()).toEqual(['Add', 'Concat', 'Conv', 'Div', 'MatMul', 'MaxPool', 'Mul', 'Reshape', 'Resize', 'Sigmoid', 'Softmax', 'Split', 'Sub', 'Transpose']);
    // One Conv per conv module: every Conv2d of the model (BN never appears as a node).
    const convs = [...v11.store.entries.keys()].filter((k) => /(conv|cv[23]\.\d+\.2|dfl\.conv)\.weight$/.test(k) && !k.includes('.bn.'));
    expect(m.graph.node.filter((n) => n.op_type === 'Conv')).toHaveLength(convs.length);
    // The same model and date give the same bytes.
    expect(Buffer.from(buildOnnx(v11, { imgsz: 64, date: '2026-01-01T00:00:00' }).bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(proto.graph.node.length).toBe(m.graph.node.length);
  });

  it("writes Ultralytics' metadata (names as a Python dict, stride, imgsz, task, batch) plus a boxtune entry", () => {
    const { bytes } = buildOnnx(v11, { imgsz: [64, 96], source: 'tiny.pt' });
    const props = readOnnxMetadataProps(bytes);
    expect(Object.keys(props)).toEqual(['description', 'author', 'date', 'version', 'license', 'docs', 'stride', 'task', 'batch', 'imgsz', 'names', 'args', 'channels', 'boxtune']);
    expect(props.names).toBe(`{0: 'cat', 1: "people's", 2: 'back\\\\slash'}`);
    expect(props.description).toBe('boxtune export of YOLO11t (tiny.pt)');
    const meta = parseUltralyticsMetadata(props);
    expect(meta.names).toEqual(names11);
    expect(meta.stride).toBe(32);
    expect(meta.imgsz).toEqual([64, 96]);
    expect(meta.task).toBe('detect');
    expect(meta.batch).toBe(1);
    expect(parsePyLiteral(props.args!)).toBeInstanceOf(Map);
    const info = readBoxtuneInfo(props)!;
    expect(info).toMatchObject({ imgsz: [64, 96], names: names11, stride: [8, 16, 32], source: 'tiny.pt' });
    expect((info.yaml as { nc: number }).nc).toBe(3);
  });

  it('exportOnnx writes the file, and the ORT wrapper reads its names, stride and size', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'sub', 'tiny.onnx');
    const res = await exportOnnx(v11, { imgsz: 64, path: file });
    expect(res).toEqual({ path: file, bytes: fs.statSync(file).size, outputShape: [1, 7, 84] });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['tiny.onnx']); // no temp file left
    const det = await OnnxDetector.load(file, { threads: 1 });
    try {
      expect(det.names).toEqual(names11);
      expect(det.metadata.stride).toBe(32);
      expect(det.metadata.imgsz).toEqual([64, 64]);
      expect(det.staticInputSize).toEqual([64, 64]);
      const raw = await det.predict(new Float32Array(3 * 64 * 64).fill(0.5), [1, 3, 64, 64]);
      expect(raw.dims).toEqual([1, 7, 84]);
    } finally {
      await det.dispose();
    }
  });

  it('rejects an export size that is not a multiple of the largest stride', () => {
    expect(() => buildOnnx(v11, { imgsz: 100 })).toThrow(/multiple of the model's largest stride 32/);
    expect(() => buildOnnx(v11, { imgsz: [64, 0] })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('exporting allocates no lasting tensors', () => {
    const before = tf.memory().numTensors;
    buildOnnx(v8, { imgsz: 64 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Python literals in the metadata', () => {
  it('pyStr writes what Python repr() writes', () => {
    expect(pyStr('person')).toBe("'person'");
    expect(pyStr("people's")).toBe(`"people's"`);
    expect(pyStr(`a'b"c`)).toBe(`'a\\'b"c'`);
    expect(pyStr('tab\there\n')).toBe("'tab\\there\\n'");
    expect(pyStr('naïve 🐝')).toBe("'naïve 🐝'");
  });

  it('pyNamesDict round-trips through the Python-literal parser', () => {
    const names = ['person', "it's", 'say "hi"', `both ' and "`, 'back\\slash', 'ünïcode'];
    const text = pyNamesDict(names);
    expect(text.startsWith("{0: 'person', 1: \"it's\"")).toBe(true);
    const parsed = parsePyLiteral(text) as Map<number, string>;
    expect([...parsed.values()]).toEqual(names);
    expect([...parsed.keys()]).toEqual(names.map((_, i) => i));
  });
});
