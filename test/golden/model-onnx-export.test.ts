/**
 * Our ONNX export of the shared checkpoints, run in onnxruntime-node beside Ultralytics' own
 * ../shared/models/yolo11n-coco.onnx on the same letterboxed image (coco8 000000000036.jpg at 640).
 *
 * Two comparisons, because the two files do not hold the same weights: the shared .pt stores every
 * tensor in fp16 and is, bit for bit, the fp16 rounding of the fp32 weights in Ultralytics' .onnx
 * (checked below). So
 *  - graph parity: our exporter fed Ultralytics' own fp32 (BN-fused) weights must reproduce their
 *    output0 (1e-4 px / 1e-6; measured: identical);
 *  - the .pt export: differences are the fp16 weight rounding (about 8 px on the worst of 8400
 *    low-confidence anchors, 0.2 px on confident ones, 4e-3 on scores); the detections after NMS
 *    must be the same and coco8 val mAP must match Ultralytics' reference for their .onnx.
 * Our export also agrees with our own tfjs forward, and yolov8n-coco.pt / yolo11n-rand.pt export and run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { letterboxFile, toUnitFloat } from '../../src/main/images/letterbox';
import { evaluateDetector, type EvalSample } from '../../src/main/infer/evaluate';
import { nonMaxSuppression } from '../../src/main/infer/nms';
import { iouOne } from '../../src/main/metrics/iou';
import { OnnxDetector } from '../../src/main/infer/onnx-detector';
import { readOnnxMetadataProps } from '../../src/main/model/onnx/onnx-metadata';
import { buildOnnx, decodeModel, exportOnnx } from '../../src/main/model/onnx';
import { readPtFile, type PtCheckpoint, type TensorView } from '../../src/main/model/pt/pt-reader';
import { YoloModel } from '../../src/main/model/yolo';
import { inspectModelFile } from '../../src/main/model/zoo';
import { floatToHalf } from '../helpers/model-pt-writer';
import { useModelTestBackend } from '../helpers/model-fixtures';
import { coco8Val } from '../helpers/coco8';
import { tmpDir } from '../helpers/tmp';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODELS = path.resolve(repoRoot, '../shared/models');
const COCO8 = path.resolve(repoRoot, '../shared/data/coco8');
const IMAGE = path.join(COCO8, 'images/val/000000000036.jpg');
/** Ultralytics 8.3.186's mAP for their yolo11n-coco.onnx on coco8 val (DESIGN.md). */
const REFERENCE = { mAP50_95: 0.631, mAP50: 0.857 };

/** The golden-style input: LetterBox(640) of the golden image, RGB 0..1, as NHWC and NCHW. */
async function input640(): Promise<{ nhwc: Float32Array; nchw: Float32Array }> {
  const lb = await letterboxFile(IMAGE, { newShape: 640 });
  const nhwc = toUnitFloat(lb.data);
  const hw = lb.width * lb.height;
  const nchw = new Float32Array(3 * hw);
  for (let i = 0; i < hw; i++) for (let c = 0; c < 3; c++) nchw[c * hw + i] = nhwc[i * 3 + c]!;
  return { nhwc, nchw };
}

async function runOrt(model: Uint8Array | string, nchw: Float32Array, size: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model as Uint8Array, { intraOpNumThreads: 2 });
  try {
    return (await session.run({ images: new ort.Tensor('float32', nchw, [1, 3, size, size]) })).output0!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Max |a - b| over box rows and score rows of [1, 4 + nc, n] outputs; `only` restricts to some anchors. */
function diffs(a: Float32Array, b: Float32Array, rows: number, n: number, only?: (i: number) => boolean): { box: number; score: number; boxRel: number } {
  let box = 0;
  let score = 0;
  let boxRel = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < n; i++) {
      if (only && !only(i)) continue;
      const d = Math.abs(a[r * n + i]! - b[r * n + i]!);
      if (r < 4) {
        box = Math.max(box, d);
        boxRel = Math.max(boxRel, d / Math.max(Math.abs(b[(r < 2 ? r + 2 : r) * n + i]!), 1)); // relative to the box's w/h
      } else score = Math.max(score, d);
    }
  }
  return { box, score, boxRel };
}

