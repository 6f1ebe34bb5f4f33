/**
 * Training runs as the project sees them, through the real service: a run whose process was
 * killed shows as interrupted when the project opens (and resumes), a run still training is left
 * alone, and one project trains one run at a time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TrainProgress } from '../../../src/shared/types';
import { BoxtuneService } from '../../../src/main/app/service';
import { saveCheckpoint } from '../../../src/main/model/checkpoint';
import { YoloModel } from '../../../src/main/model/yolo';
import { SAMPLE_CLASSES } from '../../../src/main/project/sample';
import { tinyYolo11Yaml } from '../../helpers/model-fixtures';
import { tmpDir } from '../../helpers/tmp';
import { trainingBackend } from '../../helpers/train-backend';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
let device: 'wasm' | 'cpu';
const services: BoxtuneService[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  device = await trainingBackend();
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of services.splice(0)) await s.close();
});

function makeService(dataDir: string): BoxtuneService {
  const s = new BoxtuneService({ shell: 'browser', dataDir });
  services.push(s);
  return s;
}

/** The sample project (16 images) and a tiny random-init checkpoint for its classes. */
async function sampleProject(service: BoxtuneService): Promise<{ dir: string; model: string }> {
  const sample = await service['project.openSample']({ images: 16 });
  expect((await service.jobs.wait(sample.jobId)).state).toBe('done');
  const model = YoloModel.fromYaml(tinyYolo11Yaml(SAMPLE_CLASSES.length), SAMPLE_CLASSES.length, [...SAMPLE_CLASSES], { seed: 0 });
  const file = path.join(tmpDir('boxtune-model-'), 'tiny.safetensors');
  saveCheckpoint(file, model);
  model.dispose();
  return { dir: sample.dir, model: file };
}

describe('training runs of a project', () => {
  it('marks a run whose process was killed as interrupted, refuses a second run while it lives, and resumes it', async () => {
    const dataDir = tmpDir('boxtune-data-');
    const first = makeService(dataDir);
    const { dir, model } = await sampleProject(first);
    await first['project.close']({});

    // Another process trains; once its first epoch is saved it is still going.
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/helpers/train-service-child.ts'), dataDir, dir, model, device, '30'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const exited = new Promise<string | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
    const lines = readline.createInterface({ input: child.stdout! });
    const runId = await new Promise<number>((resolve, reject) => {
      let id = -1;
      lines.on('line', (line) => {
        const e = JSON.parse(line) as TrainProgress | { type: 'started'; runId: number };
        if (e.type === 'started') id = e.runId;
        if (e.type === 'epoch' && e.row.epoch === 1) resolve(id);
      });
      child.on('exit', () => reject(new Error('the training child exited before its first epoch')));
    });

    const service = makeService(tmpDir('boxtune-data-'));
    await service['project.open']({ dir });
    expect((await service['train.runs']({})).find((r) => r.id === runId)?.status).toBe('running');
    await expect(service['train.start']({ model, epochs: 1, imgsz: 64, batch: 4, device })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/run train is training/),
    });
    await expect(service['train.start']({ model, resumeRunId: runId, epochs: 2 })).rejects.toMatchObject({ code: 'CONFLICT' });

    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await service['project.open']({ dir });
    const killed = (await service['train.runs']({})).find((r) => r.id === runId)!;
    expect(killed).toMatchObject({ status: 'interrupted', epochsDone: 1 });

    const resumed = await service['train.start']({ model, resumeRunId: runId, epochs: 2 });
    expect(resumed.runId).toBe(runId);
    expect((await service.jobs.wait(resumed.jobId)).state).toBe('done');
    const detail = await service['train.run']({ id: runId });
    expect(detail.status).toBe('done');
    expect(detail.rows.map((r) => r.epoch)).toEqual([1, 2]);
  }, 180_000);

  it('leaves a run training in this process alone when the project is reopened, and refuses to start or resume beside it', async () => {
    const service = makeService(tmpDir('boxtune-data-'));
    const { dir, model } = await sampleProject(service);
    const { jobId, runId } = await service['train.start']({ model, epochs: 2, imgsz: 64, batch: 4, device });

    await service['project.close']({});
    await service['project.open']({ dir });
    expect((await service['train.runs']({})).find((r) => r.id === runId)?.status).toBe('running');
    await expect(service['train.start']({ model, epochs: 1, imgsz: 64, batch: 4, device })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/run train is training/),
    });
    await expect(service['train.start']({ model, resumeRunId: runId })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/still training/),
    });

    // It ends as done in the reopened project, and then the project trains again.
    expect((await service.jobs.wait(jobId)).state).toBe('done');
    expect((await service['train.run']({ id: runId })).status).toBe('done');
    const next = await service['train.start']({ model, epochs: 1, imgsz: 64, batch: 4, device });
    await service['jobs.cancel']({ id: next.jobId });
    expect((await service.jobs.wait(next.jobId)).state).toBe('cancelled');
  }, 180_000);
});
