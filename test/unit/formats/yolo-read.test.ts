import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/shared/errors';
import { labelPathFor, readYoloDataset } from '../../../src/main/formats/yolo';
import { at, writeTree, writeYoloFixture } from '../../helpers/formats-fixtures';
import { tmpDir } from '../../helpers/tmp';

let tmp: string;
beforeEach(() => {
  tmp = tmpDir('boxtune-formats-');
});

const box = (classIndex: number, x: number, y: number, w: number, h: number) =>
  expect.objectContaining({ classIndex, x: expect.closeTo(x, 12), y: expect.closeTo(y, 12), w: expect.closeTo(w, 12), h: expect.closeTo(h, 12), normalized: true });

/** Writes a dataset whose single train image has `label` as its label file; returns the result. */
async function readWithLabel(label: string, names = '[cat, dog, bird]') {
  await writeTree(tmp, {
    'data.yaml': `train: images\nnames: ${names}\n`,
    'images/x.jpg': { image: [8, 8] },
    'labels/x.txt': label,
  });
  return { ds: readYoloDataset(at(tmp, 'data.yaml')), labelFile: at(tmp, 'labels/x.txt') };
}

describe('readYoloDataset: valid datasets', () => {
  it('reads splits, classes and boxes (top-left, normalised)', async () => {
    const yamlPath = await writeYoloFixture(tmp);
    const ds = readYoloDataset(yamlPath);
    const root = path.dirname(yamlPath);
    expect(ds.problems).toEqual([]);
    expect(ds.warnings).toEqual([]);
    expect(ds.classes).toEqual(['cat', 'dog', 'bird']);
    expect(ds.images.map((i) => [path.relative(root, i.absPath), i.split, i.labeled])).toEqual([
      ['images/train/a.jpg', 'train', true],
      ['images/train/b.png', 'train', true],
      ['images/val/c.jpg', 'val', true],
      ['images/val/d.jpg', 'val', false],
    ]);
    expect(ds.images[0]!.boxes).toEqual([box(0, 0.375, 0.25, 0.25, 0.5), box(2, 0.2, 0.65, 0.1, 0.2)]);
    expect(ds.images[1]!.boxes).toEqual([]); // empty label file: background image
    expect(ds.images[2]!.boxes).toEqual([box(1, 0, 0, 1, 1)]); // CRLF line endings
    expect(ds.images[3]!.boxes).toEqual([]); // no label file: unlabeled
  });

  it('accepts names as an {id: name} map (any key order) and a matching nc', async () => {
    const yamlPath = await writeYoloFixture(tmp, 'train: images/train\nval: images/val\nnc: 3\nnames:\n  2: bird\n  0: cat\n  1: dog\n');
    const ds = readYoloDataset(yamlPath);
    expect(ds.problems).toEqual([]);
    expect(ds.classes).toEqual(['cat', 'dog', 'bird']);
  });

  it('treats a null split key (coco8\'s "test:") as absent', async () => {
    const yamlPath = await writeYoloFixture(tmp, 'path: .\ntrain: images/train\nval: images/val\ntest:\nnames: [cat, dog, bird]\n');
    const ds = readYoloDataset(yamlPath);
    expect(ds.problems).toEqual([]);
    expect(ds.images).toHaveLength(4);
  });

  it('reads train as a .txt list (./ relative to the list, others to the root) and val as a list of folders', async () => {
    await writeTree(tmp, {
      'ds/data.yaml': 'path: .\ntrain: lists/train.txt\nval: [images/v1, images/v2]\nnames: [a]\n',
      'ds/lists/train.txt': './imgs/one.jpg\nimages/two.jpg\n\n' + `${at(tmp, 'ds/images/three.jpg')}\nnotes.md\n`,
      'ds/lists/imgs/one.jpg': { image: [8, 8] },
      'ds/images/two.jpg': { image: [8, 8] },
      'ds/images/three.jpg': { image: [8, 8] },
      'ds/images/v1/x.jpg': { image: [8, 8] },
      'ds/images/v2/sub/y.JPG': { image: [8, 8] },
      'ds/images/v2/readme.txt': 'not an image',
      'ds/labels/two.txt': '0 0.5 0.5 0.5 0.5\n',
      'ds/labels/v2/sub/y.txt': '0 0.5 0.5 0.2 0.2\n',
    });
    const ds = readYoloDataset(at(tmp, 'ds/data.yaml'));
    expect(ds.problems).toEqual([]);
    const rel = (p: string) => path.relative(at(tmp, 'ds'), p);
    expect(ds.images.map((i) => [rel(i.absPath), i.split])).toEqual([
      ['images/three.jpg', 'train'],
      ['images/two.jpg', 'train'],
      ['lists/imgs/one.jpg', 'train'],
      ['images/v1/x.jpg', 'val'],
      ['images/v2/sub/y.JPG', 'val'],
    ]);
    expect(ds.images.find((i) => i.absPath.endsWith('two.jpg'))!.boxes).toEqual([box(0, 0.25, 0.25, 0.5, 0.5)]);
    expect(ds.images.find((i) => i.absPath.endsWith('y.JPG'))!.boxes).toHaveLength(1);
    expect(ds.warnings.join('\n')).toMatch(/1 line\(s\) of \.txt image lists are not image paths/);
  });

  it('resolves a relative path against the yaml folder, else the working directory; absent path = yaml folder', async () => {
    await writeTree(tmp, {
      'cfg/data.yaml': 'path: ../data\ntrain: images\nnames: [a]\n',
      'data/images/x.jpg': { image: [8, 8] },
    });
    expect(readYoloDataset(at(tmp, 'cfg/data.yaml')).images.map((i) => i.absPath)).toEqual([at(tmp, 'data/images/x.jpg')]);

    // Relative to the working directory, because the yaml-relative folder does not exist.
    const relFromCwd = path.relative(process.cwd(), at(tmp, 'data'));
    await writeTree(tmp, { 'cfg2/deeper/data.yaml': `path: ${relFromCwd}\ntrain: images\nnames: [a]\n` });
    expect(fs.existsSync(path.resolve(at(tmp, 'cfg2/deeper'), relFromCwd))).toBe(false);
    expect(readYoloDataset(at(tmp, 'cfg2/deeper/data.yaml')).images.map((i) => i.absPath)).toEqual([at(tmp, 'data/images/x.jpg')]);

    await writeTree(tmp, { 'data/data.yaml': 'train: images\nnames: [a]\n' });
    expect(readYoloDataset(at(tmp, 'data/data.yaml')).images).toHaveLength(1);
  });

  it('accepts a single image file as a split', async () => {
    await writeTree(tmp, { 'data.yaml': 'train: images/x.png\nnames: [a]\n', 'images/x.png': { image: [8, 8] } });
    const ds = readYoloDataset(at(tmp, 'data.yaml'));
    expect(ds.problems).toEqual([]);
    expect(ds.images.map((i) => i.absPath)).toEqual([at(tmp, 'images/x.png')]);
  });

  it('keeps an image listed in two splits in the first, with a warning', async () => {
    await writeTree(tmp, { 'data.yaml': 'train: images\nval: images\nnames: [a]\n', 'images/x.jpg': { image: [8, 8] } });
    const ds = readYoloDataset(at(tmp, 'data.yaml'));
    expect(ds.images.map((i) => i.split)).toEqual(['train']);
    expect(ds.warnings.join('\n')).toMatch(/1 image\(s\) listed more than once .* in train and val/);
  });

  it('skips hidden files and folders when listing', async () => {
    await writeTree(tmp, {
      'data.yaml': 'train: images\nnames: [a]\n',
      'images/x.jpg': { image: [8, 8] },
      'images/.hidden.jpg': { image: [8, 8] },
      'images/.cache/y.jpg': { image: [8, 8] },
    });
    expect(readYoloDataset(at(tmp, 'data.yaml')).images).toHaveLength(1);
  });

  it('finds labels by replacing the last /images/ segment (a folder named images deeper in the path)', async () => {
    await writeTree(tmp, {
      'images/ds/data.yaml': 'train: images/train\nnames: [a]\n',
      'images/ds/images/train/images/x.jpg': { image: [8, 8] },
      'images/ds/images/train/labels/x.txt': '0 0.5 0.5 0.5 0.5\n', // the right one: last /images/ replaced
      'images/ds/labels/train/images/x.txt': '0 0.5 0.5 1 1\n', // what replacing the first would find
    });
    const ds = readYoloDataset(at(tmp, 'images/ds/data.yaml'));
    expect(ds.images[0]!.boxes).toEqual([box(0, 0.25, 0.25, 0.5, 0.5)]);
    expect(labelPathFor('/d/images/a/images/b.c.jpg')).toBe('/d/images/a/labels/b.c.txt');
    expect(labelPathFor('/d/pics/b.jpg')).toBe('/d/pics/b.txt');
  });

  it('converts polygon rows to their bounding box, with one summary warning', async () => {
    const { ds } = await readWithLabel('1 0.1 0.2 0.5 0.1 0.4 0.6\n0 0.5 0.5 0.2 0.2\n2 -0.0005 0.3 1.0005 0.3 0.5 0.9 0.2 0.8\n');
    expect(ds.problems).toEqual([]);
    expect(ds.images[0]!.boxes).toEqual([box(1, 0.1, 0.1, 0.4, 0.5), box(0, 0.4, 0.4, 0.2, 0.2), box(2, 0, 0.3, 1, 0.6)]);
    expect(ds.warnings).toEqual(['2 polygon (segmentation) row(s) in 1 label file(s) were converted to their bounding boxes']);
  });

  it('keeps exact duplicate rows with a warning; skips blank lines; accepts 3.0 as a class id', async () => {
    const { ds, labelFile } = await readWithLabel('0 0.5 0.5 0.2 0.2\n\n   \n2.0 0.5 0.5 0.1 0.1\n0 0.5 0.5 0.2 0.2\n');
    expect(ds.problems).toEqual([]);
    expect(ds.images[0]!.boxes.map((b) => b.classIndex)).toEqual([0, 2, 0]);
    expect(ds.warnings).toEqual([`1 label row(s) repeat an earlier row of the same file exactly (first at ${labelFile}:5); they were kept`]);
  });

  it('clamps boxes within the tolerance into 0..1', async () => {
    const { ds } = await readWithLabel('0 0.5 0.5 1.0008 0.5\n0 0.9 0.1 0.4 0.4\n');
    expect(ds.problems).toEqual([]);
    expect(ds.images[0]!.boxes).toEqual([box(0, 0, 0.25, 1, 0.5), box(0, 0.7, 0, 0.3, 0.3)]);
  });

  it('treats a whitespace-only label file as a background image', async () => {
    const { ds } = await readWithLabel('  \n\n');
    expect(ds.images[0]).toMatchObject({ labeled: true, boxes: [] });
  });
});

