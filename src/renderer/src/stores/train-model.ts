/**
 * @file Pure state rules of the Train view: folding `train` events into a live run, turning batch
 * points and epoch rows into chart series, the form's defaults and the request it sends, what
 * `optimizer=auto` will pick, and small formatters. Kept apart from the rune store so Node tests
 * can run them.
 */
import type { ProjectInfo, TrainEpochRow, TrainProgress, TrainRequest, TrainRunDetail, TrainRunSummary, ZooModel } from '../../../shared/types';
import { autoIterations, chooseOptimizer, DEVICE_CHOICES, OPTIMIZER_CHOICES, type OptimizerName } from '../../../shared/training';

export type Triple = [number, number, number];

/** One throttled batch event as a chart point; `x` is the fractional epoch (epoch 3, batch 5 of 10: 2.5). */
export interface BatchPoint {
  x: number;
  losses: Triple;
  lr: Triple;
}

/** What the view knows of the run that is training now, from its `train` events. */
export interface LiveRun {
  runId: number;
  phase: 'starting' | 'training' | 'validating' | 'done';
  /** Total epochs of the run, and the epoch it started from (0, or where a resume picked up). */
  epochs: number;
  startEpoch: number;
  /** Current epoch (1-based) and batch (1-based) of `batches`. */
  epoch: number;
  batch: number;
  batches: number;
  /** Running means of box, cls, dfl over the current epoch. */
  losses: Triple | null;
  lr: Triple | null;
  imagesPerSec: number;
  /** Seconds left in the whole run (training only), null when unknown. */
  etaSec: number | null;
  validating: { done: number; total: number } | null;
  backend: string | null;
  backendReasons: string[];
  /** What the trainer said the user should know when the run started. */
  warnings: string[];
  /** The service's words for the optimizer it chose (e.g. "auto: 24 iterations <= 10000, so AdamW(...)"). */
  optimizerReason: string | null;
  trainImages: number | null;
  valImages: number | null;
  points: BatchPoint[];
  rows: TrainEpochRow[];
  bestEpoch: number | null;
  stoppedEarly: boolean;
}

/** Batch points kept per run; past this, every other one is dropped (charts keep their shape). */
export const MAX_POINTS = 2000;

export function newLiveRun(runId: number, epochs = 0): LiveRun {
  return {
    runId, phase: 'starting', epochs, startEpoch: 0, epoch: 0, batch: 0, batches: 0, losses: null, lr: null,
    imagesPerSec: 0, etaSec: null, validating: null, backend: null, backendReasons: [], warnings: [], optimizerReason: null,
    trainImages: null, valImages: null, points: [], rows: [], bestEpoch: null, stoppedEarly: false,
  };
}

/**
 * The live run after one `train` event. Returns a new object (the store keeps it in `$state.raw`);
 * an event of another run starts a fresh live run (the view may connect in the middle of one).
 *
 * @example reduceProgress(null, { runId: 1, type: 'batch', epoch: 1, epochs: 2, batch: 5, batches: 10, ... }).points[0].x // 0.5
 */
export function reduceProgress(run: LiveRun | null, e: TrainProgress): LiveRun {
  const r = run && run.runId === e.runId ? run : newLiveRun(e.runId);
  switch (e.type) {
    case 'start':
      return {
        ...r, phase: 'training', epochs: e.epochs, startEpoch: e.startEpoch, epoch: e.startEpoch + 1, batch: 0,
        backend: e.backend, backendReasons: e.backendReasons, warnings: e.warnings, optimizerReason: e.optimizer,
        trainImages: e.trainImages, valImages: e.valImages, stoppedEarly: false,
      };
    case 'batch': {
      const point: BatchPoint = { x: e.epoch - 1 + e.batch / Math.max(1, e.batches), losses: e.losses, lr: e.lr };
      return {
        ...r, phase: 'training', epoch: e.epoch, epochs: e.epochs, batch: e.batch, batches: e.batches, losses: e.losses,
        lr: e.lr, imagesPerSec: e.imagesPerSec, etaSec: e.etaSec, validating: null, points: appendPoint(r.points, point),
      };
    }
    case 'validating':
      return { ...r, phase: 'validating', epoch: e.epoch, validating: { done: e.done, total: e.total } };
    case 'epoch':
      return {
        ...r, validating: null, rows: mergeRows(r.rows, [e.row]),
        bestEpoch: e.best ? e.row.epoch : r.bestEpoch, phase: r.phase === 'validating' ? 'training' : r.phase,
      };
    case 'done':
      return { ...r, phase: 'done', validating: null, etaSec: 0, stoppedEarly: e.stoppedEarly };
  }
}

