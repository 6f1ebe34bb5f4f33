/**
 * @file Training as the Train view shows it: the pre-flight check of the open project, the base
 * models to start from, the form, the run history, the selected run's detail, and the live state
 * of the run that is training (folded from `train` events by train-model.ts). Connected while a
 * project is open, so a run keeps its live charts while the user labels elsewhere.
 */
import { untrack } from 'svelte';
import type { BackendReport, JobInfo, ModelInspection, TrainPreflight, TrainRequest, TrainRunDetail, TrainRunSummary, ZooModel } from '../../../shared/types';
import { api, errorMessage, onEvent, onReconnect } from '../lib/api';
import { jobs } from './jobs.svelte';
import { project } from './project.svelte';
import {
  csvFileName,
  defaultForm,
  defaultSource,
  lossColumns,
  lrColumns,
  mapColumns,
  mergeRows,
  newLiveRun,
  reduceProgress,
  requestFromForm,
  resolveModel,
  resumeRequest,
  sortZoo,
  valSplitRatios,
  type LiveRun,
  type TrainForm,
} from './train-model';

export class TrainStore {
  preflight = $state.raw<TrainPreflight | null>(null);
  models = $state.raw<ZooModel[]>([]);
  /** Which training backends work here and why not the better ones (null until known). */
  backends = $state.raw<BackendReport['training'] | null>(null);
  runs = $state.raw<TrainRunSummary[]>([]);
  selectedId = $state<number | null>(null);
  detail = $state.raw<TrainRunDetail | null>(null);
  /** The run training now (or the last one that trained in this session), from its events. */
  live = $state.raw<LiveRun | null>(null);
  /** The job of the run training now; null when none is. */
  jobId = $state<string | null>(null);
  form = $state<TrainForm>(defaultForm());
  /** What the local file in the form holds, or why it cannot be used. */
  inspection = $state.raw<{ path: string; result: ModelInspection | null; error: string | null } | null>(null);
  error = $state<string | null>(null);
  busy = $state(false);
  stopping = $state(false);
  /** The job predicting the val split with a run, for review; null when none is. */
  reviewJobId = $state<string | null>(null);
  #onReviewReady: (() => void) | null = null;

