import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { describe, expect, it } from 'vitest';
import { LabelStore } from '../../../src/main/store/label-store';
import { tmpDir } from '../../helpers/tmp';
import { writeSynthYolo } from '../../helpers/yolo-synth';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

/** Starts the import child and SIGKILLs it at the first progress event of `killPhase` past `minDone`. */
function importAndKill(root: string, yaml: string, killPhase: string, minDone: number) {
  return new Promise<{ killedAt: { phase: string; done: number; total: number } | null; code: number | null; signal: string | null }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/helpers/import-child.ts'), root, yaml], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let killedAt: { phase: string; done: number; total: number } | null = null;
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        const ev = JSON.parse(line) as { phase: string; done: number; total: number };
        if (!killedAt && ev.phase === killPhase && ev.done >= minDone) {
          killedAt = ev;
          child.kill('SIGKILL');
        }
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve({ killedAt, code, signal }));
    },
  );
}

describe('an import killed with SIGKILL', () => {
  it('leaves the store consistent, with earlier data intact and the import absent', async () => {
    const data = tmpDir();
    const small = await writeSynthYolo(path.join(data, 'small'), { images: 5, boxesPerImage: 2, classes: ['a', 'b'] });
    const large = await writeSynthYolo(path.join(data, 'large'), { images: 12_000, boxesPerImage: 10, classes: ['a', 'b', 'c'] });
    const root = path.join(data, 'project');
    LabelStore.create(root).close();

    // An earlier, finished import that must survive.
    const first = await importAndKill(root, small, 'never', 0);
    expect(first.code).toBe(0);

    // Kill in the middle of the write transaction: after ~4k of 12k images were inserted.
    const run = await importAndKill(root, large, 'writing', 4000);
    expect(run.signal).toBe('SIGKILL');
    expect(run.killedAt).not.toBeNull();
    expect(run.killedAt!.done).toBeLessThan(run.killedAt!.total);

    const store = LabelStore.open(root);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
    const info = store.info();
    expect(info.images).toBe(5);
    expect(info.boxes).toBe(10);
    expect(info.classes.map((c) => c.name)).toEqual(['a', 'b']);
    // Counters kept by triggers agree with the rows.
    const real = store.db.prepare('SELECT class_id AS classId, COUNT(*) AS n FROM boxes GROUP BY class_id').all();
    expect(info.classCounts.map((c) => ({ classId: c.classId, n: c.boxes }))).toEqual(real);
    store.close();
  });
});
