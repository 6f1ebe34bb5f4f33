import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import { LabelStore } from '../../../../src/main/store/label-store';
import { instancesPerClass, samplesFromStore, samplesFromYaml } from '../../../../src/main/train/data/dataset';
import { tmpDir } from '../../../helpers/tmp';

async function png(file: string, width: number, height: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: 114, g: 114, b: 114 } } }).png().toFile(file);
}

describe('training samples from the project store', () => {
  it('takes a split, boxes to xyxy pixels, classes by rank, backgrounds kept, unlabeled left out', () => {
    const root = tmpDir();
    const store = LabelStore.create(root, 'samples');
    try {
      const img = (p: string, split: 'train' | 'val', labeled: boolean, boxes: { classIndex: number; x: number; y: number; w: number; h: number }[]) => ({
        path: p,
        hash: p,
        width: 100,
        height: 50,
        split,
        labeled,
        boxes,
      });
      store.applyImport({
        classes: ['zebra', 'ant'],
        images: [
          img('a.png', 'train', true, [{ classIndex: 1, x: 10, y: 5, w: 20, h: 10 }, { classIndex: 0, x: 0, y: 0, w: 100, h: 50 }]),
          img('b.png', 'train', true, []),
          img('c.png', 'train', false, []),
          img('d.png', 'val', true, [{ classIndex: 0, x: 1, y: 2, w: 3, h: 4 }]),
        ],
      });
      const train = samplesFromStore(store, 'train');
      expect(train.names).toEqual(['zebra', 'ant']);
      expect(train.samples.map((s) => s.relPath)).toEqual(['a.png', 'b.png']);
      expect(train.samples[0]!.imagePath).toBe(path.join(root, 'a.png'));
      expect(train.samples[0]!.cls).toEqual([1, 0]);
      expect(Array.from(train.samples[0]!.boxes)).toEqual([10, 5, 30, 15, 0, 0, 100, 50]);
      expect(train.samples[1]!.cls).toEqual([]);
      expect([train.samples[0]!.width, train.samples[0]!.height]).toEqual([100, 50]);
      expect(train.warnings).toEqual(['1 train image(s) are not labeled yet and were left out']);
      expect(samplesFromStore(store, 'train', { includeUnlabeled: true }).samples).toHaveLength(3);
      const val = samplesFromStore(store, 'val');
      expect(Array.from(val.samples[0]!.boxes)).toEqual([1, 2, 4, 6]);
      expect(instancesPerClass(train.samples, 2)).toEqual([1, 1]);
    } finally {
      store.close();
    }
  });
});

describe('training samples from a data.yaml', () => {
  it('converts normalised labels with each image size; missing label files are backgrounds', async () => {
    const dir = tmpDir();
    await png(path.join(dir, 'images/train/a.png'), 40, 20);
    await png(path.join(dir, 'images/train/b.png'), 30, 30);
    await png(path.join(dir, 'images/val/c.png'), 10, 10);
    fs.mkdirSync(path.join(dir, 'labels/train'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'labels/train/a.txt'), '1 0.5 0.5 0.5 0.5\n0 0.25 0.25 0.5 0.5\n');
    const yaml = path.join(dir, 'data.yaml');
    fs.writeFileSync(yaml, 'path: .\ntrain: images/train\nval: images/val\nnames:\n  0: cat\n  1: dog\n');
    const train = samplesFromYaml(yaml, 'train');
    expect(train.names).toEqual(['cat', 'dog']);
    expect(train.samples.map((s) => path.basename(s.imagePath))).toEqual(['a.png', 'b.png']);
    const a = train.samples[0]!;
    expect([a.width, a.height]).toEqual([40, 20]);
    expect(a.cls).toEqual([1, 0]);
    expect(Array.from(a.boxes)).toEqual([10, 5, 30, 15, 0, 0, 20, 10]);
    expect(train.samples[1]!.cls).toEqual([]);
    expect(samplesFromYaml(yaml, 'val').samples).toHaveLength(1);
  });

  it('refuses malformed labels, naming the file', async () => {
    const dir = tmpDir();
    await png(path.join(dir, 'images/train/a.png'), 40, 20);
    fs.mkdirSync(path.join(dir, 'labels/train'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'labels/train/a.txt'), '5 0.5 0.5 0.5 0.5\n');
    const yaml = path.join(dir, 'data.yaml');
    fs.writeFileSync(yaml, 'path: .\ntrain: images/train\nnames:\n  0: cat\n');
    let err: unknown;
    try {
      samplesFromYaml(yaml, 'train');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('IMPORT_INVALID');
    expect((err as AppError).message).toContain('a.txt');
  });
});
