/**
 * models.inspect: a local model file the user picks (.pt, .safetensors, .onnx) is read, validated
 * and summarised; other tasks, weights that do not fit and non-model files get clear errors. Also
 * the Api methods on the service (list, download of an unknown name, inspect).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoxtuneService } from '../../../../src/main/app/service';
import { saveCheckpoint } from '../../../../src/main/model/checkpoint';
import { encodeModel, exportOnnx } from '../../../../src/main/model/onnx';
import { describeModel } from '../../../../src/main/model/parse-model';
import { YoloModel } from '../../../../src/main/model/yolo';
import { inspectModelFile } from '../../../../src/main/model/zoo';
import { tinyYolo11Yaml, tinyYolov8Yaml, useModelTestBackend } from '../../../helpers/model-fixtures';
import { fakeUltralyticsCheckpoint } from '../../../helpers/model-pt-writer';
import { tmpDir } from '../../../helpers/tmp';

describe('inspectModelFile', () => {
  let model: YoloModel;
  const yaml = { ...tinyYolo11Yaml(3), yaml_file: 'yolo11t.yaml' };
  const names = ['ant', 'bee', 'cicada'];

  beforeAll(async () => {
    await useModelTestBackend();
    model = YoloModel.fromYaml(yaml, 3, names, { seed: 9 });
  });
  afterAll(() => model.dispose());

  it('an Ultralytics .pt: task, classes, size, parameters, scale, family', async () => {
    const file = path.join(tmpDir(), 'tiny.pt');
    fs.writeFileSync(file, fakeUltralyticsCheckpoint(yaml, names, model.stride, model.stateDict(), { dtype: 'float16' }));
    expect(await inspectModelFile(file)).toEqual({
      format: 'pt',
      task: 'detect',
      nc: 3,
      names,
      imgsz: [64, 64],
      params: describeModel(yaml).params,
      yamlScale: 't',
      family: 'yolo11',
      source: null,
    });
  });

  it('a YOLOv8 .pt is told apart by its head', async () => {
    const y8 = YoloModel.fromYaml(tinyYolov8Yaml(2), 2, ['a', 'b'], { seed: 1 });
    try {
      const file = path.join(tmpDir(), 'v8.pt');
      fs.writeFileSync(file, fakeUltralyticsCheckpoint(tinyYolov8Yaml(2), y8.names, y8.stride, y8.stateDict()));
      expect(await inspectModelFile(file)).toMatchObject({ format: 'pt', nc: 2, family: 'yolov8', yamlScale: '' });
    } finally {
      y8.dispose();
    }
  });

  it("a segmentation checkpoint gets the reader's clear error", async () => {
    const file = path.join(tmpDir(), 'seg.pt');
    fs.writeFileSync(
      file,
      fakeUltralyticsCheckpoint(yaml, names, model.stride, model.stateDict(), { modelClass: 'ultralytics.nn.tasks.SegmentationModel', headClass: 'ultralytics.nn.modules.head.Segment' }),
    );
    await expect(inspectModelFile(file)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/segmentation/) });
  });

  it('weights that do not fit their yaml are named', async () => {
    const sd = model.stateDict();
    sd.delete('model.0.conv.weight');
    const file = path.join(tmpDir(), 'broken.pt');
    fs.writeFileSync(file, fakeUltralyticsCheckpoint(yaml, names, model.stride, sd));
    await expect(inspectModelFile(file)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/missing model\.0\.conv\.weight/) });
  });

  it('a boxtune .safetensors checkpoint', async () => {
    const file = path.join(tmpDir(), 'best.safetensors');
    saveCheckpoint(file, model, { imgsz: 320, source: 'yolo11t.pt' });
    expect(await inspectModelFile(file)).toMatchObject({ format: 'safetensors', nc: 3, names, imgsz: [320, 320], yamlScale: 't', family: 'yolo11', source: 'yolo11t.pt' });
  });

  it('our .onnx export: metadata, interface, fused parameter count', async () => {
    const file = path.join(tmpDir(), 'tiny.onnx');
    await exportOnnx(model, { imgsz: [64, 96], path: file, source: 'tiny.pt' });
    const info = await inspectModelFile(file);
    expect(info).toMatchObject({ format: 'onnx', task: 'detect', nc: 3, names, imgsz: [64, 96], yamlScale: 't', family: 'yolo11', source: 'tiny.pt' });
    // BN folded: every Conv keeps its weight and gains a bias; the BN affine parameters go.
    const bnParams = [...model.store.batchNorms.values()].reduce((a, b) => a + b.c, 0);
    expect(info.params).toBe(describeModel(yaml).params - bnParams);
  });

  it('an ONNX model of another task, and files that are not models', async () => {
    const dir = tmpDir();
    const seg = path.join(dir, 'seg.onnx');
    fs.writeFileSync(
      seg,
      encodeModel({
        ir_version: 8,
        opset_import: [{ domain: '', version: 17 }],
        producer_name: 'test',
        producer_version: '0',
        graph: { name: 'g', node: [], initializer: [], input: [], output: [] },
        metadata_props: [{ key: 'task', value: 'segment' }],
      }),
    );
    await expect(inspectModelFile(seg)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: 'seg.onnx is a segmentation model (task \'segment\'); boxtune works with detection models only' });
    const txt = path.join(dir, 'notes.pt');
    fs.writeFileSync(txt, 'hello');
    await expect(inspectModelFile(txt)).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
    const junk = path.join(dir, 'junk.onnx');
    fs.writeFileSync(junk, Buffer.from([0xff, 0xff, 0xff, 0x07]));
    await expect(inspectModelFile(junk)).rejects.toMatchObject({ code: 'FILE_UNREADABLE', message: expect.stringMatching(/^junk\.onnx is not a readable ONNX model/) });
    await expect(inspectModelFile(path.join(dir, 'missing.pt'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

describe('models.* on the service', () => {
  it('lists the zoo from <dataDir>/models, rejects unknown names, inspects files', async () => {
    const dataDir = tmpDir();
    const service = new BoxtuneService({ shell: 'browser', dataDir });
    try {
      const list = await service['models.list']({});
      expect(list.map((m) => m.name)).toEqual(['yolo11n', 'yolo11s', 'yolo11m', 'yolov8n', 'yolov8s', 'yolov8m']);
      expect(list.every((m) => !m.cached)).toBe(true);
      expect(service.models.dir).toBe(path.join(dataDir, 'models'));
      await expect(service['models.download']({ name: 'yolo99' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(service['models.inspect']({ path: path.join(dataDir, 'nope.pt') })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    } finally {
      await service.close();
    }
  });
});
