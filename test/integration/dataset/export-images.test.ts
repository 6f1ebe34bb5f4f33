/**
 * Exported images are copies unless linking is asked for: a user who edits an exported image in
 * place must not change the project's source image. Through the Api (worker thread, real files).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../../src/main/app/dispatch';
import { BoxtuneService } from '../../../src/main/app/service';
import type { ExportRequest } from '../../../src/shared/types';
import { tmpDir } from '../../helpers/tmp';
import { writeSynthYolo } from '../../helpers/yolo-synth';

let service: BoxtuneService | null = null;
afterEach(async () => {
  await service?.close();
  service = null;
});

/** A project over 5 synthetic images (referenced where they are), and a way to export it. */
async function exported(images?: ExportRequest['images']): Promise<{ source: string; copy: string }> {
  service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir('boxtune-data-') });
  const call = createDispatcher(service);
  const work = tmpDir();
  const yaml = await writeSynthYolo(path.join(work, 'ds'), { images: 5, boxesPerImage: 1, classes: ['a'] });
  expect(await call('project.create', { dir: path.join(work, 'project') })).toMatchObject({ ok: true });
  const imported = (await call('dataset.import', { format: 'yolo', source: yaml })) as { ok: true; value: { jobId: string } };
  expect((await service.jobs.wait(imported.value.jobId)).state).toBe('done');
  const out = path.join(work, 'out');
  const started = (await call('dataset.export', { format: 'yolo', dir: out, ...(images ? { images } : {}) })) as {
    ok: true;
    value: { jobId: string };
  };
  expect(await service.jobs.wait(started.value.jobId)).toMatchObject({ state: 'done' });
  return { source: path.join(work, 'ds/images/val/im0.png'), copy: path.join(out, 'images/val/im0.png') };
}

describe('export images', () => {
  it('copies by default: writing into an exported image leaves the source as it was', async () => {
    const { source, copy } = await exported();
    const original = fs.readFileSync(source);
    expect(fs.readFileSync(copy)).toEqual(original);
    fs.writeFileSync(copy, 'edited in place by another program');
    expect(fs.readFileSync(source)).toEqual(original);
    expect(fs.statSync(source).nlink).toBe(1);
  });

  it("hard-links when 'link' is asked for (an edit to the export then changes the source)", async () => {
    const { source, copy } = await exported('link');
    expect(fs.statSync(copy).ino).toBe(fs.statSync(source).ino);
  });
});
