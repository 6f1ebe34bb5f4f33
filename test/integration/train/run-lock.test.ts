/**
 * One trainer per run folder across processes: while another live process holds a run folder,
 * training (or resuming) there is refused with an error naming that process and the lock file;
 * once that process is killed, its lock is taken over.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTrainArgs } from '../../../src/main/train/args';
import { acquireRunLock, LOCK_FILE } from '../../../src/main/train/run-lock';
import { train } from '../../../src/main/train/trainer';
import { trainingBackend } from '../../helpers/train-backend';
import { tmpDir } from '../../helpers/tmp';

const lockModule = path.resolve(import.meta.dirname, '../../../src/main/train/run-lock.ts');
let device: 'wasm' | 'cpu';
beforeAll(async () => {
  device = await trainingBackend();
});

describe('run folder lock', () => {
  it('refuses a second trainer while the holder lives and takes over once it is killed', async () => {
    const project = tmpDir('boxtune-lock-');
    const runDir = path.join(project, 'run');
    fs.mkdirSync(runDir);
    // Another process locks the run folder, as a CLI run training there does, and stays.
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `const m = await import(${JSON.stringify(lockModule)}); m.acquireRunLock(${JSON.stringify(runDir)}); console.log('locked'); setInterval(() => {}, 1000);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => holder.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      holder.on('exit', () => reject(new Error('the lock holder exited')));
    });

    const resume = parseTrainArgs({ model: path.join(project, 'x.pt'), data: path.join(project, 'data.yaml'), project, name: 'run', resume: true, device });
    await expect(train(resume)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`being trained by process ${holder.pid}`),
    });
    expect(() => acquireRunLock(runDir)).toThrow(path.join(runDir, LOCK_FILE));

    holder.kill('SIGKILL');
    await exited;
    const release = acquireRunLock(runDir);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    release();
    expect(fs.existsSync(path.join(runDir, LOCK_FILE))).toBe(false);
  }, 60_000);
});