/** Appends a point, halving the older ones once `max` is reached (so memory stays flat over long runs). */
export function appendPoint(points: readonly BatchPoint[], p: BatchPoint, max = MAX_POINTS): BatchPoint[] {
  const kept = points.length >= max ? points.filter((_, i) => i % 2 === 1) : points;
  return [...kept, p];
}

/** Rows of both lists by epoch (the later list wins a tie), sorted. */
export function mergeRows(a: readonly TrainEpochRow[], b: readonly TrainEpochRow[]): TrainEpochRow[] {
  const byEpoch = new Map<number, TrainEpochRow>();
  for (const row of [...a, ...b]) byEpoch.set(row.epoch, row);
  return [...byEpoch.values()].sort((x, y) => x.epoch - y.epoch);
}

/** Fraction of the run done (0..1): finished epochs plus the current epoch's batches. */
export function runFraction(r: LiveRun): number {
  if (r.phase === 'done') return 1;
  if (r.epochs <= 0) return 0;
  const within = r.batches > 0 ? r.batch / r.batches : 0;
  return Math.min(1, Math.max(0, (Math.max(0, r.epoch - 1) + within) / r.epochs));
}

// ---- chart series ---------------------------------------------------------------------------------

/** uPlot's column data: x first, then one column per series (null = no value there). */
export type Columns = [number[], ...(number | null)[][]];

/** Columns from points keyed by x; values at equal x merge (later keys fill or override). */
function columns(n: number, entries: [number, (number | null)[]][]): Columns {
  const byX = new Map<number, (number | null)[]>();
  for (const [x, vals] of entries) {
    const key = Math.round(x * 1e6) / 1e6;
    const cur = byX.get(key) ?? Array<number | null>(n).fill(null);
    vals.forEach((v, i) => {
      if (v !== null && Number.isFinite(v)) cur[i] = v;
    });
    byX.set(key, cur);
  }
  const xs = [...byX.keys()].sort((a, b) => a - b);
  const out: Columns = [xs];
  for (let i = 0; i < n; i++) out.push(xs.map((x) => byX.get(x)?.[i] ?? null));
  return out;
}

/**
 * Losses over fractional epochs: train box/cls/dfl (per batch while live, per epoch after), then
 * val box/cls/dfl at each epoch's end.
 */
export function lossColumns(points: readonly BatchPoint[], rows: readonly TrainEpochRow[]): Columns {
  return columns(6, [
    ...points.map((p): [number, (number | null)[]] => [p.x, [...p.losses, null, null, null]]),
    ...rows.map((r): [number, (number | null)[]] => [r.epoch, [...r.trainLosses, ...(hasVal(r) ? r.valLosses : [null, null, null])]]),
  ]);
}

/** mAP50 and mAP50-95 per epoch. */
export function mapColumns(rows: readonly TrainEpochRow[]): Columns {
  return columns(2, rows.map((r) => [r.epoch, [r.mAP50, r.mAP50_95]]));
}

/** Learning rate of the three parameter groups (pg0 weights, pg1 BN, pg2 biases). */
export function lrColumns(points: readonly BatchPoint[], rows: readonly TrainEpochRow[]): Columns {
  return columns(3, [...points.map((p): [number, (number | null)[]] => [p.x, [...p.lr]]), ...rows.map((r): [number, (number | null)[]] => [r.epoch, [...r.lr]])]);
}

/** A row without validation (val=False) carries zero val losses; they are not a measurement. */
function hasVal(r: TrainEpochRow): boolean {
  return r.valLosses.some((v) => v !== 0) || r.mAP50 !== 0;
}

// ---- the form and the request ---------------------------------------------------------------------

export const OPTIMIZERS = OPTIMIZER_CHOICES;
export const DEVICES = DEVICE_CHOICES;

