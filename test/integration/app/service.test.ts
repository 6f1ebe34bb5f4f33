import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEventMessage } from '../../../src/shared/api';
import type { ImportSummary, JobInfo } from '../../../src/shared/types';
import { createDispatcher } from '../../../src/main/app/dispatch';
import { BoxtuneService } from '../../../src/main/app/service';
import { tmpDir } from '../../helpers/tmp';
import { writeSynthYolo } from '../../helpers/yolo-synth';

let service: BoxtuneService | null = null;
afterEach(async () => {
  await service?.close();
  service = null;
});

function makeService(): { service: BoxtuneService; events: ApiEventMessage[] } {
  service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir('boxtune-data-') });
  const events: ApiEventMessage[] = [];
  service.events.on('event', (m: ApiEventMessage) => events.push(m));
  return { service, events };
}

describe('BoxtuneService through the dispatcher', () => {
  it('validates every argument at the boundary', async () => {
    const { service } = makeService();
    const call = createDispatcher(service);
    expect(await call('nope', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expect(await call('project.open', {})).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: expect.stringContaining('dir') } });
    expect(await call('images.page', { limit: 5000 })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await call('images.page', { limit: 5, extra: 1 })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await call('images.page', {})).toMatchObject({ ok: false, error: { code: 'NO_PROJECT' } });
    expect(await call('dataset.import', { format: 'pdf', source: '/x' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await call('app.info', undefined)).toMatchObject({ ok: true, value: { shell: 'browser', project: null } });
  });

  it('imports in a worker with progress events, then lists the images', async () => {
    const { service, events } = makeService();
    const call = createDispatcher(service);
    const data = tmpDir();
    const yaml = await writeSynthYolo(data, { images: 300, boxesPerImage: 3, classes: ['a', 'b'] });
    const root = path.join(tmpDir(), 'proj');
    expect(await call('project.create', { dir: root, name: 'P' })).toMatchObject({ ok: true, value: { name: 'P', images: 0 } });

    const started = await call('dataset.import', { format: 'yolo', source: yaml });
    expect(started.ok).toBe(true);
    const jobId = (started as { value: { jobId: string } }).value.jobId;
    const job = await service.jobs.wait(jobId);
    expect(job.state).toBe('done');
    expect((job.result as ImportSummary).images).toBe(300);
    expect((job.result as ImportSummary).boxes).toBe(900);

    const jobEvents = events.filter((e) => e.event === 'job').map((e) => e.data as JobInfo);
    expect(jobEvents.at(-1)).toMatchObject({ id: jobId, state: 'done' });
    expect(jobEvents.some((e) => e.phase === 'writing')).toBe(true);
    expect(events.some((e) => e.event === 'project' && (e.data as { reason: string }).reason === 'changed')).toBe(true);

    const page = await call('images.page', { filter: { split: 'val' }, limit: 10 });
    expect(page).toMatchObject({ ok: true, value: { total: 60 } });
    const first = (page as { value: { items: { id: number }[] } }).value.items[0]!;
    expect(service.imageFile(first.id).contentType).toBe('image/png');
    expect(fs.existsSync(service.imageFile(first.id).absPath)).toBe(true);
    expect(await call('images.boxes', { id: first.id })).toMatchObject({ ok: true, value: expect.any(Array) });
    expect(await call('images.boxes', { id: 999999 })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('reports an invalid import as a failed job with every problem, and changes nothing', async () => {
    const { service } = makeService();
    const data = tmpDir();
    const yaml = await writeSynthYolo(data, { images: 10, boxesPerImage: 2, classes: ['a'] });
    fs.writeFileSync(path.join(data, 'labels/train/im1.txt'), '0 0.5 0.5 0.1\n7 0.5 0.5 0.1 0.1\n');
    await service['project.create']({ dir: path.join(tmpDir(), 'p') });
    const { jobId } = await service['dataset.import']({ format: 'yolo', source: yaml });
    const job = await service.jobs.wait(jobId);
    expect(job.state).toBe('failed');
    expect(job.error?.code).toBe('IMPORT_INVALID');
    const problems = (job.error?.details as { problems: { file: string; line: number }[] }).problems;
    expect(problems.map((p) => [path.basename(p.file), p.line])).toEqual([
      ['im1.txt', 1],
      ['im1.txt', 2],
    ]);
    expect((await service['project.info']({})).images).toBe(0);
  });

  it('cancels a running import and leaves the project as it was', async () => {
    const { service } = makeService();
    const yaml = await writeSynthYolo(tmpDir(), { images: 4000, boxesPerImage: 5, classes: ['a'] });
    await service['project.create']({ dir: path.join(tmpDir(), 'p') });
    const { jobId } = await service['dataset.import']({ format: 'yolo', source: yaml });
    await new Promise((r) => setTimeout(r, 150));
    await service['jobs.cancel']({ id: jobId });
    const job = await service.jobs.wait(jobId);
    expect(job.state).toBe('cancelled');
    expect((await service['project.info']({})).images).toBe(0);
  });

  it('assigns stratified splits and exports through a worker', async () => {
    const { service } = makeService();
    const data = tmpDir();
    const folder = path.join(data, 'photos');
    await writeSynthYolo(folder, { images: 50, boxesPerImage: 0, classes: ['a'] });
    await service['project.create']({ dir: path.join(data, 'p') });
    const imported = await service.jobs.wait((await service['dataset.import']({ format: 'folder', source: folder })).jobId);
    expect(imported.state).toBe('done');
    const summary = await service['dataset.assignSplits']({ ratios: { train: 0.8, val: 0.2, test: 0 }, seed: 1 });
    expect(summary).toEqual({ assigned: 50, counts: { train: 40, val: 10, test: 0, none: 0 } });
    const out = path.join(data, 'export');
    const exported = await service.jobs.wait((await service['dataset.export']({ format: 'yolo', dir: out })).jobId);
    expect(exported).toMatchObject({ state: 'done', result: { images: 50 } });
    expect(fs.readdirSync(path.join(out, 'images/val'))).toHaveLength(10);
  });

  it('opens the sample project: drawn images, labels, splits', async () => {
    const { service, events } = makeService();
    const { jobId, dir } = await service['project.openSample']({ images: 20 });
    const job = await service.jobs.wait(jobId);
    expect(job.state).toBe('done');
    const info = await service['project.info']({});
    expect(info.root).toBe(dir);
    expect(info.images).toBe(20);
    expect(info.boxes).toBeGreaterThan(20);
    expect(info.splits.map((s) => s.split).sort()).toEqual(['train', 'val']);
    expect(events.some((e) => e.event === 'project' && (e.data as { reason: string }).reason === 'opened')).toBe(true);
    expect((await service['app.info']({})).recentProjects).toEqual([dir]);
  });
});
