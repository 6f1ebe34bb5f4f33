import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/shared/errors';
import { halfToFloat, readPt, readPtFile } from '../../../src/main/model/pt/pt-reader';
import { YoloModel } from '../../../src/main/model/yolo';
import { maxAbsDiff, randomImages, tinyYolo11Yaml, tinyYolov8Yaml, useModelTestBackend } from '../../helpers/model-fixtures';
import { fakeUltralyticsCheckpoint, floatToHalf, writeTorchZip, dict } from '../../helpers/model-pt-writer';
import { tmpDir } from '../../helpers/tmp';

function catchAppError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

describe('Ultralytics .pt reader', () => {
  let model: YoloModel;
  let bytes: Uint8Array;

  beforeAll(async () => {
    await useModelTestBackend();
    model = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, ['ant', 'bee', 'cat'], { seed: 7 });
    bytes = fakeUltralyticsCheckpoint({ ...tinyYolo11Yaml(3), yaml_file: 'tiny.yaml' }, model.names, model.stride, model.stateDict());
  });
  afterAll(() => model.dispose());

  it('reads a checkpoint written like torch.save: yaml, names, stride, args, meta, state dict in order', () => {
    const pt = readPt(bytes, 'tiny.pt');
    expect(pt.source).toBe('model');
    expect(pt.modelClass).toBe('ultralytics.nn.tasks.DetectionModel');
    expect(pt.names).toEqual(['ant', 'bee', 'cat']);
    expect(pt.stride).toEqual([8, 16, 32]);
    expect(pt.yaml).toMatchObject({ nc: 3, scale: 't', yaml_file: 'tiny.yaml' });
    expect(pt.args).toEqual({ task: 'detect', imgsz: 640 });
    expect(pt.trainArgs).toEqual({ epochs: 3, lr0: 0.01, imgsz: 64 });
    expect(pt.meta).toMatchObject({ version: '8.3.186', epoch: -1, best_fitness: null });
    const sd = model.stateDict();
    expect([...pt.stateDict.keys()]).toEqual([...sd.keys()]);
    for (const [k, v] of sd) {
      const t = pt.stateDict.get(k)!;
      expect(t.shape).toEqual(v.shape);
      expect(maxAbsDiff(t.data, v.data)).toBe(0);
    }
    expect(pt.stateDict.get('model.0.bn.num_batches_tracked')!.dtype).toBe('int64');
    expect(pt.modules.get('model.0.bn')).toMatchObject({ className: 'torch.nn.modules.batchnorm.BatchNorm2d', attrs: { eps: 0.001, momentum: 0.03 } });
  });

  it('builds the same network from the checkpoint (same outputs)', () => {
    const loaded = YoloModel.fromCheckpoint(readPt(bytes));
    try {
      const x = randomImages(1, 64, 64);
      const [a, b] = [model.predict(x), loaded.predict(x)];
      expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBe(0);
      tf.dispose([x, a, b]);
    } finally {
      loaded.dispose();
    }
  });

  it('takes ema when present, converts fp16 storages exactly, and reads any top folder', () => {
    const half = fakeUltralyticsCheckpoint(tinyYolov8Yaml(2), ['a', 'b'], [8, 16], (() => {
      const m = YoloModel.fromYaml(tinyYolov8Yaml(2), 2);
      const sd = m.stateDict();
      m.dispose();
      return sd;
    })(), { dtype: 'float16', asEma: true, top: 'yolov8_tiny' });
    const pt = readPt(half);
    expect(pt.source).toBe('ema');
    const w = pt.stateDict.get('model.0.conv.weight')!;
    expect(w.dtype).toBe('float16');
    // every value is exactly representable: it went through fp16
    for (const v of w.data.slice(0, 50)) expect(halfToFloat(floatToHalf(v))).toBe(v);
    YoloModel.fromCheckpoint(pt).dispose();
  });

  it('decodes halves exactly, subnormals and specials included', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
  });

  it('says a truncated file is truncated', () => {
    const e = catchAppError(() => readPt(bytes.subarray(0, Math.floor(bytes.length / 2)), 'yolo11n.pt'));
    expect(e.code).toBe('FILE_UNREADABLE');
    expect(e.message).toMatch(/^yolo11n\.pt is truncated or not a zip: /);
  });

  it('says a non-zip is not a zip', () => {
    const e = catchAppError(() => readPt(new TextEncoder().encode('hello, this is not a checkpoint'), 'notes.pt'));
    expect(e.code).toBe('FILE_UNREADABLE');
    expect(e.message).toMatch(/^notes\.pt is truncated or not a zip/);
    const legacy = catchAppError(() => readPt(Uint8Array.of(0x80, 0x02, 0x8a, 0x0a), 'old.pt'));
    expect(legacy.message).toMatch(/legacy \(pre-1\.6\) pickle format/);
  });

  it('refuses a segmentation checkpoint by its head', () => {
    const y = tinyYolo11Yaml(3) as { head: unknown[][] };
    y.head[y.head.length - 1] = [[15, 18, 21], 1, 'Segment', ['nc', 32, 64]];
    const seg = fakeUltralyticsCheckpoint(y, ['a', 'b', 'c'], [8, 16, 32], model.stateDict(), {
      modelClass: 'ultralytics.nn.tasks.SegmentationModel',
      headClass: 'ultralytics.nn.modules.head.Segment',
    });
    const e = catchAppError(() => readPt(seg, 'yolo11n-seg.pt'));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toBe('yolo11n-seg.pt: this is a segmentation checkpoint (Segment head); boxtune trains detection models only');
  });

  it('refuses pose and classification checkpoints too', () => {
    const pose = fakeUltralyticsCheckpoint(tinyYolo11Yaml(1), ['person'], [8, 16, 32], model.stateDict(), {
      headClass: 'ultralytics.nn.modules.head.Pose',
    });
    expect(() => readPt(pose, 'p.pt')).toThrow(/this is a pose checkpoint \(Pose head\)/);
    const cls = fakeUltralyticsCheckpoint(tinyYolo11Yaml(1), ['x'], [8, 16, 32], model.stateDict(), {
      modelClass: 'ultralytics.nn.tasks.ClassificationModel',
      headClass: 'ultralytics.nn.modules.head.Classify',
    });
    expect(() => readPt(cls, 'c.pt')).toThrow(/this is a classification checkpoint \(Classify head\)/);
  });

  it('names an unknown module in the yaml', () => {
    const y = tinyYolo11Yaml(3) as { backbone: unknown[][] };
    y.backbone[3] = [-1, 1, 'Foo', [128, 3, 2]];
    const e = catchAppError(() => readPt(fakeUltralyticsCheckpoint(y, ['a', 'b', 'c'], [8, 16, 32], model.stateDict()), 'custom.pt'));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/^custom\.pt: unknown module 'Foo' in yaml backbone\[3\]; boxtune builds Conv, /);
  });

  it('says which weights do not fit the yaml', () => {
    const sd = model.stateDict();
    sd.delete('model.4.m.0.cv1.conv.weight');
    const pt = readPt(fakeUltralyticsCheckpoint(tinyYolo11Yaml(3), ['a', 'b', 'c'], [8, 16, 32], sd));
    const e = catchAppError(() => YoloModel.fromCheckpoint(pt));
    expect(e.message).toMatch(/weights do not fit the model built from the yaml: missing model\.4\.m\.0\.cv1\.conv\.weight/);
  });

  it('explains a zip that is not a checkpoint and a missing file', () => {
    const dir = tmpDir();
    const notCkpt = writeTorchZip(dict({ a: 1 }));
    expect(() => readPt(notCkpt, 'x.pt')).toThrow(/not an Ultralytics checkpoint/);
    const f = path.join(dir, 'missing.pt');
    expect(catchAppError(() => readPtFile(f)).code).toBe('FILE_NOT_FOUND');
    fs.writeFileSync(f, bytes);
    expect(readPtFile(f).names).toEqual(['ant', 'bee', 'cat']);
  });
});
