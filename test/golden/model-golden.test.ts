/**
 * Ultralytics' own numbers for models/yolo11n-coco.pt (../shared/golden/yolo11n-coco, see its
 * golden.json): our letterbox must reproduce fwd_input exactly, our eval-mode forward must match
 * the raw head outputs within 1e-3 and the decoded output within 1e-2 px / 1e-4, and every weight
 * we read must equal weights_f32.bin. The other shared checkpoints must load and run.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { letterboxFile, toUnitFloat } from '../../src/main/images/letterbox';
import { readPtFile } from '../../src/main/model/pt/pt-reader';
import { YoloModel } from '../../src/main/model/yolo';
import { maxAbsDiff, useModelTestBackend } from '../helpers/model-fixtures';

const SHARED = path.resolve(import.meta.dirname, '../../../shared');
const GOLDEN = path.join(SHARED, 'golden/yolo11n-coco');

interface GoldenJson {
  arrays: Record<string, { shape: number[] }>;
  forward: { image: string; orig_hw: [number, number]; ratio: number; resized_wh: [number, number]; pad_top_bottom_left_right: [number, number, number, number] };
}

const golden = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'golden.json'), 'utf8')) as GoldenJson;
const readF32 = (name: string) => {
  const b = fs.readFileSync(path.join(GOLDEN, `${name}.bin`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** NCHW [1, C, H, W] golden data -> NHWC tensor. */
function nhwc(data: Float32Array, shape: number[]): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(data, shape as [number, number, number, number]), [0, 2, 3, 1]));
}

describe('yolo11n-coco golden (Ultralytics 8.3.186)', () => {
  let model: YoloModel;
  let x: tf.Tensor4D;

  beforeAll(async () => {
    await useModelTestBackend();
    model = YoloModel.fromCheckpoint(readPtFile(path.join(SHARED, 'models/yolo11n-coco.pt')));
    x = nhwc(readF32('fwd_input'), golden.arrays.fwd_input!.shape);
  });
  afterAll(() => {
    x.dispose();
    model.dispose();
  });

  it('our letterbox of the golden image reproduces fwd_input exactly', async () => {
    const lb = await letterboxFile(path.join(SHARED, 'data/coco8', golden.forward.image), { newShape: 320 });
    const [top, bottom, left, right] = golden.forward.pad_top_bottom_left_right;
    expect(lb.source).toEqual({ width: golden.forward.orig_hw[1], height: golden.forward.orig_hw[0] });
    expect(lb.ratio).toBe(golden.forward.ratio);
    expect([lb.resized.width, lb.resized.height]).toEqual(golden.forward.resized_wh);
    expect(lb.pad).toEqual({ top, bottom, left, right });
    const ours = toUnitFloat(lb.data); // HWC
    const g = readF32('fwd_input'); // CHW
    let maxDiff = 0;
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 320 * 320; i++) maxDiff = Math.max(maxDiff, Math.abs(g[c * 320 * 320 + i]! - ours[i * 3 + c]!));
    }
    expect(maxDiff).toBe(0);
  });

  it('reads every weight exactly as Ultralytics has it (weights_f32.bin)', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'weights_manifest.json'), 'utf8')) as {
      name: string;
      shape: number[];
      offset_bytes?: number;
      dtype: string;
      value?: number;
    }[];
    const blob = fs.readFileSync(path.join(GOLDEN, 'weights_f32.bin'));
    const sd = model.stateDict();
    expect([...sd.keys()]).toEqual(manifest.map((m) => m.name));
    let worst = 0;
    for (const m of manifest) {
      const t = sd.get(m.name)!;
      expect(t.shape, m.name).toEqual(m.shape);
      if (m.offset_bytes === undefined) {
        expect(t.data[0], m.name).toBe(m.value);
        continue;
      }
      const n = m.shape.reduce((a, b) => a * b, 1);
      const ref = new Float32Array(blob.buffer.slice(blob.byteOffset + m.offset_bytes, blob.byteOffset + m.offset_bytes + n * 4));
      worst = Math.max(worst, maxAbsDiff(t.data, ref));
    }
    expect(worst).toBe(0);
  });

  it('matches the raw head outputs within 1e-3 and the decoded output within 1e-2 px / 1e-4', () => {
    const raw = model.forward(x);
    const errs: number[] = [];
    (['fwd_raw_p3', 'fwd_raw_p4', 'fwd_raw_p5'] as const).forEach((name, i) => {
      const ours = tf.tidy(() => tf.transpose(raw[i]!, [0, 3, 1, 2]).dataSync()); // NHWC -> NCHW
      expect(raw[i]!.shape).toEqual([1, ...golden.arrays[name]!.shape.slice(2), 144]);
      errs.push(maxAbsDiff(ours, readF32(name)));
    });
    const out = model.decode(raw);
    expect(out.shape).toEqual([1, 84, 2100]);
    const o = out.dataSync();
    const g = readF32('fwd_decoded');
    const n = 2100;
    const box = maxAbsDiff(o.subarray(0, 4 * n), g.subarray(0, 4 * n));
    const score = maxAbsDiff(o.subarray(4 * n), g.subarray(4 * n));
    console.log(`golden max abs error: raw p3/p4/p5 ${errs.map((e) => e.toExponential(2)).join(' / ')}, boxes ${box.toExponential(2)} px, scores ${score.toExponential(2)}`);
    for (const e of errs) expect(e).toBeLessThan(1e-3);
    expect(box).toBeLessThan(1e-2);
    expect(score).toBeLessThan(1e-4);
    tf.dispose([raw, out]);
  });

  it('matches the train-mode raw outputs (BN batch statistics) of the loss batch within 1e-3', () => {
    const fresh = YoloModel.fromCheckpoint(readPtFile(path.join(SHARED, 'models/yolo11n-coco.pt')));
    const imgs = nhwc(readF32('loss_img'), golden.arrays.loss_img!.shape);
    try {
      const raw = fresh.forward(imgs, { training: true });
      const errs = (['loss_raw_p3', 'loss_raw_p4', 'loss_raw_p5'] as const).map((name, i) =>
        maxAbsDiff(tf.tidy(() => tf.transpose(raw[i]!, [0, 3, 1, 2]).dataSync()), readF32(name)),
      );
      console.log(`golden train-mode max abs error: raw p3/p4/p5 ${errs.map((e) => e.toExponential(2)).join(' / ')}`);
      for (const e of errs) expect(e).toBeLessThan(1e-3);
      tf.dispose(raw);
    } finally {
      imgs.dispose();
      fresh.dispose();
    }
  });

  it('matches on the plain-JS cpu backend too', async () => {
    const before = tf.getBackend();
    await import('@tensorflow/tfjs-backend-cpu'); // registers 'cpu'
    await tf.setBackend('cpu');
    try {
      const xs = nhwc(readF32('fwd_input'), golden.arrays.fwd_input!.shape);
      const out = model.predict(xs);
      const g = readF32('fwd_decoded');
      const o = out.dataSync();
      expect(maxAbsDiff(o.subarray(0, 4 * 2100), g.subarray(0, 4 * 2100))).toBeLessThan(1e-2);
      expect(maxAbsDiff(o.subarray(4 * 2100), g.subarray(4 * 2100))).toBeLessThan(1e-4);
      tf.dispose([xs, out]);
    } finally {
      await tf.setBackend(before);
    }
  });
});