describe('readYoloDataset: malformed labels (every problem reported)', () => {
  it('reports a wrong column count on each bad line', async () => {
    const { ds, labelFile } = await readWithLabel('0 0.5 0.5 0.2\n0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2 0.9\n1\n0 0.1 0.1 0.2 0.2 0.3 0.3 0.4\n');
    expect(ds.problems).toEqual([
      { file: labelFile, line: 1, message: 'expected 5 columns (class x_center y_center width height), found 4' },
      expect.objectContaining({ file: labelFile, line: 3, message: expect.stringContaining('expected 5 columns (class x_center y_center width height), found 6') }),
      { file: labelFile, line: 4, message: 'expected 5 columns (class x_center y_center width height), found 1' },
      expect.objectContaining({ file: labelFile, line: 5, message: expect.stringContaining('found 8; a polygon row needs') }),
    ]);
  });

  it('reports non-numbers naming the column and quoting the token', async () => {
    const { ds, labelFile } = await readWithLabel('0 0.5 abc 0.2 0.2\ncat 0.5 0.5 0.2 0.2\n0 0.5 0.5 nan 1e\n');
    expect(ds.problems).toEqual([
      { file: labelFile, line: 1, field: 'column 3', message: "'abc' is not a number (expected y_center)" },
      { file: labelFile, line: 2, field: 'column 1', message: "'cat' is not a number (expected a class id)" },
      { file: labelFile, line: 3, field: 'column 4', message: "'nan' is not a number (expected width)" },
      { file: labelFile, line: 3, field: 'column 5', message: "'1e' is not a number (expected height)" },
    ]);
  });

  it('reports class ids out of range or not integers', async () => {
    const { ds, labelFile } = await readWithLabel('7 0.5 0.5 0.2 0.2\n-1 0.5 0.5 0.2 0.2\n1.5 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.2 0.2\n');
    expect(ds.problems).toEqual([
      { file: labelFile, line: 1, field: 'column 1', message: 'class id 7 out of range 0..2 (names has 3 entries)' },
      { file: labelFile, line: 2, field: 'column 1', message: 'class id -1 out of range 0..2 (names has 3 entries)' },
      { file: labelFile, line: 3, field: 'column 1', message: "class id '1.5' is not an integer" },
      { file: labelFile, line: 4, field: 'column 1', message: 'class id 3 out of range 0..2 (names has 3 entries)' },
    ]);
  });

  it('reports coordinates outside 0..1 beyond the tolerance, and non-positive sizes', async () => {
    const { ds, labelFile } = await readWithLabel('0 1.2 0.5 0.2 0.2\n0 0.5 -0.002 0.2 0.2\n0 0.5 0.5 0 0.2\n0 0.5 0.5 0.2 -0.1\n0 0.5 0.5 0.2 1.0009\n1 1.1 0.1 0.5 0.1 0.2 0.2\n');
    expect(ds.problems).toEqual([
      { file: labelFile, line: 1, field: 'column 2', message: 'x_center 1.2 is outside 0..1 (coordinates must be normalised by the image size)' },
      { file: labelFile, line: 2, field: 'column 3', message: 'y_center -0.002 is outside 0..1 (coordinates must be normalised by the image size)' },
      { file: labelFile, line: 3, field: 'column 4', message: 'width 0 must be > 0' },
      { file: labelFile, line: 4, field: 'column 5', message: 'height -0.1 is outside 0..1 (coordinates must be normalised by the image size)' },
      { file: labelFile, line: 4, field: 'column 5', message: 'height -0.1 must be > 0' },
      { file: labelFile, line: 6, field: 'column 2', message: 'x1 1.1 is outside 0..1 (coordinates must be normalised by the image size)' },
    ]);
  });

  it('collects problems across several files', async () => {
    await writeTree(tmp, {
      'data.yaml': 'train: images\nnames: [a]\n',
      'images/x.jpg': { image: [8, 8] },
      'images/y.jpg': { image: [8, 8] },
      'labels/x.txt': '1 0.5 0.5 0.2 0.2\n',
      'labels/y.txt': '0 0.5 0.5\n0 0.5 0.5 0.5 0.5\n0 2 0.5 0.5 0.5\n',
    });
    const ds = readYoloDataset(at(tmp, 'data.yaml'));
    expect(ds.problems.map((p) => [path.basename(p.file), p.line])).toEqual([
      ['x.txt', 1],
      ['y.txt', 1],
      ['y.txt', 3],
    ]);
  });
});