export interface TrainForm {
  /** `zoo:<name>`, `run:<id>`, or `file` (then `path`). Empty until the model list is known. */
  source: string;
  path: string;
  epochs: number;
  imgsz: number;
  batch: number;
  freeze: number;
  optimizer: (typeof OPTIMIZERS)[number];
  lr0: number;
  patience: number;
  cosLr: boolean;
  closeMosaic: number;
  seed: number;
  device: (typeof DEVICES)[number];
}

/** A fine-tune's defaults: Ultralytics' own, except 50 epochs (enough for most fine-tunes). */
export function defaultForm(): TrainForm {
  return {
    source: '', path: '', epochs: 50, imgsz: 640, batch: 16, freeze: 0, optimizer: 'auto', lr0: 0.01, patience: 100,
    cosLr: false, closeMosaic: 10, seed: 0, device: 'auto',
  };
}

/** Zoo models with the downloaded ones first (then catalog order). */
export function sortZoo(models: readonly ZooModel[]): ZooModel[] {
  return [...models].sort((a, b) => Number(b.cached) - Number(a.cached));
}

/** The source to preselect: the first downloaded zoo model, else yolo11n (to download), else a file. */
export function defaultSource(models: readonly ZooModel[]): string {
  const pick = models.find((m) => m.cached) ?? models.find((m) => m.name === 'yolo11n') ?? models[0];
  return pick ? `zoo:${pick.name}` : 'file';
}

/** Runs whose best weights can start another run (at least one epoch finished). */
export function runsWithWeights(runs: readonly TrainRunSummary[]): TrainRunSummary[] {
  return runs.filter((r) => r.epochsDone > 0);
}

/**
 * What `model` the request carries for the chosen source, or why there is none yet.
 *
 * @example resolveModel({ ...form, source: 'zoo:yolo11n' }, [{ name: 'yolo11n', cached: true, path: '/m/yolo11n.pt', ... }]) // { model: '/m/yolo11n.pt' }
 */
export function resolveModel(form: Pick<TrainForm, 'source' | 'path'>, models: readonly ZooModel[]): { model: string } | { error: string } {
  if (form.source.startsWith('run:')) return { model: form.source };
  if (form.source.startsWith('zoo:')) {
    const name = form.source.slice(4);
    const m = models.find((x) => x.name === name);
    if (!m) return { error: `unknown model ${name}` };
    if (!m.cached || !m.path) return { error: `${m.file} is not downloaded yet: download it, or pick another model` };
    return { model: m.path };
  }
  const p = form.path.trim();
  if (!p) return { error: 'enter the path of a .pt or .safetensors file' };
  if (!/\.(pt|safetensors)$/i.test(p)) return { error: 'a base model is a .pt or .safetensors file' };
  return { model: p };
}

/** The request for a new run from the form (every visible setting is sent, so the run records it). */
export function requestFromForm(form: TrainForm, model: string): TrainRequest {
  return {
    model, epochs: form.epochs, imgsz: form.imgsz, batch: form.batch, freeze: form.freeze, optimizer: form.optimizer,
    lr0: form.lr0, patience: form.patience, cosLr: form.cosLr, closeMosaic: form.closeMosaic, seed: form.seed, device: form.device,
  };
}

/**
 * The request that continues a run with the settings it was started with: the stored config holds
 * Ultralytics' names (`cos_lr`, `close_mosaic`) and, merged over them, the effective optimizer,
 * so a run that asked for `auto` is told apart by its `optimizerReason`.
 */
export function resumeRequest(run: Pick<TrainRunDetail, 'id' | 'config'>, epochs?: number): TrainRequest {
  const c = run.config;
  const num = (k: string): number | undefined => (typeof c[k] === 'number' ? (c[k] as number) : undefined);
  const reason = typeof c.optimizerReason === 'string' ? c.optimizerReason : '';
  const opt = reason.startsWith('auto') ? 'auto' : c.optimizer;
  const req: TrainRequest = { model: typeof c.model === 'string' ? c.model : `run:${run.id}`, resumeRunId: run.id };
  const copy = { epochs: num('epochs'), imgsz: num('imgsz'), batch: num('batch'), freeze: num('freeze'), lr0: num('lr0'), patience: num('patience'), closeMosaic: num('close_mosaic'), seed: num('seed') };
  for (const [k, v] of Object.entries(copy)) if (v !== undefined) (req as unknown as Record<string, unknown>)[k] = v;
  if (typeof c.cos_lr === 'boolean') req.cosLr = c.cos_lr;
  if ((OPTIMIZER_CHOICES as readonly unknown[]).includes(opt)) req.optimizer = opt as TrainRequest['optimizer'];
  if (typeof c.device === 'string' && (DEVICES as readonly string[]).includes(c.device)) req.device = c.device as TrainRequest['device'];
  if (epochs !== undefined) req.epochs = epochs;
  return req;
}

