import { describe, expect, it } from 'vitest';
import { BoxEditor, clip } from '../../../src/main/store/box-editor';
import { ClassManager } from '../../../src/main/store/class-manager';
import { LabelStore } from '../../../src/main/store/label-store';
import { tmpDir } from '../../helpers/tmp';

function project(): { store: LabelStore; editor: BoxEditor; classes: ClassManager; a: number; b: number; cat: number; dog: number } {
  const root = tmpDir();
  const store = LabelStore.create(root);
  store.applyImport({
    classes: ['cat', 'dog'],
    images: [
      { path: 'a.jpg', hash: 'ha', width: 100, height: 80, split: 'train', labeled: false, boxes: [] },
      { path: 'b.jpg', hash: 'hb', width: 50, height: 50, split: 'train', labeled: true, boxes: [{ classIndex: 1, x: 5, y: 5, w: 10, h: 10 }] },
    ],
  });
  const [a, b] = store.page().items.map((i) => i.id) as [number, number];
  const [cat, dog] = store.classes().map((c) => c.id) as [number, number];
  return { store, editor: new BoxEditor(store), classes: new ClassManager(store), a, b, cat, dog };
}

const boxesOf = (store: LabelStore, id: number) => store.boxes(id).map((b) => [b.classId, b.x, b.y, b.w, b.h]);

describe('clip', () => {
  it('clips to the image, normalises negative sizes, and drops slivers', () => {
    expect(clip({ x: -10, y: 5, w: 30, h: 100 }, { width: 100, height: 80 })).toEqual({ x: 0, y: 5, w: 20, h: 75 });
    expect(clip({ x: 50, y: 50, w: -20, h: -10 }, { width: 100, height: 80 })).toEqual({ x: 30, y: 40, w: 20, h: 10 });
    expect(clip({ x: 99.5, y: 0, w: 10, h: 10 }, { width: 100, height: 80 })).toBeNull();
  });
});

describe('BoxEditor', () => {
  it('commits each edit at once and undoes/redoes them in order, surviving a reopen', () => {
    const { store, editor, a, cat, dog } = project();
    const created = editor.create(a, [{ classId: cat, x: 10, y: 10, w: 20, h: 20 }]);
    expect(created.upserted).toHaveLength(1);
    expect(created.image.status).toBe('labeled'); // first box labels the image
    expect(created).toMatchObject({ canUndo: true, canRedo: false, deleted: [] });
    const id = created.upserted[0]!.id;
    editor.update(a, [{ id, x: 30, w: 200 }]); // clipped to the 100 px wide image
    editor.update(a, [{ id, classId: dog }]);
    expect(boxesOf(store, a)).toEqual([[dog, 30, 10, 70, 20]]);

    // Everything is in the file: a second store on the same folder sees it, and can undo it.
    const root = store.root;
    store.close();
    const reopened = LabelStore.open(root);
    const editor2 = new BoxEditor(reopened);
    expect(editor2.undo(a).upserted.map((b) => b.classId)).toEqual([cat]);
    expect(editor2.undo(a).upserted.map((b) => [b.x, b.w])).toEqual([[10, 20]]);
    const undoneCreate = editor2.undo(a);
    expect(undoneCreate).toMatchObject({ deleted: [id], upserted: [], canUndo: false, canRedo: true });
    expect(undoneCreate.image.status).toBe('unlabeled');
    expect(editor2.undo(a)).toMatchObject({ upserted: [], deleted: [], canUndo: false });
    // Redo brings the box back with the same id, then the later edits.
    expect(editor2.redo(a).upserted.map((b) => b.id)).toEqual([id]);
    editor2.redo(a);
    editor2.redo(a);
    expect(boxesOf(reopened, a)).toEqual([[dog, 30, 10, 70, 20]]);
    expect(editor2.state(a)).toEqual({ canUndo: true, canRedo: false });
    reopened.close();
  });

  it('a new edit after an undo drops the redo history of that image only', () => {
    const { store, editor, a, b, cat } = project();
    editor.create(a, [{ classId: cat, x: 1, y: 1, w: 5, h: 5 }]);
    editor.create(b, [{ classId: cat, x: 1, y: 1, w: 5, h: 5 }]);
    editor.undo(a);
    editor.undo(b);
    editor.create(a, [{ classId: cat, x: 2, y: 2, w: 5, h: 5 }]);
    expect(editor.state(a)).toEqual({ canUndo: true, canRedo: false });
    expect(editor.state(b)).toEqual({ canUndo: false, canRedo: true });
    store.close();
  });

  it('undoes a delete of several boxes as one step, restoring ids and sources', () => {
    const { store, editor, b, cat } = project();
    editor.create(b, [
      { classId: cat, x: 20, y: 20, w: 5, h: 5 },
      { classId: cat, x: 30, y: 30, w: 5, h: 5 },
    ]);
    const before = store.boxes(b);
    const del = editor.delete(b, before.map((x) => x.id));
    expect(del.deleted.sort()).toEqual(before.map((x) => x.id).sort());
    expect(store.getImage(b).boxCount).toBe(0);
    const undone = editor.undo(b);
    expect(undone.upserted).toEqual(before);
    expect(store.boxes(b)).toEqual(before);
    expect(store.boxes(b)[0]!.source).toBe('import');
    store.close();
  });

  it('copies boxes across images, clipped to the target', () => {
    const { store, editor, a, b } = project();
    const res = editor.copyFrom(b, a); // a has no boxes
    expect(res.upserted).toEqual([]);
    editor.update(b, [{ id: store.boxes(b)[0]!.id, x: 40, w: 10 }]);
    const copied = editor.copyFrom(a, b);
    expect(copied.upserted.map((x) => [x.x, x.w, x.source])).toEqual([[40, 10, 'human']]);
    expect(() => editor.copyFrom(a, b, [999])).toThrow(/not on image/);
    store.close();
  });

  it('rejects boxes of other images and unknown classes without writing anything', () => {
    const { store, editor, a, b, cat } = project();
    const other = store.boxes(b)[0]!.id;
    expect(() => editor.update(a, [{ id: other, x: 1 }])).toThrow(/not on image/);
    expect(() => editor.create(a, [{ classId: cat, x: 1, y: 1, w: 5, h: 5 }, { classId: 999, x: 1, y: 1, w: 5, h: 5 }])).toThrow(/class 999/);
    expect(store.boxes(a)).toEqual([]);
    expect(editor.state(a)).toEqual({ canUndo: false, canRedo: false });
    store.close();
  });

  it('marks an image reviewed as an undoable step', () => {
    const { store, editor, b } = project();
    expect(editor.setStatus(b, 'reviewed').image.status).toBe('reviewed');
    expect(editor.undo(b).image.status).toBe('labeled');
    store.close();
  });
});

