import { describe, expect, it } from 'vitest';
import type { TrainEpochRow, TrainProgress, TrainRunSummary, ZooModel } from '../../../../src/shared/types';
import { formatEta } from '../../../../src/renderer/src/lib/format';
import {
  appendPoint,
  autoHint,
  csvFileName,
  defaultForm,
  defaultSource,
  formatLr,
  formatMetric,
  lossColumns,
  lrColumns,
  mapColumns,
  mergeRows,
  predictOptimizer,
  reduceProgress,
  requestFromForm,
  resolveModel,
  resumeAction,
  resumeRequest,
  runFraction,
  sortPerClass,
  sortZoo,
  stoppedEarly,
  valSplitRatios,
  type BatchPoint,
  type LiveRun,
} from '../../../../src/renderer/src/stores/train-model';

const row = (epoch: number, over: Partial<TrainEpochRow> = {}): TrainEpochRow => ({
  epoch, time: 1, trainLosses: [3, 2, 1], precision: 0.5, recall: 0.4, mAP50: 0.3, mAP50_95: 0.2, fitness: 0.21,
  valLosses: [2.5, 1.5, 0.5], lr: [0.001, 0.001, 0.01], ...over,
});
const batch = (epoch: number, b: number, batches = 4, runId = 1): TrainProgress => ({
  runId, type: 'batch', epoch, epochs: 2, batch: b, batches, losses: [b, b / 2, b / 4], lr: [0.1 * b, 0.2, 0.3], imagesPerSec: 8, etaSec: 30 - b,
});
const fold = (events: TrainProgress[], from: LiveRun | null = null): LiveRun => events.reduce<LiveRun | null>((r, e) => reduceProgress(r, e), from)!;
const summary = (over: Partial<TrainRunSummary> = {}): TrainRunSummary => ({
  id: 3, name: 'train3', status: 'done', createdAt: 0, finishedAt: 1, epochs: 10, epochsDone: 10, bestMAP50_95: 0.4, bestMAP50: 0.6, dir: 'runs/train3', ...over,
});
const zoo = (name: string, cached: boolean): ZooModel => ({
  name, file: `${name}.pt`, family: 'yolo11', scale: name.at(-1)!, params: 2.6e6, nc: 80, size: 5.4e6, url: 'https://x', cached, ...(cached ? { path: `/cache/${name}.pt` } : {}),
});

describe('reduceProgress', () => {
  const start: TrainProgress = { runId: 1, type: 'start', backend: 'wasm', backendReasons: ['tensorflow: not installed'], optimizer: 'auto: 2 iterations <= 10000, so AdamW(lr=0.001429, momentum=0.9)', trainImages: 48, valImages: 12, epochs: 2, startEpoch: 0, warnings: ['yolo11n-coco.pt has its BatchNorm folded'] };

  it('folds a run: start, batches, validation, epoch, done', () => {
    const r = fold([start, batch(1, 1), batch(1, 2)]);
    expect(r).toMatchObject({ phase: 'training', epoch: 1, batch: 2, batches: 4, backend: 'wasm', etaSec: 28, losses: [2, 1, 0.5], warnings: ['yolo11n-coco.pt has its BatchNorm folded'] });
    expect(r.points.map((p) => p.x)).toEqual([0.25, 0.5]);

    const v = fold([{ runId: 1, type: 'validating', epoch: 1, done: 1, total: 3 }], r);
    expect(v).toMatchObject({ phase: 'validating', validating: { done: 1, total: 3 } });

    const e = fold([{ runId: 1, type: 'epoch', row: row(1), best: true }], v);
    expect(e).toMatchObject({ phase: 'training', validating: null, bestEpoch: 1 });
    expect(e.rows).toHaveLength(1);

    const d = fold([{ runId: 1, type: 'done', stoppedEarly: true }], e);
    expect(d).toMatchObject({ phase: 'done', stoppedEarly: true, etaSec: 0 });
    expect(runFraction(d)).toBe(1);
  });

  it('never mutates the run it is given', () => {
    const r = fold([start, batch(1, 1)]);
    const frozen = JSON.stringify(r);
    reduceProgress(r, batch(1, 2));
    reduceProgress(r, { runId: 1, type: 'epoch', row: row(1), best: false });
    expect(JSON.stringify(r)).toBe(frozen);
  });

  it('starts over when events of another run arrive (the view joined mid-run)', () => {
    const r = fold([start, batch(1, 3)]);
    const other = reduceProgress(r, batch(2, 1, 4, 9));
    expect(other.runId).toBe(9);
    expect(other.points).toHaveLength(1);
    expect(other.epoch).toBe(2);
  });

  it('replaces an epoch row that comes again (a resumed epoch)', () => {
    const r = fold([
      { runId: 1, type: 'epoch', row: row(1, { mAP50: 0.1 }), best: true },
      { runId: 1, type: 'epoch', row: row(2), best: false },
      { runId: 1, type: 'epoch', row: row(1, { mAP50: 0.5 }), best: true },
    ]);
    expect(r.rows.map((x) => [x.epoch, x.mAP50])).toEqual([[1, 0.5], [2, 0.3]]);
  });
});

