/**
 * makeDirs is `mkdir -p` that always returns. Node's recursive mkdirSync spins forever (100% CPU,
 * the thread lost) on a file system that answers ENOENT for a new folder whose parent exists, as
 * /proc does: a path a user typed must never be able to do that to the server.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirs } from '../../../src/main/util/make-dirs';
import { tmpDir } from '../../helpers/tmp';

const onLinux = process.platform === 'linux' && fs.existsSync('/proc/self');

describe('makeDirs', () => {
  it('makes every missing level and accepts folders that exist', () => {
    const root = tmpDir();
    const deep = path.join(root, 'a', 'b', 'c');
    makeDirs(deep);
    expect(fs.statSync(deep).isDirectory()).toBe(true);
    makeDirs(deep);
    makeDirs(root);
  });

  it('fails with the errno of the level that cannot be made', () => {
    const root = tmpDir();
    fs.writeFileSync(path.join(root, 'file'), 'x');
    expect(() => makeDirs(path.join(root, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => makeDirs(path.join(root, 'file', 'sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it.runIf(onLinux)('returns an error under /proc, where recursive mkdirSync never returns', () => {
    const t0 = performance.now();
    expect(() => makeDirs('/proc/boxtune-test/x')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
