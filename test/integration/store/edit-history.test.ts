/**
 * The undo history across operations it cannot replay (class delete and merge): Ctrl+Z never
 * reaches past them to older edits, and every undo/redo says what it did. Real SQLite files.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DB_FILE } from '../../../src/main/store/db';
import { MIGRATIONS } from '../../../src/main/store/migrations';
import { BoxEditor } from '../../../src/main/store/box-editor';
import { ClassManager } from '../../../src/main/store/class-manager';
import { LabelStore } from '../../../src/main/store/label-store';
import { EDIT_HISTORY_SQL } from '../../../src/main/store/edit-history';
import { tmpDir } from '../../helpers/tmp';

/** Images a (empty), b (one dog box); classes cat, dog, bird. */
function project() {
  const store = LabelStore.create(tmpDir());
  store.applyImport({
    classes: ['cat', 'dog', 'bird'],
    images: [
      { path: 'img_001.jpg', hash: 'ha', width: 100, height: 80, split: 'train', labeled: false, boxes: [] },
      { path: 'sub/img_002.jpg', hash: 'hb', width: 50, height: 50, split: 'train', labeled: true, boxes: [{ classIndex: 1, x: 5, y: 5, w: 10, h: 10 }] },
    ],
  });
  const [a, b] = store.page().items.map((i) => i.id) as [number, number];
  const [cat, dog, bird] = store.classes().map((c) => c.id) as [number, number, number];
  return { store, editor: new BoxEditor(store), classes: new ClassManager(store), a, b, cat, dog, bird };
}

const box = (classId: number, x: number) => ({ classId, x, y: 10, w: 20, h: 20 });

describe('undo across a class delete', () => {
  it("the user's scenario: two boxes drawn, a class with a box elsewhere deleted, Ctrl+Z removes nothing", () => {
    const { store, editor, classes, a, cat, dog } = project();
    editor.create(a, [box(cat, 10)]); // box A
    editor.create(a, [box(cat, 40)]); // box B
    const before = store.boxes(a);
    classes.delete(dog); // its only box is on the other image

    const undone = editor.undo(a);
    expect(store.boxes(a)).toEqual(before);
    expect(undone).toMatchObject({ upserted: [], deleted: [], canUndo: false, canRedo: false });
    expect(undone.message).toBe("Nothing to undo since the class 'dog' was deleted");
    expect(editor.state(a)).toEqual({ canUndo: false, canRedo: false });
    store.close();
  });

  it('the deleted class had a box on the same image: undo does not reach the older box', () => {
    const { store, editor, classes, a, cat, dog } = project();
    editor.create(a, [box(cat, 10)]);
    editor.create(a, [box(dog, 40)]);
    classes.delete(dog);
    const left = store.boxes(a);
    expect(left.map((b) => b.classId)).toEqual([cat]);
    expect(editor.undo(a)).toMatchObject({ deleted: [], message: "Nothing to undo since the class 'dog' was deleted" });
    expect(store.boxes(a)).toEqual(left);
    store.close();
  });

  it('a class merge is a barrier too, and the barrier holds across a reopen', () => {
    const { store, editor, classes, a, b, cat, dog } = project();
    editor.create(a, [box(cat, 10)]);
    editor.delete(b, store.boxes(b).map((x) => x.id));
    classes.merge(cat, dog);
    const root = store.root;
    store.close();
    const reopened = LabelStore.open(root);
    const ed = new BoxEditor(reopened);
    expect(ed.undo(a).message).toBe("Nothing to undo since the class 'cat' was merged into 'dog'");
    expect(ed.undo(b)).toMatchObject({ upserted: [], message: "Nothing to undo since the class 'cat' was merged into 'dog'" });
    expect(reopened.boxes(a).map((x) => x.classId)).toEqual([dog]);
    expect(reopened.boxes(b)).toEqual([]);
    reopened.close();
  });

  it('edits after the barrier undo and redo as usual, and stop at it', () => {
    const { store, editor, classes, a, cat, bird } = project();
    editor.create(a, [box(cat, 10)]);
    classes.delete(bird);
    const made = editor.create(a, [box(cat, 40)]);
    const id = made.upserted[0]!.id;
    expect(editor.undo(a)).toMatchObject({ deleted: [id], canUndo: false, canRedo: true });
    expect(editor.undo(a).deleted).toEqual([]);
    expect(store.boxes(a)).toHaveLength(1);
    expect(editor.redo(a).upserted.map((x) => x.id)).toEqual([id]);
    expect(editor.redo(a)).toMatchObject({ upserted: [], message: 'Nothing to redo' });
    store.close();
  });

  it('redo does not reach past a barrier either', () => {
    const { store, editor, classes, a, cat, bird } = project();
    editor.create(a, [box(cat, 10)]);
    editor.undo(a);
    expect(editor.state(a).canRedo).toBe(true);
    classes.delete(bird);
    expect(editor.state(a)).toEqual({ canUndo: false, canRedo: false });
    expect(editor.redo(a)).toMatchObject({ upserted: [], message: "Nothing to redo since the class 'bird' was deleted" });
    expect(store.boxes(a)).toEqual([]);
    store.close();
  });

  it('renaming, recolouring, reordering and adding classes are no barrier', () => {
    const { store, editor, classes, a, cat, dog, bird } = project();
    const made = editor.create(a, [box(cat, 10)]);
    classes.update(cat, { name: 'kitten', color: '#123456' });
    classes.reorder([bird, dog, cat]);
    classes.create('fish');
    expect(editor.undo(a)).toMatchObject({ deleted: [made.upserted[0]!.id], message: "Undid: draw box 'kitten' on img_001.jpg" });
    store.close();
  });
});

