/**
 * @file Training as the app sees it: a pre-flight check of the open project, a `runs` row per
 * run, the run itself in a worker thread (which owns tfjs), and the run history with its
 * per-epoch table. The service turns worker events into `train` events and job progress.
 * One run trains per project at a time; a run's job writes its row through its own connection,
 * so closing or reopening the project while it trains loses nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { TrainPreflight, TrainProgress, TrainRequest, TrainRunDetail, TrainRunSummary } from '../../shared/types';
import type { JobRegistry } from '../jobs/job-registry';
import { runTask } from './worker-tasks';
import { LabelStore } from '../store/label-store';
import { RunStore, type RunRow } from '../store/runs';
import { trainOptionArgs } from '../train/request-args';
import type { TrainEvent } from '../train/trainer';
import type { EpochRow } from '../train/train-state';
import { HEARTBEAT_MS, markActive, markInactive, markInterrupted, OWNER } from '../train/run-liveness';

interface RunMetrics {
  rows: EpochRow[];
  perClass: TrainRunDetail['perClass'];
  effective: Record<string, unknown>;
}

/** Batch events reach the UI at most this often; epochs and the end always do. */
const BATCH_EVENT_MS = 250;

export function preflight(store: LabelStore): TrainPreflight {
  const info = store.info();
  const count = (split: string): number => info.splits.find((s) => s.split === split)?.images ?? 0;
  const trainImages = count('train');
  const valImages = count('val');
  const classes = info.classes.map((c) => ({
    name: c.name,
    train: info.perClassSplit[c.id]?.train ?? 0,
    val: info.perClassSplit[c.id]?.val ?? 0,
  }));
  const blockers: string[] = [];
  const warnings: string[] = [];
  const trainBoxes = info.splits.find((s) => s.split === 'train')?.boxes ?? 0;
  if (info.classes.length === 0) blockers.push('the project has no classes: import labels or add a class and draw boxes');
  if (trainImages === 0) blockers.push('no images are in the train split: assign splits first');
  else if (trainBoxes === 0) blockers.push('the train split has no boxes: label some images first');
  const empty = classes.filter((c) => c.train === 0);
  if (empty.length && info.classes.length) {
    blockers.push(`${empty.length === 1 ? 'class' : 'classes'} ${empty.map((c) => `"${c.name}"`).join(', ')} ${empty.length === 1 ? 'has' : 'have'} no instances in train: label some, or merge/delete the class`);
  }
  if (valImages === 0) blockers.push('there is no val split to measure the model on: create one from part of train');
  const unlabeled = info.statuses.unlabeled;
  if (unlabeled) warnings.push(`${unlabeled} images are still unlabeled and are left out of training`);
  for (const c of classes) {
    if (c.train > 0 && c.train < 10) warnings.push(`class "${c.name}" has only ${c.train} training instances; expect a weak detector for it`);
    if (c.train > 0 && c.val === 0 && valImages > 0) warnings.push(`class "${c.name}" has no val instances, so its AP cannot be measured`);
  }
  return { blockers, warnings, canCreateVal: valImages === 0 && trainImages >= 2, trainImages, valImages, classes };
}

export class TrainService {
  constructor(
    private readonly jobs: JobRegistry,
    private readonly emit: (p: TrainProgress) => void,
  ) {}

  /** Marks runs whose process died as interrupted (the project opens, the run list is read). */
  markInterrupted(store: LabelStore): void {
    markInterrupted(store);
  }

