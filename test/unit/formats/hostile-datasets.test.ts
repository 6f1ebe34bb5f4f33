/**
 * Hostile dataset files for the YOLO and COCO readers: values that cost nothing to write but
 * everything to print (a YAML alias "billion laughs", JSON nested 100k deep), and files that are not
 * files (a device where a label, a list or an image should be). Each is a listed problem of that
 * file, found at once; never a stack overflow, minutes of CPU, gigabytes read, or a thread blocked.
 */
import fs from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { readCocoDataset } from '../../../src/main/formats/coco';
import { previewValue } from '../../../src/main/formats/preview';
import { readYoloDataset } from '../../../src/main/formats/yolo';
import { at, writeTree } from '../../helpers/formats-fixtures';
import { tmpDir } from '../../helpers/tmp';

let tmp: string;
beforeEach(() => {
  tmp = tmpDir('boxtune-formats-');
});

/** names: 9^10 strings once expanded (3.5 billion), 1 KB as YAML. */
function aliasBomb(key: 'names' | 'train' | 'path'): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  let prev = 'a';
  for (const c of 'bcdefghij') {
    lines.push(`${c}: &${c} [${Array(9).fill(`*${prev}`).join(',')}]`);
    prev = c;
  }
  lines.push(`path: ${key === 'path' ? '*j' : '.'}`, `train: ${key === 'train' ? '*j' : 'images'}`, 'val: images', `names: ${key === 'names' ? '*j' : '[cat]'}`);
  return `${lines.join('\n')}\n`;
}

function deep(n: number): unknown {
  return JSON.parse('['.repeat(n) + ']'.repeat(n));
}

describe('previewValue', () => {
  it('shows any value in at most `max` characters, however large or deep', () => {
    expect(previewValue({ a: [1, 'x', null, true] })).toBe('{"a":[1,"x",null,true]}');
    expect(previewValue(undefined)).toBe('nothing');
    expect(previewValue('y'.repeat(1000), 20)).toBe(`"${'y'.repeat(18)}…`);
    const t0 = performance.now();
    expect(previewValue(deep(200_000), 30)).toBe(`${'['.repeat(29)}…`);
    const wide = Array(1_000_000).fill({ k: 'v' });
    expect(previewValue(wide, 25)).toBe('[{"k":"v"},{"k":"v"},{"k…');
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe('YOLO data.yaml', () => {
  it('lists an alias bomb in names, path or a split as a problem, at once', async () => {
    for (const key of ['names', 'train', 'path'] as const) {
      await writeTree(tmp, { [`${key}/data.yaml`]: aliasBomb(key), [`${key}/images/a.png`]: { image: [8, 8] } });
      const t0 = performance.now();
      const ds = readYoloDataset(at(tmp, `${key}/data.yaml`));
      expect(performance.now() - t0, key).toBeLessThan(2000);
      expect(ds.problems.length, key).toBeGreaterThan(0);
      expect(ds.problems[0]!.file).toBe(at(tmp, `${key}/data.yaml`));
    }
  });

  it.runIf(fs.existsSync('/dev/zero'))('refuses a device as an image list, an image or a label file', async () => {
    await writeTree(tmp, {
      'd/data.yaml': 'path: .\ntrain: list.txt\nval: images\nnames: [cat]\n',
      'd/images/a.png': { image: [8, 8] },
      'd/labels/a.txt': '0 0.5 0.5 0.2 0.2\n',
    });
    fs.symlinkSync('/dev/zero', at(tmp, 'd/list.txt'));
    expect(() => readYoloDataset(at(tmp, 'd/data.yaml'))).toThrow(expect.objectContaining({ code: 'FILE_UNREADABLE', message: expect.stringMatching(/not a regular file/) }));

    fs.rmSync(at(tmp, 'd/list.txt'));
    fs.writeFileSync(at(tmp, 'd/data.yaml'), 'path: .\ntrain: images\nval: images\nnames: [cat]\n');
    fs.rmSync(at(tmp, 'd/labels/a.txt'));
    fs.symlinkSync('/dev/zero', at(tmp, 'd/labels/a.txt'));
    const ds = readYoloDataset(at(tmp, 'd/data.yaml'));
    expect(ds.problems).toEqual([{ file: at(tmp, 'd/labels/a.txt'), message: expect.stringMatching(/not a regular file/) }]);
  });
});

describe('COCO json', () => {
  it('lists a value nested 100k deep as a problem of its element', async () => {
    const doc = `{"images":[{"id":1,"file_name":"a.png","width":${'['.repeat(100_000)}${']'.repeat(100_000)},"height":8}],"annotations":[],"categories":[{"id":1,"name":"cat"}]}`;
    await writeTree(tmp, { 'c/instances_val.json': doc, 'c/a.png': { image: [8, 8] } });
    const ds = readCocoDataset(at(tmp, 'c/instances_val.json'));
    expect(ds.problems).toEqual([
      expect.objectContaining({ file: at(tmp, 'c/instances_val.json'), line: 1, field: 'images[0].width', message: expect.stringMatching(/^missing or invalid width \[\[\[/) }),
    ]);
  });
});

