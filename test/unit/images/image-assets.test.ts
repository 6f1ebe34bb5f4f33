import { describe, expect, it } from 'vitest';
import { parseImageAsset, parseImageId } from '../../../src/main/images/image-assets';
import { assetCacheControl, assetErrorStatus } from '../../../src/main/server/asset-http';

describe('image asset paths', () => {
  it('parses the four kinds', () => {
    expect(parseImageAsset('')).toEqual({ kind: 'file' });
    expect(parseImageAsset('file')).toEqual({ kind: 'file' });
    expect(parseImageAsset('thumb')).toEqual({ kind: 'thumb' });
    expect(parseImageAsset('preview')).toEqual({ kind: 'preview' });
    expect(parseImageAsset('tiles/14/3_12.jpeg')).toEqual({ kind: 'tile', level: 14, col: 3, row: 12 });
    expect(parseImageAsset('tiles/0/0_0.jpeg')).toEqual({ kind: 'tile', level: 0, col: 0, row: 0 });
  });

  it('refuses malformed tile paths with INVALID_INPUT and unknown names with NOT_FOUND', () => {
    for (const bad of [
      'tiles',
      'tiles/',
      'tiles/14/3_12.png',
      'tiles/14/3_12.jpeg/x',
      'tiles/14/03_1.jpeg',
      'tiles/-1/0_0.jpeg',
      'tiles/1e1/0_0.jpeg',
      'tiles/1/0_0.jpeg.jpeg',
      'tiles/1/0-0.jpeg',
      'tiles/1234567/0_0.jpeg',
      'tiles/..%2f..%2fboxtune.db',
      'tiles/1/../../x.jpeg',
      'tiles/ 1/0_0.jpeg',
    ]) {
      expect(() => parseImageAsset(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    for (const unknown of ['thumbs', 'thumb/', 'Thumb', '../file', 'preview.jpeg']) {
      expect(() => parseImageAsset(unknown), unknown).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    }
  });

  it('takes positive safe integer ids only', () => {
    expect(parseImageId('42')).toBe(42);
    for (const bad of ['0', '042', '-1', '1.5', '99999999999999999', 'abc', '']) {
      expect(() => parseImageId(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });

  it('caches a versioned URL for a year, an unversioned one for an hour, a mismatched one never', () => {
    const hash = '0123456789abcdef0123456789abcdef01234567';
    expect(assetCacheControl(hash, '0123456789abcdef')).toBe('private, max-age=31536000, immutable');
    expect(assetCacheControl(hash, null)).toBe('private, max-age=3600');
    expect(assetCacheControl(hash, 'ffffffffffffffff')).toBe('no-store');
  });

  it('maps error codes to statuses', () => {
    expect([assetErrorStatus('INVALID_INPUT'), assetErrorStatus('NOT_FOUND'), assetErrorStatus('FILE_NOT_FOUND')]).toEqual([400, 404, 404]);
    expect([assetErrorStatus('NO_PROJECT'), assetErrorStatus('FILE_UNREADABLE'), assetErrorStatus('INTERNAL')]).toEqual([409, 422, 500]);
  });
});
