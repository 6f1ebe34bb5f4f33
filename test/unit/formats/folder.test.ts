import { beforeEach, describe, expect, it } from 'vitest';
import { readImageFolder } from '../../../src/main/formats/folder';
import { at, writeTree } from '../../helpers/formats-fixtures';
import { tmpDir } from '../../helpers/tmp';

let tmp: string;
beforeEach(() => {
  tmp = tmpDir('boxtune-formats-');
});

describe('readImageFolder', () => {
  it('lists image files recursively (case-insensitive extensions, sorted), skipping hidden folders and node_modules', async () => {
    await writeTree(tmp, {
      'b.PNG': { image: [4, 4] },
      'a/z.jpeg': { image: [4, 4] },
      'a/y.TIFF': 'x',
      'c/d.webp': 'x',
      'c/e.bmp': 'x',
      'c/notes.txt': 'x',
      'c/f.gif': 'x',
      '.git/x.jpg': 'x',
      'node_modules/pkg/x.jpg': 'x',
      '.hidden.jpg': 'x',
    });
    const ds = readImageFolder(tmp);
    expect(ds).toEqual({
      classes: [],
      problems: [],
      warnings: [],
      images: ['a/y.TIFF', 'a/z.jpeg', 'b.PNG', 'c/d.webp', 'c/e.bmp'].map((rel) => ({
        absPath: at(tmp, rel),
        split: 'none',
        labeled: false,
        boxes: [],
      })),
    });
  });

  it('throws FILE_NOT_FOUND for a missing folder', () => {
    expect(() => readImageFolder(at(tmp, 'nope'))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });
});
