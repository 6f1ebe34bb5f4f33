/**
 * Migration 3 rebuilds the runs table (interrupted status, owner, heartbeat) under a project that
 * already has runs with predictions and model-made boxes: nothing that references a run is lost,
 * and the references still cascade afterwards.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DB_FILE, openDatabase, schemaVersion } from '../../../src/main/store/db';
import { MIGRATIONS } from '../../../src/main/store/migrations';
import { tmpDir } from '../../helpers/tmp';

describe('migration 3 (runs)', () => {
  it('keeps the runs, their predictions and boxes, and allows interrupted runs', () => {
    const file = path.join(tmpDir(), DB_FILE);
    const v1 = new Database(file);
    v1.pragma('foreign_keys = ON');
    v1.exec(MIGRATIONS[0]!.sql);
    v1.pragma('user_version = 1');
    v1.exec(`
      INSERT INTO classes (id, name, color, ord) VALUES (1, 'cat', '#fff', 0);
      INSERT INTO images (id, path, hash, width, height, added_at, updated_at) VALUES (1, 'a.jpg', 'h', 10, 10, 0, 0);
      INSERT INTO runs (id, kind, name, status, config, dir, created_at) VALUES (7, 'train', 'train', 'running', '{}', 'runs/train', 1);
      INSERT INTO predictions (run_id, image_id, class_id, x, y, w, h, score) VALUES (7, 1, 1, 0, 0, 5, 5, 0.9);
      INSERT INTO boxes (image_id, class_id, x, y, w, h, source, run_id, created_at, updated_at) VALUES (1, 1, 0, 0, 5, 5, 'model', 7, 0, 0);
    `);
    v1.close();

    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(3);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.prepare('SELECT id, name, status, owner, heartbeat_at FROM runs').all()).toEqual([
      { id: 7, name: 'train', status: 'running', owner: null, heartbeat_at: null },
    ]);
    expect(db.prepare('SELECT COUNT(*) FROM predictions WHERE run_id = 7').pluck().get()).toBe(1);
    expect(db.prepare('SELECT run_id FROM boxes').pluck().get()).toBe(7);

    db.prepare("UPDATE runs SET status = 'interrupted' WHERE id = 7").run();
    expect(() => db.prepare("UPDATE runs SET status = 'lost' WHERE id = 7").run()).toThrow(/CHECK/);
    expect(() => db.prepare('INSERT INTO predictions (run_id, image_id, class_id, x, y, w, h, score) VALUES (8, 1, 1, 0, 0, 1, 1, 1)').run()).toThrow(/FOREIGN KEY/);
    db.prepare('DELETE FROM runs WHERE id = 7').run();
    expect(db.prepare('SELECT COUNT(*) FROM predictions').pluck().get()).toBe(0);
    expect(db.prepare('SELECT run_id FROM boxes').pluck().get()).toBeNull();
    db.close();
  });
});
