/**
 * @file A run's predictions in the store: kept in their own table, apart from the labels, so
 * reviewing them never changes a label by itself. Written per run a chunk of images at a time (a
 * re-run of the same model replaces, image by image, what it wrote before), read per image.
 */
import type { PredictionRecord, Split } from '../../shared/types';
import type { LabelStore } from './label-store';

/** A prediction to store: the run and the row id come from where it is written. */
export type NewPrediction = Omit<PredictionRecord, 'id' | 'runId'>;

/** The images of a split, as the predict job needs them. */
export function splitImages(store: LabelStore, split: Split): { id: number; absPath: string }[] {
  const rows = store.db.prepare('SELECT id, path FROM images WHERE split = ? ORDER BY id').all(split) as { id: number; path: string }[];
  return rows.map((r) => ({ id: r.id, absPath: store.absolutePath(r.path) }));
}

/** Replaces the run's predictions on these images with `rows`, in one transaction. */
export function replacePredictions(store: LabelStore, runId: number, imageIds: readonly number[], rows: readonly NewPrediction[]): void {
  const del = store.db.prepare('DELETE FROM predictions WHERE run_id = ? AND image_id = ?');
  const ins = store.db.prepare('INSERT INTO predictions (run_id, image_id, class_id, x, y, w, h, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  store.db.transaction(() => {
    for (const id of imageIds) del.run(runId, id);
    for (const p of rows) ins.run(runId, p.imageId, p.classId, p.x, p.y, p.w, p.h, p.score);
  })();
}

/** The newest run's predictions for an image, best score first ([] when no run predicted it). */
export function imagePredictions(store: LabelStore, imageId: number): PredictionRecord[] {
  const newest = store.db.prepare('SELECT MAX(run_id) AS run FROM predictions WHERE image_id = ?').get(imageId) as { run: number | null };
  if (newest.run === null) return [];
  return store.db
    .prepare(
      'SELECT id, run_id AS runId, image_id AS imageId, class_id AS classId, score, x, y, w, h FROM predictions WHERE image_id = ? AND run_id = ? ORDER BY score DESC',
    )
    .all(imageId, newest.run) as PredictionRecord[];
}
