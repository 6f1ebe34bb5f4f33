/**
 * @file Box edits with an undo/redo history per image, kept in the store's `edits` table so it
 * survives a restart. Each call is one transaction and one undo group: a paste of five boxes
 * undoes as one step. A new edit after an undo drops the redoable groups, as editors do. Undo and
 * redo stop at a barrier (edit-history.ts) and say what they did (undo-message.ts).
 */
import { clipRect, type Rect, type Size } from '../../shared/geometry';
import { AppError } from '../../shared/errors';
import type { BoxChange, BoxSource, EditResult, ImageRecord, ImageStatus, NewBox } from '../../shared/types';
import type { Db } from './db';
import { EditHistory, type EditOp } from './edit-history';
import type { LabelStore } from './label-store';
import { describeStep, nothingMessage } from './undo-message';

/** Boxes smaller than this (pixels, either side) after clipping are not kept. */
export const MIN_BOX_SIZE = 1;

/** The stored form of a box in the edit log (enough to recreate it exactly). */
interface BoxSnapshot {
  id: number;
  class_id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  source: BoxSource;
  run_id: number | null;
  score: number | null;
  attrs: string | null;
  created_at: number;
}

export class BoxEditor {
  private readonly db: Db;
  private readonly history: EditHistory;

  constructor(private readonly store: LabelStore) {
    this.db = store.db;
    this.history = new EditHistory(store.db);
  }

