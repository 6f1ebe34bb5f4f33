import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readVocDataset } from '../../../src/main/formats/voc';
import { at, vocXml, writeTree } from '../../helpers/formats-fixtures';
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

describe('readVocDataset: valid datasets', () => {
  it('reads a VOC root: 1-based conversion, attrs, splits from ImageSets, classes by first appearance', async () => {
    await writeTree(tmp, {
      'VOC/Annotations/002.xml': vocXml('002.jpg', [64, 48], [
        { name: 'dog', box: ['1', '1', '64', '48'], truncated: 1, difficult: 0 },
        { name: 'cat', box: ['10.5', '20', '30', '40.25'], truncated: 0, difficult: 1 },
      ]),
      'VOC/Annotations/001.xml': vocXml('001.jpg', [32, 32], [{ name: 'cat', box: ['2', '3', '12', '13'] }]),
      'VOC/Annotations/003.xml': vocXml('003.jpg', [32, 32], []),
      'VOC/JPEGImages/001.jpg': { image: [32, 32] },
      'VOC/JPEGImages/002.jpg': { image: [64, 48] },
      'VOC/JPEGImages/003.jpg': { image: [32, 32] },
      'VOC/JPEGImages/004.jpg': { image: [32, 32] },
      'VOC/ImageSets/Main/train.txt': '001\n002\n',
      'VOC/ImageSets/Main/val.txt': '003\n',
      'VOC/ImageSets/Main/trainval.txt': '001\n002\n003\n004\n',
      'VOC/ImageSets/Main/cat_train.txt': '001  1\n',
    });
    const ds = readVocDataset(at(tmp, 'VOC'));
    expect(ds.problems).toEqual([]);
    expect(ds.warnings).toEqual([]);
    expect(ds.classes).toEqual(['cat', 'dog']); // 001.xml comes first by file name
    expect(ds.images).toEqual([
      {
        absPath: at(tmp, 'VOC/JPEGImages/001.jpg'),
        split: 'train',
        labeled: true,
        declaredSize: { width: 32, height: 32 },
        boxes: [px(0, 1, 2, 10, 10)],
      },
      {
        absPath: at(tmp, 'VOC/JPEGImages/002.jpg'),
        split: 'train',
        labeled: true,
        declaredSize: { width: 64, height: 48 },
        boxes: [px(1, 0, 0, 63, 47, { truncated: 1 }), px(0, 9.5, 19, 19.5, 20.25, { difficult: 1 })],
      },
      { absPath: at(tmp, 'VOC/JPEGImages/003.jpg'), split: 'val', labeled: true, declaredSize: { width: 32, height: 32 }, boxes: [] },
      { absPath: at(tmp, 'VOC/JPEGImages/004.jpg'), split: 'train', labeled: false, boxes: [] }, // only in trainval
    ]);
  });

  it('accepts the Annotations folder itself', async () => {
    await writeTree(tmp, {
      'VOC/Annotations/001.xml': vocXml('001.jpg', [32, 32], [{ name: 'cat', box: ['2', '3', '12', '13'] }]),
      'VOC/JPEGImages/001.jpg': { image: [32, 32] },
    });
    const ds = readVocDataset(at(tmp, 'VOC/Annotations'));
    expect(ds.images.map((i) => i.absPath)).toEqual([at(tmp, 'VOC/JPEGImages/001.jpg')]);
  });

  it('reads a plain folder of xml next to images; finds the image by stem when filename is missing', async () => {
    await writeTree(tmp, {
      'pics/a.xml': vocXml('a.png', [20, 10], [{ name: 'bolt', box: ['1', '1', '5', '5'] }]),
      'pics/a.png': { image: [20, 10] },
      'pics/sub/b.xml': vocXml(null, [20, 10], [{ name: 'nut', box: ['2', '2', '6', '6'] }]),
      'pics/sub/b.webp': { image: [20, 10] },
      'pics/sub/c.jpg': { image: [20, 10] },
    });
    const ds = readVocDataset(at(tmp, 'pics'));
    expect(ds.problems).toEqual([]);
    expect(ds.classes).toEqual(['bolt', 'nut']);
    expect(ds.images.map((i) => [path.relative(tmp, i.absPath), i.labeled, i.split, i.boxes.length])).toEqual([
      ['pics/a.png', true, 'none', 1],
      ['pics/sub/b.webp', true, 'none', 1],
      ['pics/sub/c.jpg', false, 'none', 0],
    ]);
  });

  it('clamps boxes within 1 px of the declared size and warns about xml without a size', async () => {
    await writeTree(tmp, {
      'd/a.xml': vocXml('a.png', [20, 10], [{ name: 'x', box: ['0.2', '1', '21.5', '11'] }]),
      'd/b.xml': vocXml('b.png', null, [{ name: 'x', box: ['1', '1', '500', '500'] }]),
    });
    const ds = readVocDataset(at(tmp, 'd'));
    expect(ds.problems).toEqual([]);
    expect(ds.images[0]!.boxes).toEqual([px(0, 0, 0, 20, 10)]);
    expect(ds.images[1]!.boxes).toEqual([px(0, 0, 0, 499, 499)]);
    expect(ds.warnings).toEqual(['1 xml file(s) declare no valid <size>; their boxes were not checked against the image size']);
  });

  it('throws FILE_NOT_FOUND for a missing folder', () => {
    expect(() => readVocDataset(at(tmp, 'nope'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });
});

describe('readVocDataset: malformed xml (every problem, with its line)', () => {
  it('reports malformed XML with the validator line', async () => {
    await writeTree(tmp, { 'd/a.xml': '<annotation>\n  <filename>a.jpg</filename>\n  <object>\n</annotation>\n' });
    const file = at(tmp, 'd/a.xml');
    expect(readVocDataset(at(tmp, 'd')).problems).toEqual([
      expect.objectContaining({ file, line: 4, message: expect.stringMatching(/^malformed XML: .*object/) }),
    ]);
  });

  it('reports a root element that is not <annotation>', async () => {
    await writeTree(tmp, { 'd/a.xml': '<doc><x>1</x></doc>\n' });
    expect(readVocDataset(at(tmp, 'd')).problems).toEqual([
      { file: at(tmp, 'd/a.xml'), line: 1, message: 'expected an <annotation> root element (Pascal VOC xml)' },
    ]);
  });

  it('reports missing bndbox, name or coordinate, non-numbers, inverted and outside boxes', async () => {
    const full = (o: object) => ({ truncated: 0, difficult: 0, ...o });
    const xml = vocXml('a.jpg', [64, 48], [
      full({ name: 'cat', box: ['1', '1', '5', '5'] }), // 0: fine
      full({ name: 'cat', box: null }), // 1: no bndbox
      full({ name: 'cat', box: ['1', '', '5', '5'] }), // 2: missing ymin
      full({ name: 'cat', box: ['1', '1', 'abc', '5'] }), // 3: non-numeric xmax
      full({ name: 'cat', box: ['10', '5', '10', '4'] }), // 4: xmax <= xmin, ymax <= ymin
      full({ name: 'cat', box: ['1', '1', '70', '5'] }), // 5: outside 64 px beyond 1 px
      full({ box: ['1', '1', '5', '5'] }), // 6: no name
    ]);
    await writeTree(tmp, { 'd/a.xml': xml });
    const file = at(tmp, 'd/a.xml');
    const lines = xml.split('\n');
    const lineOf = (k: number, tag: string): number => {
      // k-th <object>, then the first <tag> after it.
      let seen = -1;
      for (let i = 0; i < lines.length; i++) {
        if (lines[i]!.trim() === '<object>') seen++;
        if (seen === k && lines[i]!.includes(`<${tag}`)) return i + 1;
      }
      throw new Error('not found');
    };
    expect(readVocDataset(at(tmp, 'd')).problems).toEqual([
      { file, line: lineOf(1, 'object'), field: 'object[1].bndbox', message: 'object has no <bndbox> with xmin, ymin, xmax, ymax' },
      { file, line: lineOf(2, 'bndbox'), field: 'object[2].bndbox.ymin', message: 'missing <ymin> in <bndbox>' },
      { file, line: lineOf(3, 'xmax'), field: 'object[3].bndbox.xmax', message: "xmax 'abc' is not a number" },
      { file, line: lineOf(4, 'xmax'), field: 'object[4].bndbox.xmax', message: 'xmax 10 must be greater than xmin 10' },
      { file, line: lineOf(4, 'ymax'), field: 'object[4].bndbox.ymax', message: 'ymax 4 must be greater than ymin 5' },
      {
        file,
        line: lineOf(5, 'bndbox'),
        field: 'object[5].bndbox',
        message: 'box (xmin 1, ymin 1, xmax 70, ymax 5) extends outside the 64x48 image declared in <size> by more than 1 px',
      },
      { file, line: lineOf(6, 'object'), field: 'object[6].name', message: 'object has no <name> (its class)' },
    ]);
  });
});