/**
 * An interrupted (its process killed), stopped or failed run with finished epochs continues; a
 * finished one is extended; one still training (here or in another process) does neither.
 */
export function resumeAction(run: TrainRunSummary, live: boolean): 'resume' | 'extend' | null {
  if (live || run.status === 'running') return null;
  if (run.status === 'done') return 'extend';
  return run.status === 'interrupted' || run.epochsDone > 0 ? 'resume' : null;
}

/** Ended before its epochs by patience (the live `done` event says so; history infers it). */
export function stoppedEarly(run: TrainRunSummary, live: LiveRun | null): boolean {
  if (live && live.runId === run.id && live.phase === 'done') return live.stoppedEarly;
  return run.status === 'done' && run.epochsDone > 0 && run.epochsDone < run.epochs;
}

/**
 * What Ultralytics' `optimizer=auto` will choose: AdamW with lr fitted to the class count for
 * runs of at most 10,000 iterations, SGD(0.01) beyond.
 *
 * @example predictOptimizer({ trainImages: 100, batch: 16, epochs: 50, nc: 7 }) // { name: 'AdamW', lr: 0.000909, momentum: 0.9, iterations: 100 }
 */
export function predictOptimizer(a: { trainImages: number; batch: number; epochs: number; nc: number }): { name: OptimizerName; lr: number; momentum: number; iterations: number } {
  const batch = Math.max(1, Math.min(a.batch, Math.max(1, a.trainImages)));
  const iterations = autoIterations(a.trainImages, batch, a.epochs);
  const choice = chooseOptimizer('auto', { lr0: 0, momentum: 0, warmupBiasLr: 0, nc: a.nc, iterations });
  return { name: choice.name, lr: choice.lr, momentum: choice.momentum, iterations };
}

/** The sentence beside optimizer=auto. */
export function autoHint(a: { trainImages: number; batch: number; epochs: number; nc: number }): string {
  const p = predictOptimizer(a);
  return p.name === 'AdamW'
    ? `auto picks AdamW(lr≈${p.lr}, momentum 0.9) for short runs (${p.iterations} iterations ≤ 10,000), as Ultralytics does; lr0 is not used`
    : `auto picks SGD(lr=0.01, momentum 0.9) for long runs (${p.iterations} iterations > 10,000), as Ultralytics does; lr0 is not used`;
}

/**
 * Ratios for "create a val split": 20% of the non-test images to val, test kept at its share.
 * The split service can only reassign everything (scope 'all'), so the ratios keep test's size.
 */
export function valSplitRatios(info: Pick<ProjectInfo, 'images' | 'splits'>): { train: number; val: number; test: number } {
  const test = info.splits.find((s) => s.split === 'test')?.images ?? 0;
  const t = info.images > 0 ? test / info.images : 0;
  return { train: 0.8 * (1 - t), val: 0.2 * (1 - t), test: t };
}

/** Per-class rows, best AP50-95 first (then AP50, then name). */
export function sortPerClass<T extends { name: string; ap50: number; ap50_95: number }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => b.ap50_95 - a.ap50_95 || b.ap50 - a.ap50 || a.name.localeCompare(b.name));
}

// ---- formatting -----------------------------------------------------------------------------------

/** A metric in 0..1 with three decimals, `-` when missing. */
export function formatMetric(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(3);
}

/** A loss with three decimals. */
export function formatLoss(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : '-';
}

/**
 * A learning rate with three significant digits, exponent form below 1e-4.
 *
 * @example formatLr(0.000909) // '0.000909'
 * @example formatLr(0.0000123) // '1.23e-5'
 */
export function formatLr(v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential(2).replace(/e-0?/, 'e-');
  return String(Number(v.toPrecision(3)));
}

/** The file name a run's results.csv downloads as. */
export function csvFileName(runName: string): string {
  return `${runName.replace(/[^\w.-]+/g, '_')}-results.csv`;
}
