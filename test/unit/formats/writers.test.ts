import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readCocoDataset, writeCocoDataset } from '../../../src/main/formats/coco';
import { readDataset, writeDataset } from '../../../src/main/formats/index';
import type { ExportDataset, ExportImage, ParsedDataset } from '../../../src/main/formats/types';
import { readVocDataset, writeVocDataset } from '../../../src/main/formats/voc';
import { formatNormalized, readYoloDataset, writeYoloDataset } from '../../../src/main/formats/yolo';
import { at, writeExportFixture } from '../../helpers/formats-fixtures';
import { tmpDir } from '../../helpers/tmp';

let tmp: string;
let ds: ExportDataset;
beforeEach(async () => {
  tmp = tmpDir('boxtune-formats-');
  ds = await writeExportFixture(tmp);
});

/** |a - b| within 1e-6 relative (to the larger magnitude, at least 1 px). */
function expectClose(a: number, b: number, what: string): void {
  const tol = 1e-6 * Math.max(Math.abs(a), Math.abs(b), 1);
  if (!(Math.abs(a - b) <= tol)) throw new Error(`${what}: ${a} vs ${b}`);
}

/**
 * Compares what a reader gave back with the exported images: same images (matched through the
 * output names), splits, classes by name and pixel boxes within 1e-6 relative.
 */
function expectRoundTrip(
  exported: ExportImage[],
  classes: string[],
  read: ParsedDataset,
  pathOf: (img: ExportImage) => string,
  opts: { splitOf?: (img: ExportImage) => string; labeledOf?: (img: ExportImage) => boolean } = {},
): void {
  expect(read.problems).toEqual([]);
  expect(read.images.map((i) => i.absPath).sort()).toEqual(exported.map(pathOf).sort());
  for (const img of exported) {
    const got = read.images.find((i) => i.absPath === pathOf(img))!;
    expect(got.split).toBe(opts.splitOf?.(img) ?? img.split);
    expect(got.labeled).toBe(opts.labeledOf?.(img) ?? img.labeled);
    expect(got.boxes).toHaveLength(img.boxes.length);
    img.boxes.forEach((b, k) => {
      const g = got.boxes[k]!;
      expect(read.classes[g.classIndex]).toBe(classes[b.classIndex]);
      const [sx, sy] = g.normalized ? [img.width, img.height] : [1, 1];
      const what = `${img.relPath} box ${k}`;
      expectClose(g.x * sx, b.x, `${what} x`);
      expectClose(g.y * sy, b.y, `${what} y`);
      expectClose(g.w * sx, b.w, `${what} w`);
      expectClose(g.h * sy, b.h, `${what} h`);
    });
  }
}

const sameInode = (a: string, b: string): boolean => fs.statSync(a).ino === fs.statSync(b).ino;

