import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DB_FILE, migrate, openDatabase, schemaVersion } from '../../../src/main/store/db';
import { LabelStore } from '../../../src/main/store/label-store';
import { LATEST_VERSION } from '../../../src/main/store/migrations';
import type { ImportPlan } from '../../../src/main/formats/types';
import { tmpDir } from '../../helpers/tmp';

function plan(n: number, classes = ['cat', 'dog']): ImportPlan {
  return {
    classes,
    images: Array.from({ length: n }, (_, i) => ({
      path: `images/img${i}.jpg`,
      hash: `h${i}`,
      width: 640,
      height: 480,
      split: i % 3 === 0 ? 'val' : 'train',
      labeled: i % 5 !== 4,
      boxes:
        i % 5 === 4
          ? []
          : [
              { classIndex: 0, x: 1, y: 2, w: 30, h: 40 },
              { classIndex: i % 2, x: 10.5, y: 20.25, w: 5, h: 6, attrs: { iscrowd: 1 } },
            ],
    })),
  };
}

describe('store schema', () => {
  it('creates a WAL database at the latest schema with foreign keys on', () => {
    const dir = tmpDir();
    const store = LabelStore.create(dir, 'My project');
    expect(schemaVersion(store.db)).toBe(LATEST_VERSION);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.name).toBe('My project');
    store.close();
    expect(fs.existsSync(path.join(dir, DB_FILE))).toBe(true);
  });

  it('migrating twice is a no-op and a newer schema is refused', () => {
    const dir = tmpDir();
    LabelStore.create(dir).close();
    const db = openDatabase(path.join(dir, DB_FILE));
    expect(migrate(db)).toBe(LATEST_VERSION);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    expect(() => LabelStore.open(dir)).toThrow(/newer boxtune/);
  });

  it('refuses to create over an existing project and to open a folder without one', () => {
    const dir = tmpDir();
    LabelStore.create(dir).close();
    expect(() => LabelStore.create(dir)).toThrow(expect.objectContaining({ code: 'PROJECT_EXISTS' }));
    expect(() => LabelStore.open(tmpDir())).toThrow(expect.objectContaining({ code: 'PROJECT_NOT_FOUND' }));
  });

  it('has the indexes the browser filters use', () => {
    const store = LabelStore.create(tmpDir());
    const indexes = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map(
      (r) => r.name,
    );
    expect(indexes).toEqual(expect.arrayContaining(['images_split_status', 'boxes_class_image', 'predictions_image']));
    const planText = (
      store.db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT i.* FROM images i WHERE i.split = 'train' AND i.status = 'labeled'
           AND EXISTS (SELECT 1 FROM boxes b WHERE b.image_id = i.id AND b.class_id = 1) ORDER BY i.id LIMIT 200`,
        )
        .all() as { detail: string }[]
    )
      .map((r) => r.detail)
      .join('\n');
    expect(planText).toMatch(/USING (COVERING )?INDEX images_split_status/);
    expect(planText).toMatch(/USING (COVERING )?INDEX boxes_(image_class|class_image)/);
    store.close();
  });
});

describe('LabelStore', () => {
  it('applies an import atomically and reads it back', () => {
    const store = LabelStore.create(tmpDir());
    const result = store.applyImport(plan(10));
    expect(result).toEqual({ images: 10, boxes: 16, classesAdded: ['cat', 'dog'], skippedExisting: 0 });
    const info = store.info();
    expect(info.images).toBe(10);
    expect(info.boxes).toBe(16);
    expect(info.statuses).toEqual({ unlabeled: 2, labeled: 8, reviewed: 0 });
    expect(info.splits.find((s) => s.split === 'val')).toEqual({ split: 'val', images: 4, boxes: 6 });
    const [cat, dog] = info.classes;
    expect(info.classCounts).toEqual([
      { classId: cat!.id, name: 'cat', boxes: 12 },
      { classId: dog!.id, name: 'dog', boxes: 4 },
    ]);
    const first = store.page({ limit: 1 }).items[0]!;
    expect(first).toMatchObject({ path: 'images/img0.jpg', width: 640, height: 480, split: 'val', status: 'labeled', boxCount: 2 });
    expect(store.boxes(first.id)).toEqual([
      expect.objectContaining({ classId: cat!.id, x: 1, y: 2, w: 30, h: 40, source: 'import', score: null }),
      expect.objectContaining({ classId: cat!.id, x: 10.5, y: 20.25, w: 5, h: 6, attrs: { iscrowd: 1 } }),
    ]);
    store.close();
  });

  it('skips images already in the project and merges classes by name', () => {
    const store = LabelStore.create(tmpDir());
    store.applyImport(plan(4));
    const again = store.applyImport(plan(6, ['dog', 'bird']));
    expect(again).toMatchObject({ images: 2, skippedExisting: 4, classesAdded: ['bird'] });
    expect(store.classes().map((c) => c.name)).toEqual(['cat', 'dog', 'bird']);
    store.close();
  });

  it('rolls the whole import back when cancelled mid-way', () => {
    const store = LabelStore.create(tmpDir());
    let calls = 0;
    expect(() => store.applyImport(plan(5000), { isCancelled: () => ++calls > 2 })).toThrow(
      expect.objectContaining({ code: 'JOB_CANCELLED' }),
    );
    expect(store.imageCount()).toBe(0);
    expect(store.classes()).toEqual([]);
    store.close();
  });

  it('filters pages by split, status, class, search and keeps the total', () => {
    const store = LabelStore.create(tmpDir());
    store.applyImport(plan(30));
    const dog = store.classes().find((c) => c.name === 'dog')!;
    const page = store.page({ filter: { split: 'train', status: 'labeled', classId: dog.id }, limit: 3 });
    // dog boxes are on odd i with i % 5 != 4; train is i % 3 != 0
    const expected = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 2 === 1 && i % 5 !== 4 && i % 3 !== 0);
    expect(page.total).toBe(expected.length);
    expect(page.items.map((i) => i.path)).toEqual(expected.slice(0, 3).map((i) => `images/img${i}.jpg`));
    const next = store.page({ filter: { split: 'train', status: 'labeled', classId: dog.id }, afterId: page.items[2]!.id, limit: 100 });
    expect(next.items.map((i) => i.path)).toEqual(expected.slice(3).map((i) => `images/img${i}.jpg`));
    expect(store.page({ filter: { search: 'IMG2' } }).total).toBe(11); // img2, img20..img29
    expect(store.page({ filter: { hasPredictions: true } }).total).toBe(0);
    expect(store.page({ offset: 25, limit: 10 }).items).toHaveLength(5);
    store.close();
  });

  it('keeps class counts and box counts right through edits and deletes', () => {
    const store = LabelStore.create(tmpDir());
    store.applyImport(plan(10));
    const [cat, dog] = store.classes();
    store.db.prepare('UPDATE boxes SET class_id = ? WHERE class_id = ?').run(dog!.id, cat!.id);
    expect(store.classCounts().map((c) => c.boxes)).toEqual([0, 16]);
    const img = store.page({ limit: 1 }).items[0]!;
    store.db.prepare('DELETE FROM boxes WHERE image_id = ?').run(img.id);
    expect(store.getImage(img.id).boxCount).toBe(0);
    expect(store.classCounts().map((c) => c.boxes)).toEqual([0, 14]);
    store.db.prepare('DELETE FROM classes WHERE id = ?').run(dog!.id);
    expect(store.info().boxes).toBe(0);
    store.close();
  });

  it('exports splits with class ranks and pixel boxes', () => {
    const dir = tmpDir();
    const store = LabelStore.create(dir);
    store.applyImport(plan(6));
    const ds = store.exportDataset(['val']);
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.images.map((i) => i.relPath)).toEqual(['images/img0.jpg', 'images/img3.jpg']);
    expect(ds.images[0]!.absPath).toBe(path.join(dir, 'images', 'img0.jpg'));
    expect(ds.images[1]!.boxes[1]).toEqual({ classIndex: 1, x: 10.5, y: 20.25, w: 5, h: 6, attrs: { iscrowd: 1 } });
    store.close();
  });

  it('writes are visible to a second connection only once committed (WAL)', () => {
    const dir = tmpDir();
    const store = LabelStore.create(dir);
    const reader = new Database(path.join(dir, DB_FILE), { readonly: true });
    store.applyImport(plan(3));
    expect((reader.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n).toBe(3);
    reader.close();
    store.close();
  });
});

describe('image_classes (the class filter index)', () => {
  /** Recomputes image_classes from the boxes, to compare with what import and triggers keep. */
  function derived(store: LabelStore): unknown[] {
    return store.db
      .prepare(
        `SELECT b.image_id AS image_id, b.class_id AS class_id, i.split AS split, i.status AS status, COUNT(*) AS boxes
         FROM boxes b JOIN images i ON i.id = b.image_id GROUP BY 1, 2 ORDER BY 1, 2`,
      )
      .all();
  }
  const kept = (store: LabelStore): unknown[] => store.db.prepare('SELECT * FROM image_classes ORDER BY 1, 2').all();

  it('is filled by a bulk import and kept in step by every later edit', () => {
    const store = LabelStore.create(tmpDir());
    store.applyImport(plan(20));
    expect(kept(store)).toEqual(derived(store));
    const [cat, dog] = store.classes();
    const img = store.page({ limit: 1 }).items[0]!;
    const now = Date.now();
    store.db
      .prepare("INSERT INTO boxes (image_id, class_id, x, y, w, h, source, created_at, updated_at) VALUES (?, ?, 0, 0, 5, 5, 'human', ?, ?)")
      .run(img.id, dog!.id, now, now);
    store.db.prepare('UPDATE boxes SET class_id = ? WHERE id = (SELECT MIN(id) FROM boxes WHERE image_id = ?)').run(dog!.id, img.id);
    store.db.prepare("UPDATE images SET status = 'reviewed', split = 'test' WHERE id = ?").run(img.id);
    store.db.prepare('DELETE FROM boxes WHERE id = (SELECT MAX(id) FROM boxes)').run();
    store.db.prepare('DELETE FROM images WHERE id = (SELECT MAX(id) FROM images)').run();
    expect(kept(store)).toEqual(derived(store));
    expect(store.classCounts().map((c) => c.boxes)).toEqual(
      [cat!, dog!].map((c) => (store.db.prepare('SELECT COUNT(*) AS n FROM boxes WHERE class_id = ?').get(c.id) as { n: number }).n),
    );
    // The per-box triggers are back after the import.
    const triggers = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").pluck().all();
    expect(triggers).toEqual(expect.arrayContaining(['boxes_ad', 'boxes_ai', 'boxes_au_class']));
    expect(() => store.db.prepare('UPDATE boxes SET image_id = image_id + 1 WHERE id = 1').run()).toThrow(/cannot move/);
    store.close();
  });

  it('answers a class + split + status page from one index range', () => {
    const store = LabelStore.create(tmpDir());
    store.applyImport(plan(10));
    const planText = (
      store.db
        .prepare(
          `EXPLAIN QUERY PLAN SELECT i.* FROM image_classes ic JOIN images i ON i.id = ic.image_id
           WHERE ic.class_id = 1 AND ic.split = 'train' AND ic.status = 'labeled' ORDER BY ic.image_id LIMIT 200`,
        )
        .all() as { detail: string }[]
    )
      .map((r) => r.detail)
      .join('\n');
    expect(planText).toMatch(/image_classes_filter/);
    expect(planText).not.toMatch(/TEMP B-TREE/);
    store.close();
  });
});