describe('ClassManager', () => {
  it('adds, renames, recolours and reorders', () => {
    const { store, classes, cat, dog } = project();
    const bird = classes.create('bird');
    expect(bird).toMatchObject({ name: 'bird', order: 2, color: expect.stringMatching(/^#[0-9a-f]{6}$/) });
    expect(() => classes.create(' cat ')).toThrow(/already exists/);
    expect(classes.update(cat, { name: 'kitten', color: '#123456' })).toMatchObject({ name: 'kitten', color: '#123456' });
    expect(() => classes.update(cat, { color: 'red' })).toThrow(/#rrggbb/);
    expect(classes.reorder([bird.id, dog, cat]).map((c) => c.name)).toEqual(['bird', 'dog', 'kitten']);
    expect(() => classes.reorder([bird.id, dog])).toThrow(/every class/);
    store.close();
  });

  it('merges boxes into another class; undo does not reach past the merge', () => {
    const { store, editor, classes, a, cat, dog } = project();
    editor.create(a, [{ classId: cat, x: 1, y: 1, w: 5, h: 5 }]);
    expect(classes.merge(cat, dog)).toEqual({ classId: dog, boxes: 2, images: 2 });
    expect(store.classes().map((c) => c.name)).toEqual(['dog']);
    expect(editor.undo(a)).toMatchObject({ deleted: [], message: "Nothing to undo since the class 'cat' was merged into 'dog'" });
    expect(store.boxes(a).map((b) => b.classId)).toEqual([dog]);
    store.close();
  });

  it('deletes a class with its boxes, says how many, and undo stops at the delete', () => {
    const { store, editor, classes, a, b, cat, dog } = project();
    editor.create(a, [{ classId: cat, x: 1, y: 1, w: 5, h: 5 }]);
    expect(classes.usage(dog)).toEqual({ classId: dog, boxes: 1, images: 1 });
    expect(classes.delete(cat)).toEqual({ classId: cat, boxes: 1, images: 1 });
    expect(store.boxes(a)).toEqual([]);
    expect(editor.state(a).canUndo).toBe(false);
    expect(store.boxes(b)).toHaveLength(1);
    expect(store.classes()).toEqual([expect.objectContaining({ id: dog, order: 0 })]);
    store.close();
  });
});

describe('neighbors', () => {
  it('walks the filtered order and finds the next unlabeled image', () => {
    const { store, a, b, cat } = project();
    expect(store.neighbors(a)).toEqual({ prev: null, next: b, nextUnlabeled: null, index: 0, total: 2 });
    store.db.prepare("UPDATE images SET status = 'unlabeled' WHERE id = ?").run(b);
    expect(store.neighbors(a).nextUnlabeled).toBe(b);
    expect(store.neighbors(a, { status: 'labeled' }).nextUnlabeled).toBeNull();
    store.db.prepare("UPDATE images SET status = 'labeled' WHERE id = ?").run(b);
    expect(store.neighbors(b)).toEqual({ prev: a, next: null, nextUnlabeled: null, index: 1, total: 2 });
    expect(store.neighbors(b, { classId: cat })).toMatchObject({ prev: null, next: null, total: 0 });
    store.close();
  });
});