describe('run fraction', () => {
  it('counts finished epochs plus the share of the current one', () => {
    const r = fold([batch(2, 1)]);
    expect(runFraction({ ...r, epochs: 2 })).toBeCloseTo((1 + 0.25) / 2);
    expect(runFraction({ ...r, epochs: 0 })).toBe(0);
  });
});

describe('chart columns', () => {
  it('puts batch points and epoch rows on one x axis; the epoch row wins at its x', () => {
    const points: BatchPoint[] = [
      { x: 0.5, losses: [4, 3, 2], lr: [0.01, 0.02, 0.03] },
      { x: 1, losses: [9, 9, 9], lr: [0.01, 0.02, 0.03] },
      { x: 1.5, losses: [2, 1, 1], lr: [0.005, 0.005, 0.005] },
    ];
    const loss = lossColumns(points, [row(1)]);
    expect(loss[0]).toEqual([0.5, 1, 1.5]);
    expect(loss[1]).toEqual([4, 3, 2]); // train box: row 1 replaced the batch's running mean at x = 1
    expect(loss[4]).toEqual([null, 2.5, null]); // val box only at the epoch
    expect(loss).toHaveLength(7);

    const lr = lrColumns(points, [row(1)]);
    expect(lr[1]).toEqual([0.01, 0.001, 0.005]);
  });

  it('leaves val losses out of epochs that were not validated', () => {
    const loss = lossColumns([], [row(1, { valLosses: [0, 0, 0], mAP50: 0 }), row(2)]);
    expect(loss[4]).toEqual([null, 2.5]);
  });

  it('gives mAP per epoch, empty before the first epoch', () => {
    expect(mapColumns([row(2, { mAP50: 0.7 }), row(1)])).toEqual([[1, 2], [0.3, 0.7], [0.2, 0.2]]);
    expect(mapColumns([])).toEqual([[], [], []]);
  });

  it('keeps at most max points by halving the older ones', () => {
    let pts: BatchPoint[] = [];
    for (let i = 1; i <= 25; i++) pts = appendPoint(pts, { x: i, losses: [0, 0, 0], lr: [0, 0, 0] }, 10);
    expect(pts.length).toBeLessThanOrEqual(10);
    expect(pts.at(-1)!.x).toBe(25);
    expect(pts.map((p) => p.x)).toEqual([...pts.map((p) => p.x)].sort((a, b) => a - b));
  });

  it('merges stored and live rows by epoch', () => {
    expect(mergeRows([row(1), row(2)], [row(2, { mAP50: 0.9 }), row(3)]).map((r) => [r.epoch, r.mAP50])).toEqual([[1, 0.3], [2, 0.9], [3, 0.3]]);
  });
});

describe('optimizer=auto', () => {
  it('predicts AdamW fitted to nc for short runs, as Ultralytics does', () => {
    expect(predictOptimizer({ trainImages: 100, batch: 16, epochs: 50, nc: 7 })).toEqual({ name: 'AdamW', lr: 0.000909, momentum: 0.9, iterations: 100 });
    expect(predictOptimizer({ trainImages: 48, batch: 16, epochs: 50, nc: 3 }).lr).toBe(0.001429);
    expect(autoHint({ trainImages: 100, batch: 16, epochs: 50, nc: 7 })).toContain('AdamW(lr≈0.000909');
  });

  it('predicts SGD(0.01) past 10,000 iterations', () => {
    // 6400 images at nominal batch 64: 100 iterations an epoch, 101 epochs -> 10,100.
    expect(predictOptimizer({ trainImages: 6400, batch: 16, epochs: 101, nc: 3 })).toMatchObject({ name: 'SGD', lr: 0.01, iterations: 10_100 });
    expect(autoHint({ trainImages: 6400, batch: 16, epochs: 101, nc: 3 })).toContain('SGD(lr=0.01');
  });
});