  selected = $derived(this.runs.find((r) => r.id === this.selectedId) ?? null);
  /** The selected run is the one training now. */
  selectedLive = $derived(this.jobId !== null && this.live !== null && this.live.runId === this.selectedId);
  /** The selected run's epoch rows: the stored ones plus any newer ones from live events. */
  rows = $derived.by(() => {
    const stored = this.detail && this.detail.id === this.selectedId ? this.detail.rows : [];
    return this.live && this.live.runId === this.selectedId ? mergeRows(stored, this.live.rows) : stored;
  });
  #points = $derived(this.live && this.live.runId === this.selectedId ? this.live.points : []);
  charts = $derived({ loss: lossColumns(this.#points, this.rows), map: mapColumns(this.rows), lr: lrColumns(this.#points, this.rows) });
  zoo = $derived(sortZoo(this.models));
  modelChoice = $derived(resolveModel(this.form, this.models));

  #detailToken = 0;
  #inspectTimer: ReturnType<typeof setTimeout> | null = null;

  /** Listens to train, job and project events; returns the cleanup. Reads no state (safe in an effect). */
  connect(): () => void {
    return untrack(() => this.#connect());
  }

  #connect(): () => void {
    const offs = [
      onEvent('train', (e) => {
        this.live = reduceProgress(this.live, e);
        if (e.type === 'start' || e.type === 'epoch' || e.type === 'done') void this.#afterProgress(e.runId);
      }),
      onEvent('job', (job) => this.#onJob(job)),
      onEvent('project', (e) => {
        if (e.reason === 'changed') void this.loadPreflight();
        else this.#reset();
        if (e.reason === 'opened') void this.refresh();
      }),
      onReconnect(() => void this.refresh()),
    ];
    void this.refresh();
    return () => offs.forEach((off) => off());
  }

  /** Re-reads the pre-flight check, the models, the runs, and which run (if any) is training. */
  async refresh(): Promise<void> {
    await Promise.all([this.loadPreflight(), this.loadModels(), this.loadRuns(), this.#loadBackends()]);
    this.#adoptRunningJob();
    if (this.selectedId === null && this.runs[0]) await this.select(this.runs[0].id);
    else if (this.selectedId !== null) await this.#loadDetail(this.selectedId);
  }

  async loadPreflight(): Promise<void> {
    try {
      this.preflight = await api['train.preflight']({});
    } catch (err) {
      this.preflight = null;
      this.error = errorMessage(err);
    }
  }

  async loadModels(): Promise<void> {
    try {
      this.models = await api['models.list']({});
    } catch {
      this.models = []; // no zoo: a local file or a previous run still works
    }
    if (!this.form.source) this.form.source = defaultSource(this.zoo);
  }

  async #loadBackends(): Promise<void> {
    if (this.backends) return; // the machine does not change while the app runs
    try {
      this.backends = (await api['app.backends']({})).training;
    } catch {
      this.backends = null; // the device list still works, without the availability notes
    }
  }

  async loadRuns(): Promise<void> {
    try {
      this.runs = await api['train.runs']({});
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  select = async (id: number): Promise<void> => {
    this.selectedId = id;
    await this.#loadDetail(id);
  };

  /** Starts a run from the form. */
  start = async (): Promise<void> => {
    const choice = this.modelChoice;
    if ('error' in choice) {
      this.error = choice.error;
      return;
    }
    await this.#begin(requestFromForm($state.snapshot(this.form), choice.model));
  };

  /** Continues a stopped or killed run, or extends a finished one to `epochs`. */
  resume = async (id: number, epochs?: number): Promise<void> => {
    const detail = this.detail?.id === id ? this.detail : await api['train.run']({ id });
    await this.#begin(resumeRequest(detail, epochs));
  };

  /** Stops the running run (its finished epochs and weights are kept). */
  stop = async (): Promise<void> => {
    if (!this.jobId) return;
    this.stopping = true;
    try {
      await api['jobs.cancel']({ id: this.jobId });
    } catch (err) {
      this.error = errorMessage(err);
      this.stopping = false;
    }
  };

  /** Splits 20% of the images off to val (the pre-flight action when there is no val split). */
  createVal = async (): Promise<void> => {
    const info = project.current;
    if (!info) return;
    await this.#act(() => project.assignSplits({ ratios: valSplitRatios(info), seed: 0, scope: 'all' }));
    await this.loadPreflight();
  };

  downloadModel = async (name: string): Promise<void> => {
    await this.#act(() => api['models.download']({ name }));
  };

  /** Saves the run's results.csv through the browser's download. */
  downloadCsv = async (run: TrainRunSummary): Promise<void> => {
    await this.#act(async () => {
      const text = await api['train.csv']({ id: run.id });
      const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = csvFileName(run.name);
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  };

  /**
   * Runs the run's best weights over the val split (a job with progress), then calls `onready` so
   * the view can show the images with their predictions.
   */
  review = async (run: TrainRunSummary, onready: () => void): Promise<void> => {
    await this.#act(async () => {
      const { jobId } = await api['train.predict']({ runId: run.id });
      this.reviewJobId = jobId;
      this.#onReviewReady = onready;
      const known = jobs.jobs.find((j) => j.id === jobId);
      if (known && known.state !== 'running') this.#onJob(known); // finished before we heard back
    });
  };

  /** Reads what the local file holds, a moment after the path stops changing. */
  inspectPath = (path: string): void => {
    if (this.#inspectTimer) clearTimeout(this.#inspectTimer);
    const p = path.trim();
    if (!p) {
      this.inspection = null;
      return;
    }
    this.#inspectTimer = setTimeout(() => {
      api['models.inspect']({ path: p })
        .then((result) => {
          if (this.form.path.trim() !== p) return;
          const error = result.format === 'onnx' ? 'an ONNX file cannot be fine-tuned: pick its .pt or .safetensors' : null;
          this.inspection = { path: p, result, error };
        })
        .catch((err: unknown) => {
          if (this.form.path.trim() === p) this.inspection = { path: p, result: null, error: errorMessage(err) };
        });
    }, 300);
  };

  async #begin(req: TrainRequest): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      const { jobId, runId } = await api['train.start'](req);
      this.jobId = jobId;
      this.stopping = false;
      // Events may have come first; otherwise an empty live run shows the progress at once.
      if (this.live?.runId !== runId) this.live = newLiveRun(runId, req.epochs ?? 0);
      await this.loadRuns();
      await this.select(runId);
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.busy = false;
    }
  }

  async #afterProgress(runId: number): Promise<void> {
    await this.loadRuns();
    this.#adoptRunningJob();
    if (this.selectedId === runId) await this.#loadDetail(runId);
  }

  #onJob(job: JobInfo): void {
    if (job.kind === 'model-download' && job.state === 'done') void this.loadModels();
    if (job.kind === 'predict' && job.id === this.reviewJobId && job.state !== 'running') {
      this.reviewJobId = null;
      if (job.state === 'done') this.#onReviewReady?.();
      else if (job.state === 'failed') this.error = job.error?.message ?? 'prediction failed';
      this.#onReviewReady = null;
    }
    if (job.kind !== 'train') return;
    if (job.state === 'running') {
      this.#adoptRunningJob();
      return;
    }
    if (job.id !== this.jobId) return;
    const runId = this.live?.runId ?? -1;
    // The run's row says so too, but only after a re-read: show the end at once, without a
    // moment of "running" with no job behind it.
    const status = job.state;
    this.runs = this.runs.map((r) => (r.id === runId ? { ...r, status } : r));
    this.jobId = null;
    this.stopping = false;
    if (job.state === 'failed') this.error = job.error?.message ?? 'training failed';
    if (this.live && this.live.phase !== 'done') this.live = { ...this.live, phase: 'done', etaSec: null };
    void this.#afterProgress(runId);
  }

  /**
   * A run that trains without this window having started it (a reload, another window): follow
   * its job. The job names the run in its title (`Train <name>`).
   */
  #adoptRunningJob(): void {
    if (this.jobId !== null) return;
    for (const job of jobs.running) {
      const run = job.kind === 'train' ? this.runs.find((r) => r.status === 'running' && job.title === `Train ${r.name}`) : undefined;
      if (!run) continue;
      this.jobId = job.id;
      if (this.live?.runId !== run.id) this.live = { ...newLiveRun(run.id, run.epochs), phase: 'training' };
      return;
    }
  }

  async #loadDetail(id: number): Promise<void> {
    const token = ++this.#detailToken;
    try {
      const detail = await api['train.run']({ id });
      if (token === this.#detailToken) this.detail = detail;
    } catch (err) {
      if (token === this.#detailToken) this.error = errorMessage(err);
    }
  }

  async #act(run: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await run();
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.busy = false;
    }
  }

  #reset(): void {
    this.preflight = null;
    this.runs = [];
    this.selectedId = null;
    this.detail = null;
    this.live = null;
    this.jobId = null;
    this.inspection = null;
    this.error = null;
    this.form = { ...defaultForm(), source: this.form.source.startsWith('zoo:') ? this.form.source : '' };
  }
}

export const train = new TrainStore();
