/**
 * @file The `runs` table: a row per training run with its settings and per-epoch metrics (JSON
 * text, as the columns hold them), its status, and the owner (host:pid) and heartbeat that tell a
 * run that still trains from one whose process died (run-liveness.ts decides which). Every SQL
 * statement on `runs` is here. Rows of the table's other kind ('predict') are never read.
 */
import type { TrainRunSummary } from '../../shared/types';
import type { Db } from './db';

export type RunStatus = TrainRunSummary['status'];

/** A training run's row, as stored. */
export interface RunRow {
  id: number;
  name: string;
  status: RunStatus;
  /** JSON: the run's training arguments. */
  config: string;
  /** JSON: its per-epoch table, per-class AP and effective settings; null before its first event. */
  metrics: string | null;
  /** Run folder, relative to the project root. */
  dir: string | null;
  created_at: number;
  finished_at: number | null;
  /** host:pid of the process training it, while it runs. */
  owner: string | null;
  /** ms; renewed by that process while it runs. */
  heartbeat_at: number | null;
}

/** What tells whether a `running` row's process still trains it. */
export type RunOwner = Pick<RunRow, 'id' | 'owner' | 'heartbeat_at'>;

export class RunStore {
  constructor(private readonly db: Db) {}

  /** Runs `fn` in one IMMEDIATE transaction: no other connection writes between its reads and writes. */
  immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  get(id: number): RunRow | undefined {
    return this.db.prepare("SELECT * FROM runs WHERE id = ? AND kind = 'train'").get(id) as RunRow | undefined;
  }

  /** Newest first. */
  list(): RunRow[] {
    return this.db.prepare("SELECT * FROM runs WHERE kind = 'train' ORDER BY id DESC").all() as RunRow[];
  }

  names(): string[] {
    return this.db.prepare("SELECT name FROM runs WHERE kind = 'train'").pluck().all() as string[];
  }

  /** A run whose row says it trains, if any. */
  running(): Pick<RunRow, 'id' | 'name'> | undefined {
    return this.db.prepare("SELECT id, name FROM runs WHERE kind = 'train' AND status = 'running' LIMIT 1").get() as Pick<RunRow, 'id' | 'name'> | undefined;
  }

  /** Every run whose row says it trains, with who trains it. */
  runningOwners(): RunOwner[] {
    return this.db.prepare("SELECT id, owner, heartbeat_at FROM runs WHERE kind = 'train' AND status = 'running'").all() as RunOwner[];
  }

  /** A new run, `running` for `owner`; returns its id. */
  insertRunning(r: { name: string; config: string; dir: string; owner: string; now: number }): number {
    const info = this.db
      .prepare("INSERT INTO runs (kind, name, status, config, dir, created_at, owner, heartbeat_at) VALUES ('train', ?, 'running', ?, ?, ?, ?, ?)")
      .run(r.name, r.config, r.dir, r.now, r.owner, r.now);
    return Number(info.lastInsertRowid);
  }

  /** A stopped run `running` again for `owner` (a resume), with its settings as now given. */
  restartRunning(id: number, r: { config: string; owner: string; now: number }): void {
    this.db.prepare("UPDATE runs SET status = 'running', finished_at = NULL, config = ?, owner = ?, heartbeat_at = ? WHERE id = ?").run(r.config, r.owner, r.now, id);
  }

  /** Tells other processes that the run still trains. */
  heartbeat(id: number, now: number): void {
    this.db.prepare('UPDATE runs SET heartbeat_at = ? WHERE id = ?').run(now, id);
  }

  /** The metrics so far (an epoch ended, or the run started); renews the heartbeat. */
  saveMetrics(id: number, metrics: string, now: number): void {
    this.db.prepare('UPDATE runs SET metrics = ?, heartbeat_at = ? WHERE id = ?').run(metrics, now, id);
  }

  /** The run stopped (done, failed, cancelled) with these metrics; no process owns it any more. */
  finish(id: number, status: RunStatus, metrics: string, now: number): void {
    this.db.prepare('UPDATE runs SET status = ?, metrics = ?, finished_at = ?, owner = NULL, heartbeat_at = NULL WHERE id = ?').run(status, metrics, now, id);
  }

  /** The run could not start; its metrics stay as they were. */
  failToStart(id: number, now: number): void {
    this.db.prepare("UPDATE runs SET status = 'failed', owner = NULL, heartbeat_at = NULL, finished_at = ? WHERE id = ?").run(now, id);
  }

  /** Runs whose process is gone: `interrupted` (resumable), finished when their last heartbeat was. */
  markInterrupted(ids: readonly number[], now: number): void {
    const mark = this.db.prepare("UPDATE runs SET status = 'interrupted', finished_at = COALESCE(heartbeat_at, ?), owner = NULL, heartbeat_at = NULL WHERE id = ?");
    for (const id of ids) mark.run(now, id);
  }
}