describe('writeYoloDataset', () => {
  it('writes data.yaml, images and labels that read back the same (round trip)', () => {
    const out = at(tmp, 'out');
    const { files } = writeYoloDataset(ds, out, { images: 'copy' });
    expect(files.sort()).toEqual(
      [
        'data.yaml',
        'images/train/a__img.png',
        'images/train/b__img.png',
        'images/train/bg.png',
        'images/train/un.png',
        'images/val/val1.png',
        'images/test/test1.png',
        'labels/train/a__img.txt',
        'labels/train/b__img.txt',
        'labels/train/bg.txt',
        'labels/val/val1.txt',
        'labels/test/test1.txt',
      ].sort(),
    );
    expect(fs.readFileSync(at(out, 'data.yaml'), 'utf8')).toBe(
      [
        '# Ultralytics YOLO dataset exported by boxtune',
        `path: ${out}`,
        'train: images/train',
        'val: images/val',
        'test: images/test',
        'nc: 3',
        'names:',
        '  0: cat',
        '  1: "dog & co"',
        '  2: "yes"',
        '',
      ].join('\n'),
    );
    expect(fs.readFileSync(at(out, 'labels/train/bg.txt'), 'utf8')).toBe('');
    expect(fs.readFileSync(at(out, 'labels/val/val1.txt'), 'utf8')).toBe('1 0.5 0.571428571429 0.6 0.571428571429\n');
    expect(sameInode(at(out, 'images/train/bg.png'), ds.images[2]!.absPath)).toBe(false);

    const read = readYoloDataset(at(out, 'data.yaml'));
    expect(read.classes).toEqual(ds.classes);
    const exported = ds.images.filter((i) => i.split !== 'none');
    const names: Record<string, string> = { 'a/img.png': 'a__img.png', 'b/img.png': 'b__img.png' };
    expectRoundTrip(exported, ds.classes, read, (img) => at(out, `images/${img.split}/${names[img.relPath] ?? path.basename(img.relPath)}`));
  });

  it("hard-links images in 'link' mode", () => {
    const out = at(tmp, 'out');
    writeYoloDataset(ds, out, { images: 'link' });
    expect(sameInode(at(out, 'images/val/val1.png'), ds.images[4]!.absPath)).toBe(true);
  });

  it('never overwrites an existing file', () => {
    const out = at(tmp, 'out');
    fs.mkdirSync(at(out, 'images/val'), { recursive: true });
    fs.writeFileSync(at(out, 'images/val/val1.png'), 'mine');
    expect(() => writeYoloDataset(ds, out, { images: 'copy' })).toThrow(expect.objectContaining({ code: 'EXPORT_FAILED' }));
    expect(fs.readFileSync(at(out, 'images/val/val1.png'), 'utf8')).toBe('mine');
  });

  it('formats normalised numbers without exponents or trailing zeros', () => {
    expect(formatNormalized(0.5)).toBe('0.5');
    expect(formatNormalized(0)).toBe('0');
    expect(formatNormalized(-0)).toBe('0');
    expect(formatNormalized(1 / 3)).toBe('0.333333333333');
    expect(formatNormalized(1.234e-7)).toBe('0.0000001234');
    expect(formatNormalized(3e-9)).toBe('0.000000003');
    expect(formatNormalized(1)).toBe('1');
  });

  it('reports progress and honours cancellation', () => {
    const calls: [string, number, number][] = [];
    writeYoloDataset(ds, at(tmp, 'out'), { images: 'copy', onProgress: (p, d, t) => calls.push([p, d, t]) });
    expect(calls).toEqual([
      ['writing', 0, 6],
      ['writing', 6, 6],
    ]);
    expect(() => writeYoloDataset(ds, at(tmp, 'out2'), { images: 'copy', isCancelled: () => true })).toThrow(
      expect.objectContaining({ code: 'JOB_CANCELLED', message: 'export cancelled' }),
    );
  });
});