  start(store: LabelStore, req: TrainRequest): { jobId: string; runId: number } {
    const resume = req.resumeRunId !== undefined ? this.row(store, req.resumeRunId) : null;
    if (!resume) {
      const check = preflight(store);
      if (check.blockers.length) throw new AppError('INVALID_INPUT', `cannot train yet: ${check.blockers.join('; ')}`, check);
    }
    const name = resume?.name ?? nextRunName(store);
    const args = runArgs(store, req, resume, name);
    const runId = this.claim(store, resume, name, args);
    const root = store.root;
    markActive(root, runId);
    let lastBatchEvent = 0;
    const metrics: RunMetrics = resume ? parseMetrics(resume.metrics) : { rows: [], perClass: [], effective: {} };
    let own: LabelStore;
    try {
      own = LabelStore.open(root);
    } catch (err) {
      markInactive(root, runId);
      new RunStore(store.db).failToStart(runId, Date.now());
      throw err;
    }
    const ownRuns = new RunStore(own.db);
    const job = this.jobs.start('train', `Train ${name}`, async (ctx) => {
      const finish = (status: TrainRunSummary['status']): void => ownRuns.finish(runId, status, JSON.stringify(metrics), Date.now());
      // Tells other processes opening the project that this run still trains.
      const heartbeat = setInterval(() => ownRuns.heartbeat(runId, Date.now()), HEARTBEAT_MS);
      heartbeat.unref();
      let done: TrainProgress | null = null;
      try {
        const result = await runTask({ kind: 'train', args }, ctx, (data) => {
          const e = data as TrainEvent;
          const progress = toProgress(runId, e, metrics);
          if (!progress) return;
          if (progress.type === 'done') {
            done = progress; // sent once the run row says so too
            return;
          }
          if (progress.type === 'batch') {
            const t = Date.now();
            if (t - lastBatchEvent < BATCH_EVENT_MS && progress.batch !== progress.batches) return;
            lastBatchEvent = t;
          } else {
            ownRuns.saveMetrics(runId, JSON.stringify(metrics), Date.now());
          }
          this.emit(progress);
        });
        if (ctx.signal.aborted) throw new AppError('JOB_CANCELLED', 'training stopped');
        finish('done');
        if (done) this.emit(done);
        return { runId, root, ...(result as object) };
      } catch (err) {
        finish(err instanceof AppError && err.code === 'JOB_CANCELLED' ? 'cancelled' : 'failed');
        throw err;
      } finally {
        clearInterval(heartbeat);
        markInactive(root, runId);
        own.close();
      }
    });
    return { jobId: job.id, runId };
  }

  /**
   * Makes the run row `running` for this process (a new row, or the resumed one), after checking
   * that no run trains in the project: in one write transaction, so two processes cannot both pass.
   */
  private claim(store: LabelStore, resume: RunRow | null, name: string, args: Record<string, unknown>): number {
    const runs = new RunStore(store.db);
    return runs.immediate(() => {
      markInterrupted(store);
      const running = runs.running();
      if (running && running.id === resume?.id) {
        throw new AppError('CONFLICT', `run ${running.name} is still training; it can be resumed once it stops`, { runId: running.id });
      }
      if (running) {
        throw new AppError('CONFLICT', `run ${running.name} is training in this project; one run trains at a time: wait for it to finish or stop it first`, {
          runId: running.id,
        });
      }
      const now = Date.now();
      if (resume) {
        const { resume: _r, ...stored } = args;
        runs.restartRunning(resume.id, { config: JSON.stringify(stored), owner: OWNER, now });
        return resume.id;
      }
      return runs.insertRunning({ name, config: JSON.stringify(args), dir: `runs/${name}`, owner: OWNER, now });
    });
  }

  runs(store: LabelStore): TrainRunSummary[] {
    markInterrupted(store);
    return new RunStore(store.db).list().map((r) => summary(r));
  }

  run(store: LabelStore, id: number): TrainRunDetail {
    const r = this.row(store, id);
    const m = parseMetrics(r.metrics);
    return { ...summary(r), config: { ...(JSON.parse(r.config) as Record<string, unknown>), ...m.effective }, rows: m.rows, perClass: m.perClass };
  }

  /** What predicting with a run needs: its best weights and the image size it trained at. */
  weightsOf(store: LabelStore, id: number): { weights: string; imgsz: number; name: string } {
    const r = this.row(store, id);
    const cfg = JSON.parse(r.config) as { imgsz?: number };
    const weights = path.join(store.root, r.dir ?? `runs/${r.name}`, 'weights', 'best.safetensors');
    if (!fs.existsSync(weights)) throw new AppError('NOT_FOUND', `run ${r.name} has no weights yet (no epoch finished)`);
    return { weights, imgsz: cfg.imgsz ?? 640, name: r.name };
  }

  /** results.csv of the run, as written next to its weights. */
  csv(store: LabelStore, id: number): string {
    const r = this.row(store, id);
    const file = path.join(store.root, r.dir ?? `runs/${r.name}`, 'results.csv');
    if (!fs.existsSync(file)) throw new AppError('NOT_FOUND', `run ${r.name} has no results yet (no epoch finished)`);
    return fs.readFileSync(file, 'utf8');
  }

