import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/shared/errors';
import { guessSplit, readCocoDataset } from '../../../src/main/formats/coco';
import { at, cocoDoc, cocoLines, cocoText, writeTree } from '../../helpers/formats-fixtures';
import { tmpDir } from '../../helpers/tmp';

let tmp: string;
beforeEach(() => {
  tmp = tmpDir('boxtune-formats-');
});

const px = (classIndex: number, x: number, y: number, w: number, h: number, attrs?: object) => ({
  classIndex,
  x,
  y,
  w,
  h,
  normalized: false,
  ...(attrs ? { attrs } : {}),
});

async function writeCoco(doc: ReturnType<typeof cocoDoc>, rel = 'ann/instances_train2017.json'): Promise<string> {
  await writeTree(tmp, { [rel]: cocoText(doc) });
  return at(tmp, rel);
}

describe('readCocoDataset: valid files', () => {
  it('maps gapped category ids to classes sorted by id and keeps pixel boxes and iscrowd', async () => {
    const file = await writeCoco(cocoDoc());
    await writeTree(tmp, { 'ann/a.png': { image: [64, 48] }, 'ann/b.png': { image: [32, 32] } });
    const ds = readCocoDataset(file);
    expect(ds.problems).toEqual([]);
    expect(ds.classes).toEqual(['cat', 'dog', 'bird']); // ids 1, 3, 7
    expect(ds.images).toEqual([
      {
        absPath: at(tmp, 'ann/a.png'),
        split: 'train',
        labeled: true,
        declaredSize: { width: 64, height: 48 },
        boxes: [px(1, 4, 6, 20, 10), px(2, 0, 0, 64, 48, { iscrowd: 1 })],
      },
      {
        absPath: at(tmp, 'ann/b.png'),
        split: 'train',
        labeled: true,
        declaredSize: { width: 32, height: 32 },
        boxes: [px(0, 1.5, 2.25, 10.5, 3.75)],
      },
    ]);
  });

  it('uses opts.split and opts.imagesDir when given', async () => {
    const file = await writeCoco(cocoDoc(), 'x.json');
    const ds = readCocoDataset(file, { split: 'test', imagesDir: at(tmp, 'pics') });
    expect(ds.images.map((i) => [i.absPath, i.split])).toEqual([
      [at(tmp, 'pics/a.png'), 'test'],
      [at(tmp, 'pics/b.png'), 'test'],
    ]);
  });

  it('finds images under <jsonDir>/images, <jsonDir>/../images/<set> or <jsonDir>/../<set>, else the json folder', async () => {
    const doc = cocoDoc();
    const file = await writeCoco(doc, 'coco/annotations/instances_val2017.json');
    expect(readCocoDataset(file).images[0]!.absPath).toBe(at(tmp, 'coco/annotations/a.png')); // nothing exists

    await writeTree(tmp, { 'coco/val2017/a.png': { image: [64, 48] } });
    expect(readCocoDataset(file).images[0]!.absPath).toBe(at(tmp, 'coco/val2017/a.png'));

    await writeTree(tmp, { 'coco/images/val2017/a.png': { image: [64, 48] } });
    expect(readCocoDataset(file).images[1]!.absPath).toBe(at(tmp, 'coco/images/val2017/b.png'));

    await writeTree(tmp, { 'coco/annotations/images/a.png': { image: [64, 48] } });
    expect(readCocoDataset(file).images[0]!.absPath).toBe(at(tmp, 'coco/annotations/images/a.png'));
  });

  it('guesses the split from the file name, else its folder', () => {
    expect(guessSplit('/d/instances_train2017.json')).toBe('train');
    expect(guessSplit('/d/annotations/instances_val2017.json')).toBe('val');
    expect(guessSplit('/d/test.json')).toBe('test');
    expect(guessSplit('/d/valid/_annotations.coco.json')).toBe('val');
    expect(guessSplit('/d/train/_annotations.coco.json')).toBe('train');
    expect(guessSplit('/d/annotations/labels.json')).toBe('none');
    expect(guessSplit('/d/trainval.json')).toBe('none');
  });

  it('reads a folder of annotations/instances_<split>.json, merging classes by name', async () => {
    const train = cocoDoc();
    const val = {
      images: [{ id: 1, file_name: 'v.png', width: 10, height: 10 }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 2, 2] },
        { id: 2, image_id: 1, category_id: 2, bbox: [2, 2, 3, 3] },
      ],
      categories: [
        { id: 1, name: 'bird' },
        { id: 2, name: 'fish' },
      ],
    };
    await writeTree(tmp, {
      'exp/annotations/instances_train.json': cocoText(train),
      'exp/annotations/instances_val.json': cocoText(val),
      'exp/images/train/a.png': { image: [64, 48] },
      'exp/images/val/v.png': { image: [10, 10] },
    });
    const ds = readCocoDataset(at(tmp, 'exp'));
    expect(ds.problems).toEqual([]);
    expect(ds.classes).toEqual(['cat', 'dog', 'bird', 'fish']);
    expect(ds.images.map((i) => [path.relative(at(tmp, 'exp'), i.absPath), i.split])).toEqual([
      ['images/train/a.png', 'train'],
      ['images/train/b.png', 'train'],
      ['images/val/v.png', 'val'],
    ]);
    expect(ds.images[2]!.boxes.map((b) => b.classIndex)).toEqual([2, 3]);
  });

  it('throws FILE_NOT_FOUND for a missing file or a folder without annotation files', async () => {
    expect(() => readCocoDataset(at(tmp, 'nope.json'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    expect(() => readCocoDataset(tmp)).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });
});

describe('readCocoDataset: malformed input (every problem, with its line)', () => {
  it('throws IMPORT_INVALID with line and column for a JSON syntax error', async () => {
    await writeTree(tmp, { 'bad.json': '{\n  "images": [\n    {"id": 1,}\n  ]\n}\n' });
    let err: unknown;
    try {
      readCocoDataset(at(tmp, 'bad.json'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('IMPORT_INVALID');
    const problems = ((err as AppError).details as { problems: unknown[] }).problems;
    expect(problems).toEqual([
      { file: at(tmp, 'bad.json'), line: 3, field: 'column 14', message: expect.stringMatching(/^invalid JSON: /) },
    ]);
  });

  it('reports annotation problems: unknown category, unknown image, bad bbox, non-positive size, outside the image', async () => {
    const doc = cocoDoc();
    doc.annotations = [
      { id: 1, image_id: 10, category_id: 5, bbox: [1, 1, 2, 2] },
      { id: 2, image_id: 99, category_id: 1, bbox: [1, 1, 2, 2] },
      { id: 3, image_id: 10, category_id: 1, bbox: [1, 1, 2] },
      { id: 4, image_id: 10, category_id: 1, bbox: [1, 1, 'x', 2] },
      { id: 5, image_id: 10, category_id: 1, bbox: [1, 1, 0, -2] },
      { id: 6, image_id: 10, category_id: 1, bbox: [50, 40, 15.5, 8] },
      { id: 7, image_id: 10, category_id: 1, bbox: [-1.5, 0, 5, 5] },
      { id: 8, image_id: 10, category_id: 1, bbox: [-0.5, 40, 5, 8.9] }, // within 1 px: clamped
      { id: 9, image_id: 10, category_id: 1 },
    ];
    const file = await writeCoco(doc);
    const line = cocoLines(doc.images.length, doc.annotations.length);
    const ds = readCocoDataset(file);
    expect(ds.problems).toEqual([
      { file, line: line.annotation(0), field: 'annotations[0].category_id', message: 'unknown category 5 (not an id in categories)' },
      { file, line: line.annotation(1), field: 'annotations[1].image_id', message: 'image_id 99 is not in images' },
      { file, line: line.annotation(2), field: 'annotations[2].bbox', message: 'bbox must be [x, y, width, height] (4 finite numbers in pixels), found [1,1,2]' },
      { file, line: line.annotation(3), field: 'annotations[3].bbox', message: 'bbox must be [x, y, width, height] (4 finite numbers in pixels), found [1,1,"x",2]' },
      { file, line: line.annotation(4), field: 'annotations[4].bbox', message: 'bbox width 0 must be > 0' },
      { file, line: line.annotation(4), field: 'annotations[4].bbox', message: 'bbox height -2 must be > 0' },
      { file, line: line.annotation(5), field: 'annotations[5].bbox', message: 'bbox [50,40,15.5,8] extends outside the 64x48 image by more than 1 px' },
      { file, line: line.annotation(6), field: 'annotations[6].bbox', message: 'bbox [-1.5,0,5,5] extends outside the 64x48 image by more than 1 px' },
      { file, line: line.annotation(8), field: 'annotations[8].bbox', message: 'bbox must be [x, y, width, height] (4 finite numbers in pixels), found nothing' },
    ]);
    expect(ds.images[0]!.boxes).toEqual([px(0, 0, 40, 4.5, 8)]);
  });

  it('reports image problems: missing file_name/width/height, duplicate ids', async () => {
    const doc = cocoDoc();
    doc.images = [
      { id: 10, file_name: 'a.png', width: 64, height: 48 },
      { id: 11, width: 32, height: 0 },
      { id: 10, file_name: 'c.png', width: 8, height: 8 },
      { file_name: 'd.png', width: 8, height: 8 },
    ];
    doc.annotations = [];
    const file = await writeCoco(doc);
    const line = cocoLines(doc.images.length, 0);
    expect(readCocoDataset(file).problems).toEqual([
      { file, line: line.image(1), field: 'images[1].file_name', message: expect.stringContaining("missing file_name (expected the image's path relative to") },
      { file, line: line.image(1), field: 'images[1].height', message: 'missing or invalid height 0 (expected a positive number of pixels)' },
      { file, line: line.image(2), field: 'images[2].id', message: 'duplicate image id 10 (also images[0])' },
      { file, line: line.image(3), field: 'images[3].id', message: 'missing or invalid image id nothing (expected a number)' },
    ]);
  });

  it('reports category problems: duplicate ids and names, missing names', async () => {
    const doc = cocoDoc();
    doc.categories = [
      { id: 1, name: 'cat' },
      { id: 1, name: 'dog' },
      { id: 2, name: 'cat' },
      { id: 3 },
      { id: 7, name: 'bird' },
    ];
    doc.annotations = [];
    const file = await writeCoco(doc);
    const line = cocoLines(doc.images.length, 0);
    const ds = readCocoDataset(file);
    expect(ds.problems).toEqual([
      { file, line: line.category(1), field: 'categories[1].id', message: 'duplicate category id 1 (also categories[0])' },
      { file, line: line.category(2), field: 'categories[2].name', message: "duplicate category name 'cat' (also categories[0])" },
      { file, line: line.category(3), field: 'categories[3].name', message: 'missing category name (expected text), found nothing' },
    ]);
    expect(ds.classes).toEqual(['cat', 'bird']);
  });

  it('reports missing top-level arrays', async () => {
    await writeTree(tmp, { 'x.json': '{"annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]}' });
    const file = at(tmp, 'x.json');
    expect(readCocoDataset(file).problems).toEqual([
      { file, field: 'categories', message: "expected 'categories' to be an array, found nothing" },
      { file, field: 'images', message: "expected 'images' to be an array, found nothing" },
      { file, line: 1, field: 'annotations[0].image_id', message: 'image_id 1 is not in images' },
      { file, line: 1, field: 'annotations[0].category_id', message: 'unknown category 1 (not an id in categories)' },
    ]);
  });

  it('throws IMPORT_INVALID for a json that is not an object', async () => {
    fs.writeFileSync(at(tmp, 'x.json'), '[1, 2]');
    expect(() => readCocoDataset(at(tmp, 'x.json'))).toThrow(expect.objectContaining({ code: 'IMPORT_INVALID' }));
  });
});