describe('undo and redo say what they did', () => {
  it('names the action, the class and the image', () => {
    const { store, editor, a, b, cat, dog } = project();
    const A = editor.create(a, [box(cat, 10)]).upserted[0]!.id;
    editor.create(a, [box(cat, 40), box(dog, 70)]);
    editor.update(a, [{ id: A, x: 12 }]);
    editor.update(a, [{ id: A, classId: dog }]);
    editor.delete(a, [A]);
    editor.setStatus(a, 'reviewed');
    expect(editor.undo(a).message).toBe('Undid: mark img_001.jpg reviewed');
    expect(editor.undo(a).message).toBe("Undid: delete box 'dog' on img_001.jpg");
    expect(editor.undo(a).message).toBe("Undid: change box 'cat' to 'dog' on img_001.jpg");
    expect(editor.undo(a).message).toBe("Undid: move box 'cat' on img_001.jpg");
    expect(editor.undo(a).message).toBe('Undid: draw 2 boxes on img_001.jpg');
    expect(editor.undo(a).message).toBe("Undid: draw box 'cat' on img_001.jpg");
    expect(editor.undo(a).message).toBe('Nothing to undo');
    expect(editor.redo(a).message).toBe("Redid: draw box 'cat' on img_001.jpg");
    expect(editor.redo(b).message).toBe('Nothing to redo');
    // An ordinary edit carries no message.
    expect(editor.create(b, [box(cat, 1)]).message).toBeUndefined();
    expect(editor.undo(b).message).toBe("Undid: draw box 'cat' on img_002.jpg");
    store.close();
  });
});

describe('history lookups cost the same at any history size', () => {
  it('every statement of an edit, undo and redo is one index seek on all its equality terms, never a scan of the log', () => {
    const { store } = project();
    const entries = Object.entries(EDIT_HISTORY_SQL);
    expect(entries.length).toBeGreaterThanOrEqual(6);
    for (const [name, sql] of entries) {
      const params = (sql.match(/\?/g) ?? []).map(() => 1);
      const lines = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
      const onEdits = lines.filter((d) => /\bedits\b/.test(d));
      // The columns the statement pins with `=`: the seek must use all of them, so it lands on
      // exactly the rows asked for (an image's undone groups) rather than walking an image's history.
      const pinned = [...sql.matchAll(/(\w+) = (?:\?|\d+)/g)].map((m) => m[1]!);
      for (const d of onEdits) {
        const m = /^SEARCH edits USING (?:COVERING )?INDEX \w+ \((.+)\)$/.exec(d);
        expect(m, `${name}: ${d}`).not.toBeNull();
        for (const col of pinned) expect(m![1], `${name}: ${d}`).toContain(`${col}=`);
      }
      expect(lines.join('; '), name).not.toMatch(/\bSCAN edits\b/);
    }
    store.close();
  });
});

describe('migration 2 (edit history)', () => {
  it('keeps a version-1 file\'s undo history working and numbers new groups after its last one', () => {
    const root = tmpDir();
    const v1 = new Database(path.join(root, DB_FILE));
    v1.exec(MIGRATIONS[0]!.sql);
    v1.pragma('user_version = 1');
    v1.exec(`INSERT INTO classes (name, color, ord) VALUES ('cat', '#ff0000', 0);
      INSERT INTO images (path, hash, width, height, added_at, updated_at) VALUES ('a.jpg', 'h', 100, 100, 0, 0);
      INSERT INTO boxes (id, image_id, class_id, x, y, w, h, source, created_at, updated_at) VALUES (7, 1, 1, 1, 1, 5, 5, 'human', 0, 0);
      INSERT INTO edits (image_id, group_id, op, box_id, before, after, source, at) VALUES
        (1, 41, 'create', 7, NULL, '{"id":7,"class_id":1,"x":1,"y":1,"w":5,"h":5,"source":"human","run_id":null,"score":null,"attrs":null,"created_at":0}', 'human', 0);`);
    v1.close();

    const store = LabelStore.open(root);
    const editor = new BoxEditor(store);
    const made = editor.create(1, [box(1, 50)]);
    expect(store.db.prepare('SELECT group_id FROM edits WHERE box_id = ?').pluck().get(made.upserted[0]!.id)).toBe(42);
    expect(editor.undo(1).message).toBe("Undid: draw box 'cat' on a.jpg");
    expect(editor.undo(1)).toMatchObject({ deleted: [7], message: "Undid: draw box 'cat' on a.jpg" });
    expect(editor.undo(1).message).toBe('Nothing to undo');
    store.close();
  });
});
