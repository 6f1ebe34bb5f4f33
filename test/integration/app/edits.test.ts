/**
 * Box edits and undo through the dispatcher, as the UI calls them, on a real project file.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatcher, type Dispatch } from '../../../src/main/app/dispatch';
import { BoxtuneService } from '../../../src/main/app/service';
import { LabelStore } from '../../../src/main/store/label-store';
import type { BoxRecord, EditResult } from '../../../src/shared/types';
import { tmpDir } from '../../helpers/tmp';

let service: BoxtuneService | null = null;
afterEach(async () => {
  await service?.close();
  service = null;
});

/** A project on disk with img_001.jpg (empty) and img_002.jpg (one dog box), opened by a service. */
async function openProject(): Promise<{ call: Dispatch; a: number; b: number; cat: number; dog: number }> {
  const root = path.join(tmpDir(), 'project');
  const store = LabelStore.create(root);
  store.applyImport({
    classes: ['cat', 'dog'],
    images: [
      { path: 'img_001.jpg', hash: 'ha', width: 100, height: 80, split: 'train', labeled: false, boxes: [] },
      { path: 'img_002.jpg', hash: 'hb', width: 50, height: 50, split: 'train', labeled: true, boxes: [{ classIndex: 1, x: 5, y: 5, w: 10, h: 10 }] },
    ],
  });
  const [a, b] = store.page().items.map((i) => i.id) as [number, number];
  const [cat, dog] = store.classes().map((c) => c.id) as [number, number];
  store.close();
  service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir('boxtune-data-') });
  const call = createDispatcher(service);
  expect(await call('project.open', { dir: root })).toMatchObject({ ok: true });
  return { call, a, b, cat, dog };
}

async function ok<T>(p: Promise<{ ok: boolean; value?: unknown; error?: unknown }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value as T;
}

describe('undo through the Api', () => {
  it('Ctrl+Z after a class delete removes no older box and says why', async () => {
    const { call, a, cat, dog } = await openProject();
    await ok(call('boxes.create', { imageId: a, boxes: [{ classId: cat, x: 10, y: 10, w: 20, h: 20 }] }));
    await ok(call('boxes.create', { imageId: a, boxes: [{ classId: cat, x: 40, y: 10, w: 20, h: 20 }] }));
    const before = await ok<BoxRecord[]>(call('images.boxes', { id: a }));
    expect(before).toHaveLength(2);
    await ok(call('classes.delete', { id: dog }));

    const undone = await ok<EditResult>(call('edits.undo', { imageId: a }));
    expect(undone).toMatchObject({ deleted: [], upserted: [], canUndo: false, message: "Nothing to undo since the class 'dog' was deleted" });
    expect(await ok<BoxRecord[]>(call('images.boxes', { id: a }))).toEqual(before);
    expect(await ok(call('edits.state', { imageId: a }))).toEqual({ canUndo: false, canRedo: false });

    // A box drawn afterwards undoes as usual, and the answer names it.
    await ok(call('boxes.create', { imageId: a, boxes: [{ classId: cat, x: 70, y: 10, w: 20, h: 20 }] }));
    const third = await ok<EditResult>(call('edits.undo', { imageId: a }));
    expect(third.message).toBe("Undid: draw box 'cat' on img_001.jpg");
    expect(third.deleted).toHaveLength(1);
    expect(await ok<BoxRecord[]>(call('images.boxes', { id: a }))).toEqual(before);
  });
});
