/**
 * @file The bookkeeping of the undo log (`edits`): group numbers, each image's newest undoable and
 * oldest redoable group, and barriers. Every lookup is one seek in the one-row `edit_history`
 * table or the `edits_history (image_id, undone, group_id)` index, so an edit costs the same at
 * 0 and 1M history rows.
 *
 * A barrier is an operation the log cannot replay (a class delete or merge changes boxes on many
 * images without logging them). Undo and redo never reach a group made before the newest barrier:
 * the groups stay in the file but are out of reach, so Ctrl+Z can never undo an older, unrelated
 * edit after it, and the answer says why there is nothing to undo.
 */
import type Database from 'better-sqlite3';
import type { Db } from './db';

type Stmt = Database.Statement<unknown[]>;

export type EditOp = 'create' | 'update' | 'delete' | 'status';

export interface EditRow {
  id: number;
  image_id: number;
  group_id: number;
  op: EditOp;
  box_id: number | null;
  before: string | null;
  after: string | null;
}

/** The statements that run on every edit, undo and redo (a test checks each one's query plan). */
export const EDIT_HISTORY_SQL = {
  nextGroup: 'UPDATE edit_history SET last_group = last_group + 1 RETURNING last_group',
  floor: 'SELECT floor_group AS "group", floor_reason AS reason FROM edit_history',
  newestUndoable: 'SELECT MAX(group_id) FROM edits WHERE image_id = ? AND undone = 0 AND group_id > ?',
  oldestRedoable: 'SELECT MIN(group_id) FROM edits WHERE image_id = ? AND undone = 1 AND group_id > ?',
  blockedByFloor: 'SELECT 1 FROM edits WHERE image_id = ? AND undone = ? AND group_id <= ? LIMIT 1',
  groupRows: 'SELECT * FROM edits WHERE image_id = ? AND undone = ? AND group_id = ? ORDER BY id',
  markGroup: 'UPDATE edits SET undone = ? WHERE image_id = ? AND undone = ? AND group_id = ?',
  dropRedo: 'DELETE FROM edits WHERE image_id = ? AND undone = 1',
} as const;

const INSERT_SQL = `INSERT INTO edits (image_id, group_id, op, box_id, before, after, source, at)
  VALUES (?, ?, ?, ?, ?, ?, 'human', ?)`;

export interface Floor {
  /** Groups at or below this are out of reach. */
  group: number;
  /** What the barrier was ("the class 'dog' was deleted"); null when there never was one. */
  reason: string | null;
}

export class EditHistory {
  private readonly sql: { [K in keyof typeof EDIT_HISTORY_SQL]: Stmt };
  private readonly insert: Stmt;

  constructor(private readonly db: Db) {
    this.sql = Object.fromEntries(Object.entries(EDIT_HISTORY_SQL).map(([k, s]) => [k, db.prepare<unknown[]>(s)])) as EditHistory['sql'];
    this.insert = db.prepare<unknown[]>(INSERT_SQL);
  }

  /** A new undo group number (one counter row, not MAX over the log). */
  nextGroup(): number {
    return this.sql.nextGroup.pluck().get() as number;
  }

  floor(): Floor {
    return this.sql.floor.get() as Floor;
  }

  /** The group Ctrl+Z undoes on this image, or null. */
  newestUndoable(imageId: number, floor = this.floor()): number | null {
    return this.sql.newestUndoable.pluck().get(imageId, floor.group) as number | null;
  }

  /** The group redo applies again on this image, or null. */
  oldestRedoable(imageId: number, floor = this.floor()): number | null {
    return this.sql.oldestRedoable.pluck().get(imageId, floor.group) as number | null;
  }

  state(imageId: number): { canUndo: boolean; canRedo: boolean } {
    const floor = this.floor();
    return { canUndo: this.newestUndoable(imageId, floor) !== null, canRedo: this.oldestRedoable(imageId, floor) !== null };
  }

  /** True when this image has groups to undo (or redo) that a barrier put out of reach. */
  blocked(imageId: number, dir: 'undo' | 'redo', floor = this.floor()): boolean {
    return this.sql.blockedByFloor.get(imageId, dir === 'undo' ? 0 : 1, floor.group) !== undefined;
  }

  /** The rows of one group in the order they were made. */
  groupRows(imageId: number, group: number, undone: 0 | 1): EditRow[] {
    return this.sql.groupRows.all(imageId, undone, group) as EditRow[];
  }

  markGroup(imageId: number, group: number, from: 0 | 1, to: 0 | 1): void {
    this.sql.markGroup.run(to, imageId, from, group);
  }

  /** A new edit ends the redo history of its image, as editors do. */
  dropRedo(imageId: number): void {
    this.sql.dropRedo.run(imageId);
  }

  log(imageId: number, group: number, op: EditOp, boxId: number | null, before: object | null, after: object | null, at: number): void {
    this.insert.run(imageId, group, op, boxId, before && JSON.stringify(before), after && JSON.stringify(after), at);
  }

  /**
   * Puts every group made so far out of reach of undo and redo. Call it inside the transaction of
   * the operation the log cannot replay; `reason` completes "Nothing to undo since ...".
   */
  barrier(reason: string): void {
    this.db.prepare('UPDATE edit_history SET floor_group = last_group, floor_reason = ?').run(reason);
  }
}