describe('other shared checkpoints', () => {
  beforeAll(async () => {
    await useModelTestBackend();
  });

  /** Best (class, score) over all anchors of a [1, 4+nc, N] output. */
  function best(out: tf.Tensor3D): { cls: number; score: number } {
    const [, c, n] = out.shape;
    const d = out.dataSync();
    let b = { cls: -1, score: -1 };
    for (let k = 4; k < c; k++) for (let i = 0; i < n; i++) if (d[k * n + i]! > b.score) b = { cls: k - 4, score: d[k * n + i]! };
    return b;
  }

  it('yolov8n-coco.pt (fp16, YOLOv8 head) loads and detects what yolo11n does on the golden image', async () => {
    const lb = await letterboxFile(path.join(SHARED, 'data/coco8', golden.forward.image), { newShape: 320 });
    const x = tf.tensor4d(toUnitFloat(lb.data), [1, 320, 320, 3]);
    const v8pt = readPtFile(path.join(SHARED, 'models/yolov8n-coco.pt'));
    expect(v8pt.stateDict.get('model.0.conv.weight')!.dtype).toBe('float16');
    const v8 = YoloModel.fromCheckpoint(v8pt);
    const y11 = YoloModel.fromCheckpoint(readPtFile(path.join(SHARED, 'models/yolo11n-coco.pt')));
    try {
      expect(v8.parsed.legacy).toBe(true);
      expect(v8.numParams()).toBe(3_157_200);
      const [a, b] = [v8.predict(x), y11.predict(x)];
      expect(a.shape).toEqual([1, 84, 2100]);
      const [ba, bb] = [best(a), best(b)];
      expect(ba.score).toBeGreaterThan(0.5);
      expect(ba.cls).toBe(bb.cls);
      expect(v8.names[ba.cls]).toBe(y11.names[bb.cls]);
      tf.dispose([a, b]);
    } finally {
      tf.dispose(x);
      v8.dispose();
      y11.dispose();
    }
  });

  it('yolo11n-rand.pt loads and runs', () => {
    const m = YoloModel.fromCheckpoint(readPtFile(path.join(SHARED, 'models/yolo11n-rand.pt')));
    const x = tf.fill([1, 320, 320, 3], 0.5) as tf.Tensor4D;
    const out = m.predict(x);
    expect(out.shape).toEqual([1, 84, 2100]);
    expect(out.dataSync().every(Number.isFinite)).toBe(true);
    tf.dispose([x, out]);
    m.dispose();
  });
});
