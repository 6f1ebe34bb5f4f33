/**
 * Every malformed input aborts the whole import with the exact problem (file, line, reason) and
 * leaves a real SQLite store exactly as it was, including its earlier data.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError, type Problem } from '../../../src/shared/errors';
import type { ImportRequest } from '../../../src/shared/types';
import { importDataset } from '../../../src/main/dataset/import';
import { LabelStore } from '../../../src/main/store/label-store';
import { tmpDir } from '../../helpers/tmp';
import { writeSynthYolo } from '../../helpers/yolo-synth';

/** A digest of every row of every table: equal digests mean an unchanged store. */
function storeDigest(store: LabelStore): string {
  const hash = createHash('sha1');
  for (const table of ['meta', 'classes', 'images', 'boxes', 'class_counts', 'edits', 'runs', 'predictions']) {
    hash.update(JSON.stringify(store.db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all()));
  }
  return hash.digest('hex');
}

/** A project that already holds a small dataset, so "unchanged" is not trivially "empty". */
async function seededProject(): Promise<{ store: LabelStore; data: string }> {
  const data = tmpDir();
  const store = LabelStore.create(path.join(data, 'project'));
  importDataset(store, { format: 'yolo', source: await writeSynthYolo(path.join(data, 'seed'), { images: 6, boxesPerImage: 2, classes: ['seed'] }) });
  return { store, data };
}

