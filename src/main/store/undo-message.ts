/**
 * @file What an undo or redo says it did ("Undid: draw box 'cat' on img_001.jpg"), so the user
 * sees which edit Ctrl+Z reached, and why it reached none.
 */
import type { EditRow, Floor } from './edit-history';

interface Snapshot {
  class_id?: number;
  w?: number;
  h?: number;
  status?: string;
}

/** "Undid: ..." / "Redid: ..." for one group, described as the action the user made. */
export function describeStep(
  dir: 'undo' | 'redo',
  rows: readonly EditRow[],
  imagePath: string,
  className: (id: number) => string,
): string {
  const verb = dir === 'undo' ? 'Undid' : 'Redid';
  const image = imagePath.slice(imagePath.lastIndexOf('/') + 1);
  const boxRows = rows.filter((r) => r.op !== 'status');
  if (boxRows.length === 0) {
    // Only a status change (V): the status the user set.
    const status = (parse(rows[rows.length - 1]?.after ?? null).status ?? 'changed') as string;
    return `${verb}: mark ${image} ${status}`;
  }
  return `${verb}: ${describeBoxes(boxRows, className)} on ${image}`;
}

function describeBoxes(rows: readonly EditRow[], className: (id: number) => string): string {
  const n = rows.length;
  const ops = new Set(rows.map((r) => r.op));
  const cls = (json: string | null): string => `'${className(parse(json).class_id ?? 0)}'`;
  if (ops.size > 1) return `edit ${n} boxes`;
  const [row] = rows as [EditRow];
  switch (row.op) {
    case 'create':
      return n === 1 ? `draw box ${cls(row.after)}` : `draw ${n} boxes`;
    case 'delete':
      return n === 1 ? `delete box ${cls(row.before)}` : `delete ${n} boxes`;
    default: {
      if (n > 1) return `edit ${n} boxes`;
      const before = parse(row.before);
      const after = parse(row.after);
      if (before.class_id !== after.class_id) return `change box ${cls(row.before)} to ${cls(row.after)}`;
      return before.w !== after.w || before.h !== after.h ? `resize box ${cls(row.after)}` : `move box ${cls(row.after)}`;
    }
  }
}

/** Why nothing was undone: a barrier that holds older edits back, or an empty history. */
export function nothingMessage(dir: 'undo' | 'redo', blockedBy: Floor | null): string {
  const what = `Nothing to ${dir}`;
  return blockedBy?.reason ? `${what} since ${blockedBy.reason}` : what;
}

function parse(json: string | null): Snapshot {
  return json ? (JSON.parse(json) as Snapshot) : {};
}
