/**
 * Real datasets from ../shared: coco8 (Ultralytics' recipe dataset) and rice-pest, imported with
 * Ultralytics' semantics and round-tripped through every export format.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExportFormat } from '../../src/shared/types';
import { exportDataset } from '../../src/main/dataset/export';
import { importDataset } from '../../src/main/dataset/import';
import { LabelStore } from '../../src/main/store/label-store';
import { tmpDir } from '../helpers/tmp';

const SHARED = path.resolve(import.meta.dirname, '../../../shared');
const COCO8 = path.join(SHARED, 'data/coco8');
const RICE = path.join(SHARED, 'data/rice-pest');

interface Snapshot {
  classes: string[];
  images: { name: string; hash: string; width: number; height: number; split: string; status: string; boxes: number[][] }[];
}

/** Everything a round trip must keep, keyed by file name (paths differ between copies). */
function snapshot(store: LabelStore): Snapshot {
  const classes = store.classes();
  const names = new Map(classes.map((c) => [c.id, c.name]));
  const images = store.page({ limit: 1000 }).items.map((img) => ({
    name: path.basename(img.path),
    hash: img.hash,
    width: img.width,
    height: img.height,
    split: img.split,
    status: img.status,
    boxes: store
      .boxes(img.id)
      .map((b) => [classes.findIndex((c) => c.name === names.get(b.classId)), b.x, b.y, b.w, b.h])
      .sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!),
  }));
  images.sort((a, b) => a.name.localeCompare(b.name));
  return { classes: classes.map((c) => c.name), images };
}

function expectSameBoxes(a: Snapshot, b: Snapshot): void {
  expect(b.classes).toEqual(a.classes);
  expect(b.images.map(({ boxes: _, ...rest }) => rest)).toEqual(a.images.map(({ boxes: _, ...rest }) => rest));
  a.images.forEach((img, i) => {
    const other = b.images[i]!.boxes;
    expect(other).toHaveLength(img.boxes.length);
    img.boxes.forEach((box, j) => {
      expect(other[j]![0]).toBe(box[0]);
      for (let k = 1; k < 5; k++) {
        const want = box[k]!;
        expect(Math.abs(other[j]![k]! - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
      }
    });
  });
}

describe('coco8', () => {
  it('imports exactly as Ultralytics reads it', () => {
    const store = LabelStore.create(tmpDir());
    const summary = importDataset(store, { format: 'yolo', source: path.join(COCO8, 'coco8.yaml') });
    expect(summary).toMatchObject({ images: 8, unreadable: [] });
    const info = store.info();
    expect(info.classes).toHaveLength(80);
    expect(info.classes[0]!.name).toBe('person');
    expect(info.splits.sort((a, b) => a.split.localeCompare(b.split))).toEqual([
      { split: 'train', images: 4, boxes: countLines('train') },
      { split: 'val', images: 4, boxes: countLines('val') },
    ]);
    // 000000000009.jpg is 640x480; its first label row, converted to pixels.
    const img = store.page({ filter: { search: '000000000009' } }).items[0]!;
    expect([img.width, img.height, img.split, img.status]).toEqual([640, 480, 'train', 'labeled']);
    const first = fs.readFileSync(path.join(COCO8, 'labels/train/000000000009.txt'), 'utf8').trim().split('\n')[0]!;
    const [cls, cx, cy, w, h] = first.split(/\s+/).map(Number) as [number, number, number, number, number];
    const box = store.boxes(img.id)[0]!;
    expect(store.classes().findIndex((c) => c.id === box.classId)).toBe(cls);
    expect(box.x).toBeCloseTo((cx - w / 2) * 640, 6);
    expect(box.y).toBeCloseTo((cy - h / 2) * 480, 6);
    expect(box.w).toBeCloseTo(w * 640, 6);
    expect(box.h).toBeCloseTo(h * 480, 6);
    // Paths are stored relative to the project root.
    expect(path.isAbsolute(img.path)).toBe(false);
    expect(fs.existsSync(store.absolutePath(img.path))).toBe(true);
    store.close();
  });

  for (const format of ['yolo', 'coco', 'voc'] as ExportFormat[]) {
    it(`round-trips through ${format}: same images, classes, splits and boxes`, () => {
      const work = tmpDir();
      const a = LabelStore.create(path.join(work, 'a'));
      importDataset(a, { format: 'yolo', source: path.join(COCO8, 'coco8.yaml') });
      const out = path.join(work, 'out');
      exportDataset(a, { format, dir: out, images: 'copy' });
      const b = LabelStore.create(path.join(work, 'b'));
      const source = format === 'yolo' ? path.join(out, 'data.yaml') : out;
      importDataset(b, { format, source });
      const before = snapshot(a);
      const after = snapshot(b);
      expectSameBoxes(before, after);
      a.close();
      b.close();
    });
  }
});

describe('rice-pest', () => {
  it('imports all 530 images with the counts its README gives', () => {
    const counts = JSON.parse(fs.readFileSync(path.join(RICE, 'counts.json'), 'utf8')) as {
      splits: Record<'train' | 'val', { images: number; instances: number; per_class: Record<string, number> }>;
    };
    const store = LabelStore.create(tmpDir());
    const summary = importDataset(store, { format: 'yolo', source: path.join(RICE, 'data.yaml') });
    expect(summary.images).toBe(530);
    expect(summary.unreadable).toEqual([]);
    const info = store.info();
    expect(info.classes).toHaveLength(7);
    for (const split of ['train', 'val'] as const) {
      const want = counts.splits[split];
      expect(info.splits.find((s) => s.split === split)).toEqual({ split, images: want.images, boxes: want.instances });
      for (const c of info.classes) expect(info.perClassSplit[c.id]?.[split]).toBe(want.per_class[c.name]);
    }
    // The 23 polygon rows the README mentions were already converted to boxes upstream.
    expect(summary.warnings.filter((w) => /polygon/i.test(w))).toEqual([]);
    store.close();
  });
});

function countLines(split: string): number {
  const dir = path.join(COCO8, 'labels', split);
  return fs
    .readdirSync(dir)
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l.trim()).length)
    .reduce((a, b) => a + b, 0);
}
