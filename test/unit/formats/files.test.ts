import { describe, expect, it } from 'vitest';
import { assignOutputNames, isImageFile, stemOf } from '../../../src/main/formats/files';

const items = (...rels: string[]) => rels.map((relPath) => ({ relPath, absPath: `/p/${relPath}` }));

describe('assignOutputNames', () => {
  it('keeps unique basenames and prefixes the folders of colliding ones', () => {
    expect(assignOutputNames(items('x/a.jpg', 'train/a/img.jpg', 'train/b/img.jpg', 'c.png'))).toEqual([
      'a.jpg',
      'train__a__img.jpg',
      'train__b__img.jpg',
      'c.png',
    ]);
  });

  it('treats names with the same stem (label files) or differing only in case as colliding', () => {
    expect(assignOutputNames(items('p/a.jpg', 'q/a.png', 'r/B.jpg', 's/b.jpg'))).toEqual([
      'p__a.jpg',
      'q__a.png',
      'r__B.jpg',
      's__b.jpg',
    ]);
  });

  it('numbers a prefixed name that still collides, never reusing a name', () => {
    const names = assignOutputNames(items('a__img.jpg', 'a/img.jpg', 'a/img.jpg', 'x/../a/img.jpg'));
    expect(names).toEqual(['a__img.jpg', 'a__img_2.jpg', 'a__img_3.jpg', 'x__a__img.jpg']);
    expect(new Set(names.map((n) => stemOf(n).toLowerCase())).size).toBe(names.length);
  });

  it('is deterministic', () => {
    const list = items('a/img.jpg', 'b/img.jpg', 'img.jpg');
    expect(assignOutputNames(list)).toEqual(assignOutputNames(list));
    expect(assignOutputNames(list)).toEqual(['a__img.jpg', 'b__img.jpg', 'img.jpg']);
  });
});

describe('isImageFile', () => {
  it('matches image extensions case-insensitively', () => {
    expect(['a.JPG', 'b.jpeg', 'c.Png', 'd.webp', 'e.bmp', 'f.tif', 'g.TIFF'].every(isImageFile)).toBe(true);
    expect(['a.gif', 'b.txt', 'jpg', 'c.jpg.txt'].some(isImageFile)).toBe(false);
  });
});
