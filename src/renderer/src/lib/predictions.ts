/**
 * @file Pure helpers for the model's predictions in the Label view: the overlay's label text,
 * which predictions a frame draws, and when a finished 'predict' job means they must be re-read.
 * No DOM, no Svelte: unit-tested in Node.
 */
import type { JobInfo, PredictionRecord } from '../../../shared/types';

export interface ViewRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** "person 0.87": the class name and the score to two decimals (long names cut with an ellipsis). */
export function predictionLabel(name: string, score: number): string {
  const short = name.length > 24 ? `${name.slice(0, 23)}…` : name;
  return `${short} ${score.toFixed(2)}`;
}

/**
 * The predictions a frame draws: of this image, of a class not hidden, and overlapping the part
 * of the image on screen (`visible`, in image pixels).
 */
export function predictionsInView(
  preds: readonly PredictionRecord[],
  imageId: number,
  visible: ViewRect,
  isHidden: (classId: number) => boolean,
): PredictionRecord[] {
  const x2 = visible.x + visible.w;
  const y2 = visible.y + visible.h;
  return preds.filter(
    (p) => p.imageId === imageId && p.x <= x2 && p.y <= y2 && p.x + p.w >= visible.x && p.y + p.h >= visible.y && !isHidden(p.classId),
  );
}

/** Predictions grouped by class, so each class's outlines are stroked as one path. */
export function groupByClass(preds: readonly PredictionRecord[]): Map<number, PredictionRecord[]> {
  const groups = new Map<number, PredictionRecord[]>();
  for (const p of preds) {
    const list = groups.get(p.classId);
    if (list) list.push(p);
    else groups.set(p.classId, [p]);
  }
  return groups;
}

/** A job that writes predictions (train.predict's). */
export function isPredictJob(job: Pick<JobInfo, 'kind'>): boolean {
  return job.kind === 'predict';
}

/**
 * A key that changes whenever a 'predict' job ends (done, failed or cancelled; only a done one
 * wrote anything, as it writes in one transaction, but a re-read costs one query). The Label view
 * re-reads the image's predictions when it changes.
 */
export function finishedPredictJobsKey(jobs: readonly Pick<JobInfo, 'id' | 'kind' | 'state'>[]): string {
  return jobs
    .filter((j) => isPredictJob(j) && j.state !== 'running')
    .map((j) => `${j.id}:${j.state}`)
    .join(',');
}