describe('writeCocoDataset', () => {
  it('writes one json per split with 1-based category ids; reading the folder gives the same dataset', () => {
    const out = at(tmp, 'out');
    const { files } = writeCocoDataset(ds, out, { images: 'copy' });
    expect(files.filter((f) => f.endsWith('.json')).sort()).toEqual([
      'annotations/instances_test.json',
      'annotations/instances_train.json',
      'annotations/instances_val.json',
    ]);
    const train = JSON.parse(fs.readFileSync(at(out, 'annotations/instances_train.json'), 'utf8'));
    expect(train.categories).toEqual([
      { id: 1, name: 'cat', supercategory: 'none' },
      { id: 2, name: 'dog & co', supercategory: 'none' },
      { id: 3, name: 'yes', supercategory: 'none' },
    ]);
    expect(train.images.map((i: { file_name: string }) => i.file_name)).toEqual(['a__img.png', 'b__img.png', 'bg.png', 'un.png']);
    expect(train.annotations[1]).toEqual({
      id: 2,
      image_id: 1,
      category_id: 3,
      bbox: [0, 0, 64, 48],
      area: 3072,
      iscrowd: 1,
      segmentation: [],
    });
    expect(train.annotations[0].bbox).toEqual([3.25, 4.5, 20.125, 10.333333333333334]);

    const read = readCocoDataset(out);
    expect(read.classes).toEqual(ds.classes);
    const exported = ds.images.filter((i) => i.split !== 'none');
    const names: Record<string, string> = { 'a/img.png': 'a__img.png', 'b/img.png': 'b__img.png' };
    expectRoundTrip(exported, ds.classes, read, (img) => at(out, `images/${img.split}/${names[img.relPath] ?? path.basename(img.relPath)}`), {
      labeledOf: () => true, // COCO has no "not labeled yet"
    });
    // COCO keeps pixels exactly, and iscrowd.
    const a = read.images.find((i) => i.absPath.endsWith('a__img.png'))!;
    expect(a.boxes[0]).toMatchObject({ x: 3.25, y: 4.5, w: 20.125, h: 10.333333333333334 });
    expect(a.boxes[1]!.attrs).toEqual({ iscrowd: 1 });
    expect(a.boxes[0]!.attrs).toBeUndefined();
  });
});

describe('writeVocDataset', () => {
  it('writes Annotations, JPEGImages, ImageSets and labels.txt that read back the same', () => {
    const out = at(tmp, 'out');
    const { files } = writeVocDataset(ds, out, { images: 'link' });
    expect(files.sort()).toEqual(
      [
        'Annotations/a__img.xml',
        'Annotations/b__img.xml',
        'Annotations/bg.xml',
        'Annotations/val1.xml',
        'Annotations/test1.xml',
        'Annotations/none.xml',
        'JPEGImages/a__img.png',
        'JPEGImages/b__img.png',
        'JPEGImages/bg.png',
        'JPEGImages/un.png',
        'JPEGImages/val1.png',
        'JPEGImages/test1.png',
        'JPEGImages/none.png',
        'ImageSets/Main/train.txt',
        'ImageSets/Main/val.txt',
        'ImageSets/Main/test.txt',
        'labels.txt',
      ].sort(),
    );
    expect(fs.readFileSync(at(out, 'ImageSets/Main/train.txt'), 'utf8')).toBe('a__img\nb__img\nbg\nun\n');
    const xml = fs.readFileSync(at(out, 'Annotations/val1.xml'), 'utf8');
    expect(xml).toContain('<name>dog &amp; co</name>');
    expect(xml).toContain('<bndbox><xmin>11</xmin><ymin>21</ymin><xmax>41</xmax><ymax>61</ymax></bndbox>');

    const read = readVocDataset(out);
    expect(read.classes).toEqual(ds.classes);
    const names: Record<string, string> = { 'a/img.png': 'a__img.png', 'b/img.png': 'b__img.png' };
    expectRoundTrip(ds.images, ds.classes, read, (img) => at(out, `JPEGImages/${names[img.relPath] ?? path.basename(img.relPath)}`));
    const a = read.images.find((i) => i.absPath.endsWith('a__img.png'))!;
    expect(a.boxes[1]!.attrs).toEqual({ difficult: 1, truncated: 1 });
    expect(a.boxes[0]!.attrs).toBeUndefined();
  });
});

describe('readDataset / writeDataset', () => {
  it('dispatch on the format', () => {
    for (const format of ['yolo', 'coco', 'voc'] as const) {
      const out = at(tmp, `out-${format}`);
      writeDataset(format, ds, out, { images: 'copy' });
      const source = format === 'yolo' ? at(out, 'data.yaml') : out;
      const read = readDataset({ format, source });
      expect(read.problems).toEqual([]);
      expect(read.classes).toEqual(ds.classes);
    }
    expect(readDataset({ format: 'folder', source: at(tmp, 'project') }).images).toHaveLength(7);
  });
});
