import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/shared/errors';
import {
  decodeCheckpoint,
  decodeSafetensors,
  encodeCheckpoint,
  encodeSafetensors,
  loadCheckpoint,
  loadModelFile,
  saveCheckpoint,
} from '../../../src/main/model/checkpoint';
import { YoloModel } from '../../../src/main/model/yolo';
import { maxAbsDiff, randomImages, tinyYolo11Yaml, useModelTestBackend } from '../../helpers/model-fixtures';
import { fakeUltralyticsCheckpoint } from '../../helpers/model-pt-writer';
import { tmpDir } from '../../helpers/tmp';

describe('boxtune checkpoint (safetensors)', () => {
  let model: YoloModel;

  beforeAll(async () => {
    await useModelTestBackend();
    model = YoloModel.fromYaml(tinyYolo11Yaml(3), 3, ['ant', 'bee', 'cat'], { seed: 11 });
    // move the BN running stats off their initial values so they are checked too
    const x = randomImages(2, 64, 64);
    tf.dispose(model.forward(x, { training: true }));
    x.dispose();
  });
  afterAll(() => model.dispose());

  it('is a valid safetensors file: 8-byte header length, JSON header, 8-byte aligned data', () => {
    const bytes = encodeCheckpoint(model, { imgsz: 320 });
    const hlen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect((8 + hlen) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const w = header['model.0.conv.weight']!;
    expect(w).toEqual({ dtype: 'F32', shape: [8, 3, 3, 3], data_offsets: [0, 8 * 27 * 4] });
    expect(header['model.0.bn.num_batches_tracked']!.dtype).toBe('I64');
    const offsets = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([, v]) => v.data_offsets);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]![0]).toBe(offsets[i - 1]![1]); // contiguous, no holes
    expect(offsets[offsets.length - 1]![1]).toBe(bytes.length - 8 - hlen);
    expect((header.__metadata__ as unknown as Record<string, string>).format).toBe('boxtune-yolo/1');
  });

  it('saves and loads bit-exactly, metadata included, and builds the same model', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'run', 'best.safetensors');
    const info = {
      imgsz: 320,
      trainArgs: { epochs: 10, lr0: 0.001, freeze: 10 },
      metrics: { 'mAP50-95': 0.129, mAP50: 0.222 },
      datasetSnapshotId: 'snap-42',
      source: 'yolo11n.pt',
    };
    const meta = saveCheckpoint(file, model, info);
    const bytes = fs.readFileSync(file);
    const { model: loaded, meta: meta2 } = loadCheckpoint(file);
    try {
      expect(meta2).toEqual(meta);
      expect(meta2).toMatchObject({ ...info, names: ['ant', 'bee', 'cat'], stride: [8, 16, 32] });
      expect(meta2.yaml).toEqual(model.yaml);
      const a = model.stateDict();
      const b = loaded.stateDict();
      expect([...b.keys()]).toEqual([...a.keys()]);
      const bits = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
      for (const [k, v] of a) expect(bits(b.get(k)!.data), k).toEqual(bits(v.data));
      // re-encoding the loaded model gives the same bytes (same created time passed through)
      expect(Buffer.from(encodeCheckpoint(loaded, {}, meta2)).equals(bytes)).toBe(true);
      const x = randomImages(1, 64, 64);
      const [p, q] = [model.predict(x), loaded.predict(x)];
      expect(maxAbsDiff(p.dataSync(), q.dataSync())).toBe(0);
      tf.dispose([x, p, q]);
    } finally {
      loaded.dispose();
    }
  });

  it('opens .pt and .safetensors files alike by content', () => {
    const dir = tmpDir();
    const ck = path.join(dir, 'model.bin');
    saveCheckpoint(ck, model);
    const pt = path.join(dir, 'tiny.pt');
    fs.writeFileSync(pt, fakeUltralyticsCheckpoint(tinyYolo11Yaml(3), model.names, model.stride, model.stateDict()));
    const a = loadModelFile(ck);
    const b = loadModelFile(pt);
    expect([a.kind, b.kind]).toEqual(['checkpoint', 'pt']);
    expect(b.model.names).toEqual(['ant', 'bee', 'cat']);
    a.model.dispose();
    b.model.dispose();
    expect(() => loadModelFile(path.join(dir, 'nope.pt'))).toThrow(/cannot read/);
  });

  it('rejects truncated files and safetensors that are not boxtune checkpoints', () => {
    const bytes = encodeCheckpoint(model);
    const err = (() => {
      try {
        decodeCheckpoint(bytes.subarray(0, bytes.length - 100), 'best.safetensors');
      } catch (e) {
        return e as AppError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(AppError);
    expect(err!.code).toBe('FILE_UNREADABLE');
    expect(err!.message).toMatch(/best\.safetensors is not a readable safetensors file: tensor .* lies outside the data \(truncated\?\)/);
    expect(() => decodeCheckpoint(bytes.subarray(0, 5))).toThrow(/truncated/);
    const plain = encodeSafetensors(new Map([['w', { dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) }]]), {});
    expect(() => decodeCheckpoint(plain, 'w.safetensors')).toThrow(/not a boxtune model checkpoint/);
    expect([...decodeSafetensors(plain).tensors.get('w')!.data]).toEqual([1, 2]);
  });
});