/** fp32 -> nearest fp16 -> fp32. */
function roundHalf(x: number): number {
  const h = floatToHalf(x);
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  const v = e === 0 ? f * 2 ** -24 : (1 + f / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}

describe('ONNX export of yolo11n-coco.pt beside Ultralytics yolo11n-coco.onnx', () => {
  const N = 8400;
  const ROWS = 84;
  let pt: PtCheckpoint;
  let model: YoloModel;
  let ours: Uint8Array;
  let theirsBytes: Buffer;
  let x: { nhwc: Float32Array; nchw: Float32Array };
  let outOurs: Float32Array;
  let outTheirs: Float32Array;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-onnx-export-'));

  beforeAll(async () => {
    await useModelTestBackend();
    pt = readPtFile(path.join(MODELS, 'yolo11n-coco.pt'));
    model = YoloModel.fromCheckpoint(pt);
    ours = buildOnnx(model, { imgsz: 640, source: 'yolo11n-coco.pt' }).bytes;
    theirsBytes = fs.readFileSync(path.join(MODELS, 'yolo11n-coco.onnx'));
    x = await input640();
    outOurs = await runOrt(ours, x.nchw, 640);
    outTheirs = await runOrt(theirsBytes, x.nchw, 640);
  });
  afterAll(() => {
    model?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("graph parity: our exporter with Ultralytics' own fp32 fused weights reproduces their output0", async () => {
    // Their initializers are BN-fused conv weights and biases: give our model those convs and identity BNs.
    const fused = new Map<string, Float32Array>();
    for (const t of decodeModel(theirsBytes).graph.initializer) {
      fused.set(t.name, new Float32Array(Uint8Array.from(t.raw_data!).buffer));
    }
    const sd = new Map<string, TensorView>();
    for (const [k, v] of pt.stateDict) {
      const bn = /^(.*)\.bn\.(weight|bias|running_mean|running_var)$/.exec(k);
      const n = v.data.length;
      let data: Float32Array | undefined;
      if (!bn) data = fused.get(k) ?? (k.endsWith('num_batches_tracked') ? v.data : undefined);
      else if (bn[2] === 'weight') data = new Float32Array(n).fill(1);
      else if (bn[2] === 'bias') data = fused.get(`${bn[1]}.conv.bias`);
      else if (bn[2] === 'running_mean') data = new Float32Array(n);
      else data = new Float32Array(n).fill(1 - 1e-3); // var + eps = 1: scale 1
      expect(data, k).toBeDefined();
      sd.set(k, { ...v, dtype: 'float32', data: data! });
    }
    const m32 = YoloModel.fromCheckpoint({ ...pt, stateDict: sd });
    try {
      const out = await runOrt(buildOnnx(m32, { imgsz: 640 }).bytes, x.nchw, 640);
      const d = diffs(out, outTheirs, ROWS, N);
      console.log(`graph parity (same fp32 weights), ours vs Ultralytics in ORT: boxes max |d| ${d.box} px, scores ${d.score}`);
      expect(d.box).toBeLessThan(1e-4);
      expect(d.score).toBeLessThan(1e-6);
    } finally {
      m32.dispose();
    }
  });

  it('the shared .pt holds exactly the fp16 rounding of the weights in Ultralytics .onnx', () => {
    // The head's last convs are not BN-fused, so they can be compared directly.
    const inits = new Map(decodeModel(theirsBytes).graph.initializer.map((t) => [t.name, new Float32Array(Uint8Array.from(t.raw_data!).buffer)]));
    let compared = 0;
    for (const name of [...pt.stateDict.keys()].filter((k) => /^model\.23\.cv[23]\.\d\.2\.(weight|bias)$/.test(k))) {
      const theirs = inits.get(name)!;
      const mine = pt.stateDict.get(name)!;
      expect(mine.dtype).toBe('float16');
      for (let i = 0; i < theirs.length; i++) expect(mine.data[i]).toBe(roundHalf(theirs[i]!));
      compared++;
    }
    expect(compared).toBe(12);
  });

  it('our export of the .pt vs Ultralytics .onnx: differences are those of fp16 weights; same detections', () => {
    const all = diffs(outOurs, outTheirs, ROWS, N);
    const confident = (i: number) => {
      for (let r = 4; r < ROWS; r++) if (outTheirs[r * N + i]! > 0.25) return true;
      return false;
    };
    const conf = diffs(outOurs, outTheirs, ROWS, N, confident);
    console.log(
      `yolo11n-coco.pt export vs Ultralytics .onnx (ORT, 640): all 8400 anchors: boxes max |d| ${all.box.toFixed(3)} px, scores ${all.score.toExponential(2)}; ` +
        `anchors scoring > 0.25: boxes ${conf.box.toFixed(3)} px (${conf.boxRel.toExponential(2)} of the box size), scores ${conf.score.toExponential(2)}`,
    );
    expect(all.score).toBeLessThan(5e-3);
    expect(all.box).toBeLessThan(16);
    expect(conf.box).toBeLessThan(0.5);
    expect(conf.boxRel).toBeLessThan(1e-3);
    expect(conf.score).toBeLessThan(5e-3);

    const nms = (out: Float32Array) => nonMaxSuppression(out, [1, ROWS, N], { conf: 0.25, iou: 0.7, nc: 80 })[0]!;
    const a = nms(outOurs);
    const b = nms(outTheirs);
    expect(a.count).toBeGreaterThan(0);
    expect(a.count).toBe(b.count);
    // Pair each of our detections with theirs of the same class and most overlap (close scores may swap order).
    for (let i = 0; i < a.count; i++) {
      let best = -1;
      let bestIou = 0;
      for (let j = 0; j < b.count; j++) {
        const o = a.classes[i] === b.classes[j] ? iouOne(a.boxes.subarray(4 * i, 4 * i + 4), b.boxes.subarray(4 * j, 4 * j + 4)) : 0;
        if (o > bestIou) [best, bestIou] = [j, o];
      }
      expect(bestIou).toBeGreaterThan(0.999);
      expect(Math.abs(a.scores[i]! - b.scores[best]!)).toBeLessThan(5e-3);
    }
  });

  it('our export agrees with our tfjs forward + decode on the same input', () => {
    const t = tf.tensor4d(x.nhwc, [1, 640, 640, 3]);
    const p = model.predict(t);
    const mine = p.dataSync() as Float32Array;
    tf.dispose([t, p]);
    const d = diffs(outOurs, mine, ROWS, N);
    console.log(`yolo11n-coco export (ORT) vs tfjs ${tf.getBackend()} at 640: boxes max |d| ${d.box.toExponential(2)} px, scores ${d.score.toExponential(2)}`);
    expect(d.box).toBeLessThan(1e-2);
    expect(d.score).toBeLessThan(1e-4);
  });

  it("carries Ultralytics' metadata: the ORT wrapper reads the same names, stride and size from both files", async () => {
    const file = path.join(dir, 'yolo11n-coco.onnx');
    await exportOnnx(model, { imgsz: 640, path: file, source: 'yolo11n-coco.pt' });
    const [mine, theirs] = await Promise.all([OnnxDetector.load(file, { threads: 2 }), OnnxDetector.load(path.join(MODELS, 'yolo11n-coco.onnx'), { threads: 2 })]);
    try {
      expect(mine.names).toEqual(theirs.names);
      expect(mine.metadata.stride).toBe(theirs.metadata.stride);
      expect(mine.metadata.imgsz).toEqual(theirs.metadata.imgsz);
      expect(mine.metadata.task).toBe('detect');
      expect(mine.staticInputSize).toEqual([640, 640]);
      const a = readOnnxMetadataProps(fs.readFileSync(file));
      const b = readOnnxMetadataProps(theirsBytes);
      for (const k of ['stride', 'task', 'batch', 'imgsz', 'names', 'args', 'channels']) expect(a[k], k).toBe(b[k]);
      expect(Object.keys(a).slice(0, 13)).toEqual(Object.keys(b));
    } finally {
      await Promise.all([mine.dispose(), theirs.dispose()]);
    }
  });

  it("matches Ultralytics' coco8 val mAP for their .onnx (within 0.01)", async () => {
    const file = path.join(dir, 'yolo11n-coco.onnx');
    if (!fs.existsSync(file)) await exportOnnx(model, { imgsz: 640, path: file });
    const det = await OnnxDetector.load(file, { threads: 2 });
    try {
      const r = await evaluateDetector(det, coco8Val(), { imgsz: 640, conf: 0.001, iou: 0.7, maxDet: 300 });
      console.log(`our yolo11n-coco export on coco8 val: mAP50 ${r.mAP50.toFixed(4)} mAP50-95 ${r.mAP50_95.toFixed(4)} (Ultralytics .onnx ${REFERENCE.mAP50} / ${REFERENCE.mAP50_95})`);
      expect(Math.abs(r.mAP50_95 - REFERENCE.mAP50_95)).toBeLessThan(0.01);
      expect(Math.abs(r.mAP50 - REFERENCE.mAP50)).toBeLessThan(0.01);
    } finally {
      await det.dispose();
    }
  });
});

describe.each(['yolov8n-coco.pt', 'yolo11n-rand.pt'])('ONNX export of %s', (file) => {
  it('exports, runs in onnxruntime, and agrees with the tfjs forward at 320', async () => {
    await useModelTestBackend();
    const m = YoloModel.fromCheckpoint(readPtFile(path.join(MODELS, file)));
    try {
      const { bytes, outputShape } = buildOnnx(m, { imgsz: 320, source: file });
      expect(outputShape).toEqual([1, 84, 2100]);
      const lb = await letterboxFile(IMAGE, { newShape: 320 });
      const nhwc = toUnitFloat(lb.data);
      const nchw = new Float32Array(3 * 320 * 320);
      for (let i = 0; i < 320 * 320; i++) for (let c = 0; c < 3; c++) nchw[c * 320 * 320 + i] = nhwc[i * 3 + c]!;
      const out = await runOrt(bytes, nchw, 320);
      const t = tf.tensor4d(nhwc, [1, 320, 320, 3]);
      const p = m.predict(t);
      const mine = p.dataSync() as Float32Array;
      tf.dispose([t, p]);
      const d = diffs(out, mine, 84, 2100);
      console.log(`${file} export (ORT) vs tfjs at 320: boxes max |d| ${d.box.toExponential(2)} px, scores ${d.score.toExponential(2)}`);
      expect(d.box).toBeLessThan(1e-2);
      expect(d.score).toBeLessThan(1e-4);
      const dir = tmpDir();
      const res = await exportOnnx(m, { imgsz: 320, path: path.join(dir, 'm.onnx') });
      const det = await OnnxDetector.load(res.path, { threads: 2 });
      try {
        expect(det.names).toEqual(m.names);
        expect(det.staticInputSize).toEqual([320, 320]);
      } finally {
        await det.dispose();
      }
    } finally {
      m.dispose();
    }
  });
});

describe('models.inspect on the shared files', () => {
  it("reads the shared checkpoints and Ultralytics' .onnx, and our export of it counts the same parameters", async () => {
    expect(await inspectModelFile(path.join(MODELS, 'yolo11n-coco.pt'))).toMatchObject({ format: 'pt', nc: 80, params: 2_624_080, yamlScale: 'n', family: 'yolo11' });
    expect(await inspectModelFile(path.join(MODELS, 'yolov8n-coco.pt'))).toMatchObject({ format: 'pt', nc: 80, params: 3_157_200, yamlScale: 'n', family: 'yolov8' });
    const theirs = await inspectModelFile(path.join(MODELS, 'yolo11n-coco.onnx'));
    expect(theirs).toMatchObject({ format: 'onnx', task: 'detect', nc: 80, imgsz: [640, 640], yamlScale: 'n', family: 'yolo11', source: 'Ultralytics YOLO11n model trained on coco.yaml' });
    expect(theirs.names[0]).toBe('person');
    await useModelTestBackend();
    const m = YoloModel.fromCheckpoint(readPtFile(path.join(MODELS, 'yolo11n-coco.pt')));
    try {
      const file = path.join(tmpDir(), 'ours.onnx');
      await exportOnnx(m, { imgsz: 640, path: file, source: 'yolo11n-coco.pt' });
      const ours = await inspectModelFile(file);
      expect(ours).toMatchObject({ format: 'onnx', nc: 80, imgsz: [640, 640], yamlScale: 'n', family: 'yolo11', source: 'yolo11n-coco.pt', params: theirs.params });
      console.log(`yolo11n exported (BN fused): ${ours.params} parameters, as in Ultralytics' .onnx (${theirs.params})`);
    } finally {
      m.dispose();
    }
  });
});

