/**
 * @file The class list: add, rename, recolour, reorder, merge and delete. Order matters: a class's
 * rank is its YOLO id on export. Merge and delete change boxes on many images without logging
 * them, so each is a barrier in the undo history: Ctrl+Z after one never reaches an older edit.
 */
import { AppError } from '../../shared/errors';
import type { ClassRecord, ClassUsage } from '../../shared/types';
import { classColor } from './colors';
import type { Db } from './db';
import { EditHistory } from './edit-history';
import type { LabelStore } from './label-store';

const COLOR = /^#[0-9a-f]{6}$/i;

export class ClassManager {
  private readonly db: Db;

  constructor(private readonly store: LabelStore) {
    this.db = store.db;
  }

  create(name: string, color?: string): ClassRecord {
    const clean = this.checkName(name);
    if (color !== undefined) checkColor(color);
    const ord = this.db.prepare('SELECT COALESCE(MAX(ord) + 1, 0) FROM classes').pluck().get() as number;
    const id = Number(
      this.db.prepare('INSERT INTO classes (name, color, ord) VALUES (?, ?, ?)').run(clean, color ?? classColor(ord), ord).lastInsertRowid,
    );
    return this.get(id);
  }

  update(id: number, changes: { name?: string; color?: string }): ClassRecord {
    const current = this.get(id);
    const name = changes.name === undefined ? current.name : this.checkName(changes.name, id);
    const color = changes.color ?? current.color;
    checkColor(color);
    this.db.prepare('UPDATE classes SET name = ?, color = ? WHERE id = ?').run(name, color, id);
    return this.get(id);
  }

  /** Sets the order to `ids` (every class exactly once). */
  reorder(ids: readonly number[]): ClassRecord[] {
    const all = this.store.classes();
    const given = new Set(ids);
    if (given.size !== ids.length || ids.length !== all.length || all.some((c) => !given.has(c.id))) {
      throw new AppError('INVALID_INPUT', `reorder needs every class id exactly once (${all.length} classes)`);
    }
    const stmt = this.db.prepare('UPDATE classes SET ord = ? WHERE id = ?');
    this.db.transaction(() => ids.forEach((id, i) => stmt.run(i, id)))();
    return this.store.classes();
  }

  usage(id: number): ClassUsage {
    this.get(id);
    const boxes = this.db.prepare('SELECT boxes FROM class_counts WHERE class_id = ?').pluck().get(id) as number;
    const images = this.db.prepare('SELECT COUNT(*) FROM image_classes WHERE class_id = ?').pluck().get(id) as number;
    return { classId: id, boxes, images };
  }

  /** Moves every box of `sourceId` to `targetId`, then removes `sourceId`. */
  merge(sourceId: number, targetId: number): ClassUsage {
    if (sourceId === targetId) throw new AppError('INVALID_INPUT', 'a class cannot be merged into itself');
    const source = this.get(sourceId);
    const target = this.get(targetId);
    this.db.transaction(() => {
      this.db.prepare('UPDATE boxes SET class_id = ?, updated_at = ? WHERE class_id = ?').run(targetId, Date.now(), sourceId);
      this.db.prepare('DELETE FROM classes WHERE id = ?').run(sourceId);
      new EditHistory(this.db).barrier(`the class '${source.name}' was merged into '${target.name}'`);
    }).immediate();
    return this.usage(targetId);
  }

  /** Deletes the class and its boxes; returns what was removed. */
  delete(id: number): ClassUsage {
    const { name } = this.get(id);
    const removed = this.usage(id);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM classes WHERE id = ?').run(id);
      new EditHistory(this.db).barrier(`the class '${name}' was deleted`);
      // Close the gap in the order.
      const stmt = this.db.prepare('UPDATE classes SET ord = ? WHERE id = ?');
      this.store.classes().forEach((c, i) => stmt.run(i, c.id));
    }).immediate();
    return removed;
  }

  private get(id: number): ClassRecord {
    const c = this.store.classes().find((k) => k.id === id);
    if (!c) throw new AppError('NOT_FOUND', `class ${id} does not exist`);
    return c;
  }

  private checkName(name: string, selfId?: number): string {
    const clean = name.trim();
    if (!clean) throw new AppError('INVALID_INPUT', 'a class needs a name');
    const clash = this.db.prepare('SELECT id FROM classes WHERE name = ?').pluck().get(clean) as number | undefined;
    if (clash !== undefined && clash !== selfId) throw new AppError('CONFLICT', `a class named "${clean}" already exists`);
    return clean;
  }
}

function checkColor(color: string): void {
  if (!COLOR.test(color)) throw new AppError('INVALID_INPUT', `colour must look like #rrggbb, not "${color}"`);
}
