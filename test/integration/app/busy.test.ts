/**
 * Edits from the UI never wait long for the write lock: while another connection (an import's
 * write phase, in a worker thread) holds it, an edit answers BUSY at once instead of blocking the
 * main thread, and succeeds once the lock is free. Real worker threads, real SQLite files.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher, type Dispatch } from '../../../src/main/app/dispatch';
import { BoxtuneService } from '../../../src/main/app/service';
import { DB_FILE } from '../../../src/main/store/db';
import { LabelStore } from '../../../src/main/store/label-store';
import type { JobInfo } from '../../../src/shared/types';
import type { ApiEventMessage } from '../../../src/shared/api';
import { tmpDir } from '../../helpers/tmp';
import { writeSynthYolo } from '../../helpers/yolo-synth';

let service: BoxtuneService | null = null;
afterEach(async () => {
  await service?.close();
  service = null;
});

async function openProject(): Promise<{ call: Dispatch; root: string; imageId: number; classId: number }> {
  const root = path.join(tmpDir(), 'project');
  const store = LabelStore.create(root);
  store.applyImport({
    classes: ['cat'],
    images: [{ path: 'img_001.jpg', hash: 'ha', width: 100, height: 80, split: 'train', labeled: false, boxes: [] }],
  });
  const imageId = store.page().items[0]!.id;
  const classId = store.classes()[0]!.id;
  store.close();
  service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir('boxtune-data-') });
  const call = createDispatcher(service);
  expect(await call('project.open', { dir: root })).toMatchObject({ ok: true });
  return { call, root, imageId, classId };
}

/** Starts a worker thread that holds the project's write lock for `holdMs`; resolves once it has it. */
function holdWriteLock(root: string, holdMs: number): Promise<{ released: Promise<void> }> {
  const worker = new Worker(new URL('../../helpers/hold-write-lock.mjs', import.meta.url), {
    workerData: { file: path.join(root, DB_FILE), holdMs },
  });
  return new Promise((resolve, reject) => {
    const released = new Promise<void>((done) => worker.on('message', (m) => m === 'released' && done()));
    worker.on('message', (m) => m === 'locked' && resolve({ released }));
    worker.on('error', reject);
  });
}

const drawBox = (call: Dispatch, imageId: number, classId: number) =>
  call('boxes.create', { imageId, boxes: [{ classId, x: 10, y: 10, w: 20, h: 20 }] });

describe('an edit while another thread holds the write lock', () => {
  it('answers BUSY within a second (not after the lock is released), and saves once it is free', async () => {
    const { call, root, imageId, classId } = await openProject();
    const lock = await holdWriteLock(root, 4000);

    const t0 = performance.now();
    const busy = await drawBox(call, imageId, classId);
    const waited = performance.now() - t0;
    expect(busy).toMatchObject({ ok: false, error: { code: 'BUSY', message: expect.stringContaining('not saved') } });
    expect(waited).toBeLessThan(1000);
    // Undo and class changes are edits too.
    expect(await call('edits.undo', { imageId })).toMatchObject({ ok: false, error: { code: 'BUSY' } });
    expect(await call('classes.create', { name: 'dog' })).toMatchObject({ ok: false, error: { code: 'BUSY' } });
    // Reads are not blocked at all (WAL).
    expect(await call('images.boxes', { id: imageId })).toEqual({ ok: true, value: [] });

    await lock.released;
    expect(await drawBox(call, imageId, classId)).toMatchObject({ ok: true, value: { upserted: [expect.objectContaining({ classId })] } });
    expect(await call('images.boxes', { id: imageId })).toMatchObject({ ok: true, value: [expect.anything()] });
  });

  it('during a real import in a worker: the edit answers within a second, and succeeds after the import', async () => {
    const { call, imageId, classId } = await openProject();
    const events: JobInfo[] = [];
    service!.events.on('event', (m: ApiEventMessage) => m.event === 'job' && events.push(m.data as JobInfo));
    const yaml = await writeSynthYolo(tmpDir(), { images: 4000, boxesPerImage: 10, classes: ['a', 'b'] });
    const started = (await call('dataset.import', { format: 'yolo', source: yaml })) as { ok: true; value: { jobId: string } };

    // Wait for the write phase (inside the import's transaction), then edit from the main thread.
    const writing = await new Promise<boolean>((resolve) => {
      const t = setInterval(() => {
        const last = events.at(-1);
        if (last?.phase === 'writing' || (last && last.state !== 'running')) {
          clearInterval(t);
          resolve(last.phase === 'writing' && last.state === 'running');
        }
      }, 5);
    });
    const t0 = performance.now();
    const during = await drawBox(call, imageId, classId);
    expect(performance.now() - t0).toBeLessThan(1000);
    if (!during.ok) expect(during.error).toMatchObject({ code: 'BUSY' });

    expect(await service!.jobs.wait(started.value.jobId)).toMatchObject({ state: 'done', result: { images: 4000 } });
    if (!during.ok) expect(await drawBox(call, imageId, classId)).toMatchObject({ ok: true });
    expect(await call('images.boxes', { id: imageId })).toMatchObject({ ok: true, value: [expect.anything()] });
    console.log(`edit during import: ${writing ? 'issued in the write phase' : 'import had finished'}, answered ${during.ok ? 'ok' : 'BUSY'}`);
  });
});
