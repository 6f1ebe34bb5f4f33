/**
 * toErrorInfo: what crosses the boundary for anything thrown. A file-system error about a path the
 * user gave is theirs to fix (a clear code naming the path), not an INTERNAL bug.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError, toErrorInfo } from '../../../src/shared/errors';
import { tmpDir } from '../../helpers/tmp';

const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
};

describe('toErrorInfo', () => {
  it('keeps an AppError as it is and makes anything unknown INTERNAL', () => {
    expect(toErrorInfo(new AppError('NOT_FOUND', 'no image 3', { id: 3 }))).toEqual({ code: 'NOT_FOUND', message: 'no image 3', details: { id: 3 } });
    expect(toErrorInfo(new TypeError('x is undefined'))).toEqual({ code: 'INTERNAL', message: 'x is undefined' });
    expect(toErrorInfo('boom')).toEqual({ code: 'INTERNAL', message: 'boom' });
  });

  it('gives real file-system errors a clear code, with the message that names the path', () => {
    const dir = tmpDir();
    expect(toErrorInfo(thrown(() => fs.readFileSync(`${dir}/missing.json`)))).toEqual({
      code: 'FILE_NOT_FOUND',
      message: expect.stringContaining(`${dir}/missing.json`),
    });
    expect(toErrorInfo(thrown(() => fs.readFileSync(dir)))).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('EISDIR') });
    expect(toErrorInfo(thrown(() => fs.mkdirSync('/dev/null/x')))).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('ENOTDIR') });
    expect(toErrorInfo(thrown(() => fs.mkdirSync(dir)))).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('EEXIST') });
    expect(toErrorInfo(thrown(() => fs.statSync(`${dir}/${'n'.repeat(300)}`)))).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('ENAMETOOLONG') });
  });
});