function importProblems(store: LabelStore, req: ImportRequest): Problem[] {
  const before = storeDigest(store);
  let error: unknown;
  try {
    importDataset(store, req);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('IMPORT_INVALID');
  expect((error as AppError).message).toMatch(/nothing was imported/);
  expect(storeDigest(store)).toBe(before);
  return ((error as AppError).details as { problems: Problem[] }).problems;
}

const where = (p: Problem): string => `${path.basename(p.file)}:${p.line ?? '-'}`;

describe('YOLO import errors', () => {
  async function yoloWithLabel(data: string, label: string, names = ['a', 'b', 'c']): Promise<string> {
    const yaml = await writeSynthYolo(path.join(data, 'ds'), { images: 3, boxesPerImage: 1, classes: names });
    fs.writeFileSync(path.join(data, 'ds/labels/train/im1.txt'), label);
    return yaml;
  }

  const cases: [string, string, RegExp][] = [
    ['wrong column count', '0 0.5 0.5 0.2\n', /expected 5 columns .* found 4/],
    ['a non-number', '0 0.5 abc 0.2 0.2\n', /'abc' is not a number/],
    ['a class id out of range', '3 0.5 0.5 0.2 0.2\n', /class id 3 out of range 0\.\.2/],
    ['a fractional class id', '1.5 0.5 0.5 0.2 0.2\n', /not an integer/],
    ['a coordinate outside 0..1', '0 1.2 0.5 0.2 0.2\n', /1\.2 is outside 0\.\.1/],
    ['a zero width', '0 0.5 0.5 0 0.2\n', /must be > 0/],
  ];
  for (const [what, label, message] of cases) {
    it(`rejects ${what} with file:line and an unchanged store`, async () => {
      const { store, data } = await seededProject();
      const problems = importProblems(store, { format: 'yolo', source: await yoloWithLabel(data, label) });
      expect(problems).toHaveLength(1);
      expect(where(problems[0]!)).toBe('im1.txt:1');
      expect(problems[0]!.message).toMatch(message);
      store.close();
    });
  }

  it('lists every problem, not just the first', async () => {
    const { store, data } = await seededProject();
    const label = ['0 0.5 0.5 0.2 0.2', '9 0.5 0.5 0.2 0.2', '0 0.5', '', '0 x 0.5 0.2 0.2', '0 0.5 0.5 0.2 0.2'].join('\n');
    const problems = importProblems(store, { format: 'yolo', source: await yoloWithLabel(data, label) });
    expect(problems.map(where)).toEqual(['im1.txt:2', 'im1.txt:3', 'im1.txt:5']);
    store.close();
  });

  it('accepts a coordinate just past 1 within the tolerance and clips it', async () => {
    const { store, data } = await seededProject();
    const summary = importDataset(store, { format: 'yolo', source: await yoloWithLabel(data, '0 0.9 0.5 0.2 0.2\n0 0.5 0.5 0.2 1.0005\n') });
    expect(summary.images).toBe(3);
    store.close();
  });

  it('rejects names that disagree with nc', async () => {
    const { store, data } = await seededProject();
    const yaml = await yoloWithLabel(data, '0 0.5 0.5 0.2 0.2\n');
    fs.appendFileSync(yaml, 'nc: 5\n');
    const problems = importProblems(store, { format: 'yolo', source: yaml });
    expect(problems[0]).toMatchObject({ field: 'nc' });
    store.close();
  });
});

describe('COCO import errors', () => {
  function cocoJson(data: string, annotations: unknown[]): string {
    const file = path.join(data, 'coco', 'instances_train.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.copyFileSync(path.join(data, 'seed/images/train/im1.png'), path.join(data, 'coco', 'a.png'));
    const doc = {
      images: [{ id: 1, file_name: 'a.png', width: 32, height: 24 }],
      categories: [{ id: 3, name: 'cat' }],
      annotations,
    };
    // One annotation per line, as many tools write it, so line numbers are meaningful.
    const text = JSON.stringify(doc, null, 1);
    fs.writeFileSync(file, text);
    return file;
  }

  it('rejects an unknown category, a bad bbox and an unknown image, each at its line', async () => {
    const { store, data } = await seededProject();
    const file = cocoJson(data, [
      { id: 1, image_id: 1, category_id: 3, bbox: [1, 1, 10, 10] },
      { id: 2, image_id: 1, category_id: 99, bbox: [1, 1, 10, 10] },
      { id: 3, image_id: 1, category_id: 3, bbox: [1, 1, 10] },
      { id: 4, image_id: 42, category_id: 3, bbox: [1, 1, 10, 10] },
    ]);
    const problems = importProblems(store, { format: 'coco', source: file });
    expect(problems).toHaveLength(3);
    const text = fs.readFileSync(file, 'utf8').split('\n');
    for (const [i, p] of problems.entries()) {
      expect(p.file).toBe(file);
      expect(p.field).toMatch(new RegExp(`^annotations\\[${i + 1}\\]`));
      // The reported line is where that annotation's object starts.
      expect(text[p.line! - 1]).toMatch(/{/);
      expect(text.slice(p.line! - 1, p.line! + 3).join('\n')).toContain(`"id": ${i + 2}`);
    }
    expect(problems[0]!.message).toMatch(/unknown category|category_id 99/);
    store.close();
  });

  it('reports a JSON syntax error with its line', async () => {
    const { store, data } = await seededProject();
    const file = path.join(data, 'broken.json');
    fs.writeFileSync(file, '{\n "images": [\n  {"id": 1,}\n ]\n}\n');
    const problems = importProblems(store, { format: 'coco', source: file });
    expect(problems[0]).toMatchObject({ file, line: 3 });
    store.close();
  });
});

describe('VOC import errors', () => {
  it('rejects a box with xmax <= xmin and a missing coordinate, at their lines', async () => {
    const { store, data } = await seededProject();
    const dir = path.join(data, 'voc');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(data, 'seed/images/train/im1.png'), path.join(dir, 'a.png'));
    const xml = [
      '<annotation>',
      '  <filename>a.png</filename>',
      '  <size><width>32</width><height>24</height><depth>3</depth></size>',
      '  <object>',
      '    <name>dog</name>',
      '    <bndbox><xmin>10</xmin><ymin>2</ymin><xmax>5</xmax><ymax>8</ymax></bndbox>',
      '  </object>',
      '  <object>',
      '    <name>dog</name>',
      '    <bndbox><xmin>1</xmin><ymin>2</ymin><ymax>8</ymax></bndbox>',
      '  </object>',
      '</annotation>',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'a.xml'), xml);
    const problems = importProblems(store, { format: 'voc', source: dir });
    expect(problems.map((p) => path.basename(p.file))).toEqual(['a.xml', 'a.xml']);
    expect(problems[0]!.line).toBeGreaterThanOrEqual(4);
    expect(problems[0]!.line).toBeLessThanOrEqual(6);
    expect(problems[0]!.message).toMatch(/xmax/);
    expect(problems[1]!.line).toBeGreaterThanOrEqual(8);
    expect(problems[1]!.message).toMatch(/xmax/);
    store.close();
  });
});

describe('image folder import', () => {
  it('lists unreadable files without failing the import', async () => {
    const { store, data } = await seededProject();
    const dir = path.join(data, 'photos');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.copyFileSync(path.join(data, 'seed/images/train/im1.png'), path.join(dir, 'ok.png'));
    fs.copyFileSync(path.join(data, 'seed/images/train/im2.png'), path.join(dir, 'sub', 'ok2.PNG'));
    fs.writeFileSync(path.join(dir, 'broken.jpg'), 'not an image');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const summary = importDataset(store, { format: 'folder', source: dir });
    expect(summary.images).toBe(2);
    expect(summary.unreadable).toEqual([{ file: path.join(dir, 'broken.jpg'), reason: expect.stringMatching(/not a readable image/) }]);
    const added = store.page({ filter: { search: 'photos/' } }).items;
    expect(added.map((i) => [i.path.split('/').slice(-2).join('/'), i.status, i.split])).toEqual([
      ['photos/ok.png', 'unlabeled', 'none'],
      ['sub/ok2.PNG', 'unlabeled', 'none'],
    ]);
    store.close();
  });

  it('copies images into the project on request, and re-importing skips them', async () => {
    const { store, data } = await seededProject();
    const dir = path.join(data, 'photos');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(data, 'seed/images/train/im1.png'), path.join(dir, 'x.png'));
    const first = importDataset(store, { format: 'folder', source: dir, copy: true });
    expect(first.images).toBe(1);
    const copied = store.page({ filter: { search: 'x.png' } }).items[0]!;
    expect(copied.path).toBe('images/unsplit/x.png');
    expect(fs.existsSync(path.join(store.root, 'images/unsplit/x.png'))).toBe(true);
    const again = importDataset(store, { format: 'folder', source: dir });
    expect(again).toMatchObject({ images: 1, skippedExisting: 0 }); // the original is a different file
    const third = importDataset(store, { format: 'folder', source: dir });
    expect(third).toMatchObject({ images: 0, skippedExisting: 1 });
    store.close();
  });
});
