import { describe, expect, it } from 'vitest';
import type { JobKind, JobState, PredictionRecord } from '../../../../src/shared/types';
import { finishedPredictJobsKey, groupByClass, predictionLabel, predictionsInView } from '../../../../src/renderer/src/lib/predictions';

const pred = (id: number, x: number, y: number, classId = 1, imageId = 1): PredictionRecord => ({
  id, runId: 1, imageId, classId, score: 0.5, x, y, w: 10, h: 10,
});

describe('predictionLabel', () => {
  it('shows the class name and the score to two decimals', () => {
    expect(predictionLabel('person', 0.8749)).toBe('person 0.87');
    expect(predictionLabel('car', 1)).toBe('car 1.00');
    expect(predictionLabel('x', 0.005)).toBe('x 0.01');
  });

  it('cuts a long class name but keeps the score', () => {
    const text = predictionLabel('a'.repeat(40), 0.5);
    expect(text).toBe(`${'a'.repeat(23)}… 0.50`);
  });
});

describe('predictionsInView', () => {
  const view = { x: 0, y: 0, w: 100, h: 100 };

  it('keeps this image’s predictions that overlap the view, of classes not hidden', () => {
    const preds = [pred(1, 5, 5), pred(2, 95, 95), pred(3, 200, 5), pred(4, -20, 5), pred(5, 5, 5, 2), pred(6, 5, 5, 1, 9)];
    const shown = predictionsInView(preds, 1, view, (c) => c === 2);
    expect(shown.map((p) => p.id)).toEqual([1, 2]);
  });

  it('draws nothing for another image', () => {
    expect(predictionsInView([pred(1, 5, 5)], 2, view, () => false)).toEqual([]);
  });
});

describe('groupByClass', () => {
  it('groups by class, keeping order within a class', () => {
    const groups = groupByClass([pred(1, 0, 0, 1), pred(2, 0, 0, 2), pred(3, 0, 0, 1)]);
    expect([...groups.keys()]).toEqual([1, 2]);
    expect(groups.get(1)?.map((p) => p.id)).toEqual([1, 3]);
  });
});

describe('finishedPredictJobsKey', () => {
  const job = (id: string, kind: JobKind, state: JobState) => ({ id, kind, state });

  it('changes when a predict job ends, not for other jobs or while it runs', () => {
    const running = finishedPredictJobsKey([job('a', 'predict', 'running'), job('b', 'import', 'done')]);
    expect(running).toBe('');
    const done = finishedPredictJobsKey([job('a', 'predict', 'done'), job('b', 'import', 'done')]);
    expect(done).not.toBe(running);
    expect(finishedPredictJobsKey([job('a', 'predict', 'done'), job('c', 'train', 'done')])).toBe(done);
    expect(finishedPredictJobsKey([job('a', 'predict', 'done'), job('d', 'predict', 'failed')])).not.toBe(done);
  });
});