describe('readYoloDataset: malformed yaml', () => {
  it('throws FILE_NOT_FOUND for a missing yaml', () => {
    expect(() => readYoloDataset(at(tmp, 'nope.yaml'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });

  it('throws IMPORT_INVALID with the line for a yaml syntax error', async () => {
    await writeTree(tmp, { 'data.yaml': 'train: images\nnames: [a, b\nval: x\n' });
    let err: unknown;
    try {
      readYoloDataset(at(tmp, 'data.yaml'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    const e = err as AppError;
    expect(e.code).toBe('IMPORT_INVALID');
    const problems = (e.details as { problems: { file: string; line: number; message: string }[] }).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]!.file).toBe(at(tmp, 'data.yaml'));
    expect(problems[0]!.line).toBeGreaterThanOrEqual(2);
    expect(problems[0]!.message).toMatch(/^invalid YAML: /);
  });

  it('throws IMPORT_INVALID when the yaml is not a mapping', async () => {
    await writeTree(tmp, { 'data.yaml': '- a\n- b\n' });
    expect(() => readYoloDataset(at(tmp, 'data.yaml'))).toThrow(expect.objectContaining({ code: 'IMPORT_INVALID' }));
  });

  it('reports missing split folders and files naming the key, and all other yaml problems', async () => {
    await writeTree(tmp, {
      'data.yaml': 'path: .\ntrain: images/train\nval: [images/val, lists/val.txt]\nnc: 4\nnames: [a, b, a]\n',
      'images/train/x.jpg': { image: [8, 8] },
    });
    const file = at(tmp, 'data.yaml');
    const ds = readYoloDataset(file);
    expect(ds.problems).toEqual([
      { file, line: 5, field: 'names[2]', message: "duplicate class name 'a' (also id 0)" },
      { file, line: 4, field: 'nc', message: 'nc is 4 but names has 3 entries (nc must equal the number of names)' },
      { file, line: 3, field: 'val', message: `val folder or file not found: ${at(tmp, 'images/val')}` },
      { file, line: 3, field: 'val', message: `val folder or file not found: ${at(tmp, 'lists/val.txt')}` },
    ]);
  });

  it('reports missing names and missing splits', async () => {
    await writeTree(tmp, { 'data.yaml': 'path: .\nnc: 2\n' });
    const file = at(tmp, 'data.yaml');
    expect(readYoloDataset(file).problems).toEqual([
      { file, field: 'names', message: "missing 'names': list the class names, as a list or as a map from id (0, 1, ...) to name" },
      expect.objectContaining({ file, field: 'train', message: expect.stringContaining('at least one of train, val or test') }),
    ]);
  });

  it('reports a names map whose ids are not 0..n-1', async () => {
    await writeTree(tmp, { 'data.yaml': 'train: images\nnames:\n  0: a\n  2: b\n', 'images/x.jpg': { image: [8, 8] } });
    const file = at(tmp, 'data.yaml');
    expect(readYoloDataset(file).problems).toEqual([
      { file, line: 2, field: 'names', message: 'class ids must be the integers 0..1, found 0, 2' },
    ]);
  });

  it('reports names of the wrong type', async () => {
    await writeTree(tmp, { 'data.yaml': 'train: images\nnames: cat\n', 'images/x.jpg': { image: [8, 8] } });
    const file = at(tmp, 'data.yaml');
    expect(readYoloDataset(file).problems).toEqual([
      { file, line: 2, field: 'names', message: '\'names\' must be a list or a map from id to name, found "cat"' },
    ]);
  });
});

describe('readYoloDataset: progress and cancellation', () => {
  it('reports progress and stops with JOB_CANCELLED', async () => {
    const files: Record<string, string> = { 'data.yaml': 'train: images\nnames: [a]\n' };
    for (let i = 0; i < 1200; i++) files[`images/${String(i).padStart(4, '0')}.jpg`] = 'x';
    await writeTree(tmp, files);
    const calls: [string, number, number][] = [];
    readYoloDataset(at(tmp, 'data.yaml'), { onProgress: (p, d, t) => calls.push([p, d, t]) });
    expect(calls).toEqual([
      ['reading labels', 0, 1200],
      ['reading labels', 500, 1200],
      ['reading labels', 1000, 1200],
      ['reading labels', 1200, 1200],
    ]);
    let checks = 0;
    expect(() => readYoloDataset(at(tmp, 'data.yaml'), { isCancelled: () => ++checks > 1 })).toThrow(
      expect.objectContaining({ code: 'JOB_CANCELLED', message: 'import cancelled' }),
    );
  });
});