  private row(store: LabelStore, id: number): RunRow {
    const r = new RunStore(store.db).get(id);
    if (!r) throw new AppError('NOT_FOUND', `training run ${id} not found`);
    return r;
  }
}

function toProgress(runId: number, e: TrainEvent, metrics: RunMetrics): TrainProgress | null {
  switch (e.type) {
    case 'start':
      metrics.effective = { optimizer: e.optimizer.name, lr: e.optimizer.lr, momentum: e.optimizer.momentum, optimizerReason: e.optimizer.reason, backend: e.backend.name, warnings: e.warnings };
      return {
        runId,
        type: 'start',
        backend: e.backend.name,
        backendReasons: e.backend.reasons.map((r) => `${r.backend}: ${r.reason}`),
        optimizer: e.optimizer.reason,
        trainImages: e.trainImages,
        valImages: e.valImages,
        epochs: e.epochs,
        startEpoch: e.startEpoch,
        warnings: e.warnings,
      };
    case 'batch':
      return { runId, type: 'batch', epoch: e.epoch, epochs: e.epochs, batch: e.batch, batches: e.batches, losses: e.losses, lr: e.lr, imagesPerSec: e.imagesPerSec, etaSec: e.etaSec };
    case 'validating':
      return { runId, type: 'validating', epoch: e.epoch, done: e.done, total: e.total };
    case 'epoch':
      metrics.rows = [...metrics.rows.filter((r) => r.epoch !== e.row.epoch), e.row];
      metrics.perClass = e.perClass;
      return { runId, type: 'epoch', row: e.row, best: e.best };
    case 'done':
      metrics.rows = e.rows;
      metrics.perClass = e.perClass;
      return { runId, type: 'done', stoppedEarly: e.stoppedEarly };
  }
}

function summary(r: RunRow): TrainRunSummary {
  const m = parseMetrics(r.metrics);
  const cfg = JSON.parse(r.config) as { epochs?: number };
  const best = m.rows.reduce<EpochRow | null>((b, row) => (!b || row.fitness > b.fitness ? row : b), null);
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    epochs: cfg.epochs ?? 100,
    epochsDone: m.rows.length,
    bestMAP50_95: best?.mAP50_95 ?? null,
    bestMAP50: best?.mAP50 ?? null,
    dir: r.dir ?? `runs/${r.name}`,
  };
}

function parseMetrics(json: string | null): RunMetrics {
  const m = json ? (JSON.parse(json) as Partial<RunMetrics>) : {};
  return { rows: m.rows ?? [], perClass: m.perClass ?? [], effective: m.effective ?? {} };
}

function nextRunName(store: LabelStore): string {
  const taken = new Set(new RunStore(store.db).names());
  for (let i = 1; ; i++) {
    const name = i === 1 ? 'train' : `train${i}`;
    if (!taken.has(name) && !fs.existsSync(path.join(store.root, 'runs', name))) return name;
  }
}

/**
 * The run's training arguments (the worker parses them). A resumed or extended run keeps its own
 * settings (as Ultralytics' resume does); only the epoch count may grow.
 */
function runArgs(store: LabelStore, req: TrainRequest, resume: RunRow | null, name: string): Record<string, unknown> {
  if (resume) return { ...(JSON.parse(resume.config) as Record<string, unknown>), ...(req.epochs !== undefined ? { epochs: req.epochs } : {}), resume: true };
  return { model: resolveModel(store, req.model), data: store.root, project: path.join(store.root, 'runs'), name, ...trainOptionArgs(req) };
}

/** `run:<id>` -> that run's best weights; otherwise a file path that must exist. */
function resolveModel(store: LabelStore, model: string): string {
  const m = /^run:(\d+)$/.exec(model);
  if (m) {
    const r = new RunStore(store.db).get(Number(m[1]));
    if (!r) throw new AppError('NOT_FOUND', `training run ${m[1]} not found`);
    const best = path.join(store.root, r.dir ?? `runs/${r.name}`, 'weights', 'best.safetensors');
    if (!fs.existsSync(best)) throw new AppError('NOT_FOUND', `run ${r.name} has no best weights yet`);
    return best;
  }
  const abs = path.resolve(model);
  if (!fs.existsSync(abs)) throw new AppError('FILE_NOT_FOUND', `model file not found: ${abs}`);
  return abs;
}