  create(imageId: number, boxes: readonly NewBox[], source: BoxSource = 'human'): EditResult {
    return this.edit(imageId, (ctx) => {
      const image = ctx.image;
      const insert = this.db.prepare(
        `INSERT INTO boxes (image_id, class_id, x, y, w, h, source, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const b of boxes) {
        this.requireClass(b.classId);
        const c = clip(b, image);
        if (!c) continue;
        const id = Number(insert.run(imageId, b.classId, c.x, c.y, c.w, c.h, source, ctx.now, ctx.now).lastInsertRowid);
        ctx.log('create', id, null, this.snapshot(id));
        ctx.upserted.add(id);
      }
      if (image.status === 'unlabeled' && ctx.upserted.size > 0) ctx.setStatus('labeled');
    });
  }

  update(imageId: number, changes: readonly BoxChange[]): EditResult {
    return this.edit(imageId, (ctx) => {
      const write = this.db.prepare('UPDATE boxes SET class_id = ?, x = ?, y = ?, w = ?, h = ?, updated_at = ? WHERE id = ?');
      for (const change of changes) {
        const before = this.boxOf(imageId, change.id);
        const classId = change.classId ?? before.class_id;
        if (change.classId !== undefined) this.requireClass(classId);
        const c = clip(
          { x: change.x ?? before.x, y: change.y ?? before.y, w: change.w ?? before.w, h: change.h ?? before.h },
          ctx.image,
        );
        if (!c) throw new AppError('INVALID_INPUT', `box ${change.id} would be smaller than ${MIN_BOX_SIZE} px inside the image`);
        if (classId === before.class_id && c.x === before.x && c.y === before.y && c.w === before.w && c.h === before.h) continue;
        write.run(classId, c.x, c.y, c.w, c.h, ctx.now, change.id);
        ctx.log('update', change.id, before, this.snapshot(change.id));
        ctx.upserted.add(change.id);
      }
    });
  }

  delete(imageId: number, ids: readonly number[]): EditResult {
    return this.edit(imageId, (ctx) => {
      const remove = this.db.prepare('DELETE FROM boxes WHERE id = ?');
      for (const id of new Set(ids)) {
        const before = this.boxOf(imageId, id);
        remove.run(id);
        ctx.log('delete', id, before, null);
        ctx.deleted.add(id);
      }
    });
  }

  /** Copies boxes of another image (all, or the given ids) onto this one, clipped to its size. */
  copyFrom(imageId: number, fromImageId: number, ids?: readonly number[]): EditResult {
    const source = this.store.boxes(fromImageId);
    const wanted = ids ? new Set(ids) : null;
    const picked = source.filter((b) => !wanted || wanted.has(b.id));
    if (wanted && picked.length !== wanted.size) {
      throw new AppError('NOT_FOUND', `some of boxes ${[...wanted].join(', ')} are not on image ${fromImageId}`);
    }
    return this.create(
      imageId,
      picked.map((b) => ({ classId: b.classId, x: b.x, y: b.y, w: b.w, h: b.h })),
    );
  }

  setStatus(imageId: number, status: ImageStatus): EditResult {
    return this.edit(imageId, (ctx) => ctx.setStatus(status));
  }

  undo(imageId: number): EditResult {
    return this.step(imageId, 'undo');
  }

  redo(imageId: number): EditResult {
    return this.step(imageId, 'redo');
  }

  state(imageId: number): { canUndo: boolean; canRedo: boolean } {
    return this.history.state(imageId);
  }

  // ---- internals ---------------------------------------------------------------------------------

  /** Runs one edit group in a transaction and returns what changed. */
  private edit(imageId: number, body: (ctx: EditContext) => void): EditResult {
    return this.db.transaction(() => {
      const image = this.store.getImage(imageId);
      const now = Date.now();
      let group = 0;
      const ctx: EditContext = {
        image,
        now,
        upserted: new Set(),
        deleted: new Set(),
        log: (op, boxId, before, after) => {
          if (group === 0) {
            // The first change of this call opens its group and ends the image's redo history.
            group = this.history.nextGroup();
            this.history.dropRedo(imageId);
          }
          this.history.log(imageId, group, op, boxId, before, after, now);
        },
        setStatus: (status) => {
          const current = this.store.getImage(imageId).status;
          if (current === status) return;
          this.db.prepare('UPDATE images SET status = ?, updated_at = ? WHERE id = ?').run(status, now, imageId);
          ctx.log('status', null, { status: current }, { status });
        },
      };
      body(ctx);
      return this.result(imageId, ctx.upserted, ctx.deleted);
    }).immediate();
  }

  private step(imageId: number, dir: 'undo' | 'redo'): EditResult {
    return this.db.transaction(() => {
      const image = this.store.getImage(imageId);
      // Undo takes the newest applied group; redo the oldest undone one; neither goes past a barrier.
      const floor = this.history.floor();
      const group = dir === 'undo' ? this.history.newestUndoable(imageId, floor) : this.history.oldestRedoable(imageId, floor);
      const upserted = new Set<number>();
      const deleted = new Set<number>();
      if (group === null) {
        const blockedBy = this.history.blocked(imageId, dir, floor) ? floor : null;
        return { ...this.result(imageId, upserted, deleted), message: nothingMessage(dir, blockedBy) };
      }
      const from = dir === 'undo' ? 0 : 1;
      const made = this.history.groupRows(imageId, group, from);
      for (const row of dir === 'undo' ? [...made].reverse() : made) {
        const target = dir === 'undo' ? row.before : row.after;
        if (row.op === 'status') {
          const { status } = JSON.parse(target!) as { status: ImageStatus };
          this.db.prepare('UPDATE images SET status = ?, updated_at = ? WHERE id = ?').run(status, Date.now(), imageId);
          continue;
        }
        const boxId = row.box_id!;
        if (target === null) {
          this.db.prepare('DELETE FROM boxes WHERE id = ?').run(boxId);
          upserted.delete(boxId);
          deleted.add(boxId);
        } else {
          this.restore(imageId, JSON.parse(target) as BoxSnapshot);
          deleted.delete(boxId);
          upserted.add(boxId);
        }
      }
      this.history.markGroup(imageId, group, from, from === 0 ? 1 : 0);
      return { ...this.result(imageId, upserted, deleted), message: describeStep(dir, made, image.path, (id) => this.className(id)) };
    }).immediate();
  }

  /** Puts a box back exactly as snapshotted (same id, so later log entries still point at it). */
  private restore(imageId: number, s: BoxSnapshot): void {
    const now = Date.now();
    const exists = this.db.prepare('SELECT 1 FROM boxes WHERE id = ?').get(s.id);
    if (exists) {
      this.db
        .prepare('UPDATE boxes SET class_id = ?, x = ?, y = ?, w = ?, h = ?, updated_at = ? WHERE id = ?')
        .run(s.class_id, s.x, s.y, s.w, s.h, now, s.id);
    } else {
      this.db
        .prepare(
          `INSERT INTO boxes (id, image_id, class_id, x, y, w, h, source, run_id, score, attrs, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(s.id, imageId, s.class_id, s.x, s.y, s.w, s.h, s.source, null, s.score, s.attrs, s.created_at, now);
    }
  }

  private result(imageId: number, upserted: Set<number>, deleted: Set<number>): EditResult {
    // Only the changed boxes: an image may hold thousands, and this runs on every edit.
    return {
      image: this.store.getImage(imageId),
      upserted: this.store.boxesById([...upserted]),
      deleted: [...deleted],
      ...this.state(imageId),
    };
  }

  private className(id: number): string {
    return (this.db.prepare('SELECT name FROM classes WHERE id = ?').pluck().get(id) as string | undefined) ?? `class ${id}`;
  }

  private snapshot(id: number): BoxSnapshot {
    return this.db
      .prepare('SELECT id, class_id, x, y, w, h, source, run_id, score, attrs, created_at FROM boxes WHERE id = ?')
      .get(id) as BoxSnapshot;
  }

  private boxOf(imageId: number, id: number): BoxSnapshot {
    const box = this.db
      .prepare('SELECT id, class_id, x, y, w, h, source, run_id, score, attrs, created_at FROM boxes WHERE id = ? AND image_id = ?')
      .get(id, imageId) as BoxSnapshot | undefined;
    if (!box) throw new AppError('NOT_FOUND', `box ${id} is not on image ${imageId}`);
    return box;
  }

  private requireClass(classId: number): void {
    if (!this.db.prepare('SELECT 1 FROM classes WHERE id = ?').get(classId)) {
      throw new AppError('NOT_FOUND', `class ${classId} does not exist`);
    }
  }
}

interface EditContext {
  image: ImageRecord;
  now: number;
  upserted: Set<number>;
  deleted: Set<number>;
  log(op: EditOp, boxId: number | null, before: object | null, after: object | null): void;
  setStatus(status: ImageStatus): void;
}

/** Clips a box to the image (the rule in src/shared/geometry.ts); null when less than MIN_BOX_SIZE is left on either side. */
export function clip(b: Rect, image: Size): Rect | null {
  return clipRect(b, image, MIN_BOX_SIZE);
}