describe('form and requests', () => {
  it('preselects a downloaded zoo model, else yolo11n to download, else a file', () => {
    expect(defaultSource(sortZoo([zoo('yolo11n', false), zoo('yolo11s', true)]))).toBe('zoo:yolo11s');
    expect(sortZoo([zoo('yolo11n', false), zoo('yolo11s', true)]).map((m) => m.name)).toEqual(['yolo11s', 'yolo11n']);
    expect(defaultSource([zoo('yolov8n', false), zoo('yolo11n', false)])).toBe('zoo:yolo11n');
    expect(defaultSource([])).toBe('file');
  });

  it('resolves the model to send, or says why it cannot', () => {
    const models = [zoo('yolo11n', true), zoo('yolo11s', false)];
    expect(resolveModel({ source: 'zoo:yolo11n', path: '' }, models)).toEqual({ model: '/cache/yolo11n.pt' });
    expect(resolveModel({ source: 'zoo:yolo11s', path: '' }, models)).toEqual({ error: expect.stringContaining('not downloaded') });
    expect(resolveModel({ source: 'run:4', path: '' }, models)).toEqual({ model: 'run:4' });
    expect(resolveModel({ source: 'file', path: '  /m/best.safetensors ' }, models)).toEqual({ model: '/m/best.safetensors' });
    expect(resolveModel({ source: 'file', path: '/m/model.onnx' }, models)).toHaveProperty('error');
    expect(resolveModel({ source: 'file', path: '' }, models)).toHaveProperty('error');
  });

  it('sends every visible setting', () => {
    const form = { ...defaultForm(), epochs: 1, imgsz: 64, batch: 4, device: 'wasm' as const };
    expect(requestFromForm(form, '/m/x.pt')).toEqual({
      model: '/m/x.pt', epochs: 1, imgsz: 64, batch: 4, freeze: 0, optimizer: 'auto', lr0: 0.01, patience: 100, cosLr: false, closeMosaic: 10, seed: 0, device: 'wasm',
    });
    expect(defaultForm()).toMatchObject({ epochs: 50, imgsz: 640, batch: 16, freeze: 0, optimizer: 'auto' });
  });

  it('resumes with the settings the run started with (auto stays auto)', () => {
    const config = {
      model: '/m/x.pt', data: '/p', epochs: 10, imgsz: 320, batch: 8, freeze: 3, lr0: 0.01, cos_lr: true, close_mosaic: 2, seed: 1, device: 'wasm',
      optimizer: 'AdamW', lr: 0.001429, momentum: 0.9, optimizerReason: 'auto: 20 iterations <= 10000, so AdamW(...)', backend: 'wasm',
    };
    expect(resumeRequest({ id: 3, config })).toEqual({
      model: '/m/x.pt', resumeRunId: 3, epochs: 10, imgsz: 320, batch: 8, freeze: 3, lr0: 0.01, closeMosaic: 2, seed: 1, cosLr: true, optimizer: 'auto', device: 'wasm',
    });
    expect(resumeRequest({ id: 3, config: { ...config, optimizerReason: 'optimizer=SGD as requested', optimizer: 'SGD' } }, 25)).toMatchObject({ optimizer: 'SGD', epochs: 25 });
  });

  it('offers resume for stopped or interrupted runs and extend for finished ones', () => {
    expect(resumeAction(summary(), false)).toBe('extend');
    expect(resumeAction(summary({ status: 'cancelled', epochsDone: 2 }), false)).toBe('resume');
    expect(resumeAction(summary({ status: 'interrupted', epochsDone: 0 }), false)).toBe('resume');
    expect(resumeAction(summary({ status: 'interrupted', epochsDone: 3 }), false)).toBe('resume');
    // Still training, in this window or another process: neither resumed nor extended.
    expect(resumeAction(summary({ status: 'running' }), true)).toBeNull();
    expect(resumeAction(summary({ status: 'running', epochsDone: 2 }), false)).toBeNull();
    expect(resumeAction(summary({ status: 'failed', epochsDone: 0 }), false)).toBeNull();
  });

  it('tells an early stop apart from a finished run', () => {
    expect(stoppedEarly(summary({ epochsDone: 6 }), null)).toBe(true);
    expect(stoppedEarly(summary(), null)).toBe(false);
    const live = { ...fold([{ runId: 3, type: 'done', stoppedEarly: false }]) };
    expect(stoppedEarly(summary({ epochsDone: 6 }), live)).toBe(false);
  });

  it('splits 20% of the non-test images off to val', () => {
    const r = valSplitRatios({ images: 100, splits: [{ split: 'train', images: 90, boxes: 0 }, { split: 'test', images: 10, boxes: 0 }] });
    expect(r.train).toBeCloseTo(0.72);
    expect(r.val).toBeCloseTo(0.18);
    expect(r.test).toBeCloseTo(0.1);
  });
});

describe('formatting', () => {
  it('formats the ETA as mm:ss (h:mm:ss past an hour)', () => {
    expect(formatEta(75)).toBe('01:15');
    expect(formatEta(3725)).toBe('1:02:05');
    expect(formatEta(null)).toBe('--:--');
  });

  it('formats metrics, learning rates and the csv name', () => {
    expect(formatMetric(0.12345)).toBe('0.123');
    expect(formatMetric(null)).toBe('-');
    expect(formatLr(0.000909)).toBe('0.000909');
    expect(formatLr(0.01)).toBe('0.01');
    expect(formatLr(0.0000123)).toBe('1.23e-5');
    expect(csvFileName('train 2')).toBe('train_2-results.csv');
  });

  it('sorts per-class AP best first', () => {
    const rows = [{ name: 'b', ap50: 0.5, ap50_95: 0.2 }, { name: 'a', ap50: 0.9, ap50_95: 0.6 }, { name: 'c', ap50: 0.6, ap50_95: 0.2 }];
    expect(sortPerClass(rows).map((r) => r.name)).toEqual(['a', 'c', 'b']);
  });
});
