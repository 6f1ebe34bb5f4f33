/**
 * The atomic writer: worker threads of one process (one pid) replacing the same file at once never
 * share a temp file, every read sees one whole version, a failed write leaves the old file and no
 * temp behind, and leftovers of a killed writer are found and removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { atomically, removeStaleTemps, tempPathFor, writeFileAtomic } from '../../../src/main/util/atomic-write';
import { tmpDir } from '../../helpers/tmp';

const helper = pathToFileURL(path.resolve(import.meta.dirname, '../../../src/main/util/atomic-write.ts')).href;

/** A worker thread that writes `file` `times` times with its own content; resolves with its errors. */
function writer(file: string, id: number, times: number): Promise<string[]> {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    (async () => {
      const { register } = await import('tsx/esm/api');
      register();
      const { writeFileAtomic } = await import(workerData.helper);
      const errors = [];
      const body = String(workerData.id).repeat(64 * 1024);
      for (let i = 0; i < workerData.times; i++) {
        try { writeFileAtomic(workerData.file, body); } catch (e) { errors.push(e.message); }
      }
      parentPort.postMessage(errors);
    })().catch((e) => parentPort.postMessage([String(e)]));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { helper, file, id, times } });
    w.once('message', (errors: string[]) => resolve(errors));
    w.once('error', reject);
  });
}

describe('atomic writes', () => {
  it('lets worker threads of one process replace the same file at once', async () => {
    const file = path.join(tmpDir(), 'results.csv');
    const errors = (await Promise.all([1, 2, 3, 4].map((id) => writer(file, id, 150)))).flat();
    expect(errors).toEqual([]);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toHaveLength(64 * 1024);
    expect(new Set(text).size).toBe(1); // one writer's whole content, not a mix
    expect(fs.readdirSync(path.dirname(file))).toEqual(['results.csv']);
  }, 60_000);

  it('gives each call its own temp name, in the same thread too', () => {
    const names = new Set(Array.from({ length: 1000 }, () => tempPathFor('/x/best.safetensors')));
    expect(names.size).toBe(1000);
    for (const n of names) expect(n).toContain(`best.safetensors.tmp-${process.pid}-`);
  });

  it('keeps the old file and leaves no temp when the write fails', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'best.safetensors');
    writeFileAtomic(file, 'old');
    expect(() =>
      atomically(file, (tmp) => {
        fs.writeFileSync(tmp, 'half');
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['best.safetensors']);
  });

  it('finds and removes the temp files a killed writer left', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'last.safetensors'), 'whole');
    fs.writeFileSync(tempPathFor(path.join(dir, 'last.safetensors')), 'half');
    fs.writeFileSync(path.join(dir, 'last.safetensors.tmp-123'), 'an older boxtune\'s');
    expect(removeStaleTemps(dir)).toHaveLength(2);
    expect(fs.readdirSync(dir)).toEqual(['last.safetensors']);
  });
});
