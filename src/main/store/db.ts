/**
 * @file Opening the SQLite file: pragmas and migrations. Every connection (UI thread, import
 * worker, CLI) goes through `openDatabase` so they agree on WAL, foreign keys and timeouts.
 */
import Database from 'better-sqlite3';
import { AppError } from '../../shared/errors';
import { LATEST_VERSION, MIGRATIONS } from './migrations';

export type Db = Database.Database;

export const DB_FILE = 'boxtune.db';

export interface OpenOptions {
  /** Create the file if it does not exist (default false: opening a missing project is an error). */
  create?: boolean;
  readonly?: boolean;
}

export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  let db: Db;
  try {
    db = new Database(file, {
      fileMustExist: !opts.create,
      readonly: opts.readonly ?? false,
      ...electronBinding(),
    });
  } catch (err) {
    throw new AppError('PROJECT_NOT_FOUND', `cannot open ${file}: ${(err as Error).message}`);
  }
  if (!opts.readonly) db.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commit).
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Another connection (an import worker) may hold the write lock for a few seconds while it commits.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('cache_size = -65536'); // 64 MiB
  if (!opts.readonly) migrate(db);
  else if (schemaVersion(db) !== LATEST_VERSION) {
    throw new AppError('CONFLICT', `${file} is at schema ${schemaVersion(db)}, expected ${LATEST_VERSION}`);
  }
  return db;
}

/** How long a worker or the CLI waits for another connection's write lock. */
export const BUSY_TIMEOUT_MS = 15_000;

/**
 * How long an edit from the UI waits for the write lock. An import writes in one transaction (all
 * or nothing), so it holds the lock for its whole write phase: about a second per 10k images.
 * Waiting that out would freeze the thread that serves the UI (the Electron main process), so a
 * UI write waits this long, then fails as BUSY with nothing saved, and the renderer sends it
 * again until it lands (label.svelte.ts). Queueing writes behind the lock in the main process
 * would need async writes there; a retry in the caller keeps the store synchronous.
 */
export const UI_BUSY_TIMEOUT_MS = 250;

/**
 * Runs `fn` (synchronous writes on `db`) waiting at most `ms` for the write lock, and turns
 * SQLite's "database is locked" into AppError BUSY. Other work on the same connection (training
 * bookkeeping) keeps the long wait: the setting is put back before anything else can run.
 */
export function withBusyTimeout<T>(db: Db, ms: number, fn: () => T): T {
  const before = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${ms}`);
  try {
    return fn();
  } catch (err) {
    if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_BUSY')) {
      throw new AppError('BUSY', 'the project is busy: another task (an import) is writing to it; this change was not saved, try again');
    }
    throw err;
  } finally {
    db.pragma(`busy_timeout = ${before}`);
  }
}

/**
 * Inside Electron, better-sqlite3 must be built for Electron's ABI, while tests and the CLI use the
 * Node build in node_modules. The start script builds the Electron copy apart and names it here.
 */
function electronBinding(): { nativeBinding?: string } {
  const binding = process.env.BOXTUNE_SQLITE_BINDING;
  return process.versions.electron && binding ? { nativeBinding: binding } : {};
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration newer than the file's user_version, each atomically. */
export function migrate(db: Db): number {
  const current = schemaVersion(db);
  if (current > LATEST_VERSION) {
    throw new AppError(
      'CONFLICT',
      `this project was written by a newer boxtune (schema ${current}; this build knows up to ${LATEST_VERSION})`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    // foreign_keys cannot change inside a transaction: off around it, the references checked in it.
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.rebuildsTables && (db.pragma('foreign_key_check') as unknown[]).length > 0) {
          throw new AppError('INTERNAL', `migration ${m.version} (${m.name}) would break foreign keys`);
        }
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } finally {
      if (m.rebuildsTables) db.pragma('foreign_keys = ON');
    }
  }
  return schemaVersion(db);
}
