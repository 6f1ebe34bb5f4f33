/**
 * @file LabelStore: the project's labels in one SQLite file. The database is the source of truth;
 * every write is a committed transaction, so nothing is lost when the app is killed.
 * Synchronous (better-sqlite3): big jobs use their own connection in a worker thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type {
  Attrs,
  BoxRecord,
  BoxSource,
  ClassCount,
  ClassRecord,
  ImageFilter,
  ImageNeighbors,
  ImagePage,
  ImagePageQuery,
  ImageRecord,
  ImageStatus,
  ProjectInfo,
  Split,
  SplitCount,
} from '../../shared/types';
import { IMAGE_STATUSES } from '../../shared/types';
import type { ExportDataset, ImportPlan } from '../formats/types';
import { classColor } from './colors';
import { makeDirs } from '../util/make-dirs';
import { DB_FILE, openDatabase, type Db } from './db';
import { BOX_TRIGGER_NAMES, BOX_TRIGGERS_SQL } from './migrations';

export interface ApplyImportOptions {
  /** Called every few thousand rows while writing. */
  onProgress?: (done: number, total: number) => void;
  /** Checked while writing; returning true rolls the whole import back. */
  isCancelled?: () => boolean;
}

export interface ApplyImportResult {
  images: number;
  boxes: number;
  classesAdded: string[];
  skippedExisting: number;
}

interface ImageRow {
  id: number;
  path: string;
  hash: string;
  width: number;
  height: number;
  split: Split;
  status: ImageStatus;
  box_count: number;
  attrs: string | null;
}

interface BoxRow {
  id: number;
  image_id: number;
  class_id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  source: BoxSource;
  run_id: number | null;
  score: number | null;
  attrs: string | null;
}

const PAGE_LIMIT_MAX = 1000;

export class LabelStore {
  readonly db: Db;
  /** Absolute project folder; image paths in the store are relative to it. */
  readonly root: string;

  private constructor(db: Db, root: string) {
    this.db = db;
    this.root = root;
  }

  /** Opens an existing project folder (holding boxtune.db). */
  static open(root: string): LabelStore {
    const abs = path.resolve(root);
    const file = path.join(abs, DB_FILE);
    if (!fs.existsSync(file)) {
      throw new AppError('PROJECT_NOT_FOUND', `no boxtune project in ${abs} (${DB_FILE} not found)`);
    }
    return new LabelStore(openDatabase(file), abs);
  }

  /** Creates a project in `root` (created if missing). Fails if a project is already there. */
  static create(root: string, name?: string): LabelStore {
    const abs = path.resolve(root);
    makeDirs(abs); // not mkdirSync({ recursive }): it never returns for some paths (under /proc)
    const file = path.join(abs, DB_FILE);
    if (fs.existsSync(file)) throw new AppError('PROJECT_EXISTS', `a boxtune project already exists in ${abs}`);
    const store = new LabelStore(openDatabase(file, { create: true }), abs);
    const now = Date.now();
    store.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)')
      .run('name', name?.trim() || path.basename(abs), 'created_at', String(now));
    return store;
  }

  static isProject(root: string): boolean {
    return fs.existsSync(path.join(path.resolve(root), DB_FILE));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get name(): string {
    return this.meta('name') ?? path.basename(this.root);
  }

  meta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Path of an image as stored: relative to the root, '/' separators. */
  relativePath(absPath: string): string {
    return path.relative(this.root, path.resolve(absPath)).split(path.sep).join('/');
  }

  absolutePath(relPath: string): string {
    return path.resolve(this.root, ...relPath.split('/'));
  }

  // ---- classes ---------------------------------------------------------------------------------

  classes(): ClassRecord[] {
    return this.db.prepare('SELECT id, name, color, ord AS "order" FROM classes ORDER BY ord, id').all() as ClassRecord[];
  }

  /** Returns the id of each name, adding the missing ones at the end of the class list. */
  ensureClasses(names: readonly string[]): { ids: number[]; added: string[] } {
    const existing = new Map(this.classes().map((c) => [c.name, c.id]));
    let next = (this.db.prepare('SELECT COALESCE(MAX(ord) + 1, 0) AS n FROM classes').get() as { n: number }).n;
    const insert = this.db.prepare('INSERT INTO classes (name, color, ord) VALUES (?, ?, ?)');
    const added: string[] = [];
    const ids = names.map((name) => {
      const found = existing.get(name);
      if (found !== undefined) return found;
      const id = Number(insert.run(name, classColor(next), next).lastInsertRowid);
      next += 1;
      existing.set(name, id);
      added.push(name);
      return id;
    });
    return { ids, added };
  }

  /** Instances per class, from the trigger-maintained counters (one small read at any size). */
  classCounts(): ClassCount[] {
    return this.db
      .prepare(
        `SELECT c.id AS classId, c.name AS name, cc.boxes AS boxes
         FROM classes c JOIN class_counts cc ON cc.class_id = c.id ORDER BY c.ord, c.id`,
      )
      .all() as ClassCount[];
  }

  // ---- images ----------------------------------------------------------------------------------

  imageCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n;
  }

  getImage(id: number): ImageRecord {
    const row = this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    if (!row) throw new AppError('NOT_FOUND', `image ${id} not found`);
    return toImage(row);
  }

  /** One page of images matching the filter, in id order, with the total count for the filter. */
  page(query: ImagePageQuery = {}): ImagePage {
    const limit = Math.min(Math.max(query.limit ?? 200, 1), PAGE_LIMIT_MAX);
    const { from, countFrom, where, params, order } = filterSql(query.filter ?? {});
    const sqlWhere = (w: string[]): string => (w.length ? `WHERE ${w.join(' AND ')}` : '');
    const pageWhere = query.afterId !== undefined ? [...where, `${order} > @afterId`] : where;
    const rows = this.db
      .prepare(`SELECT i.* ${from} ${sqlWhere(pageWhere)} ORDER BY ${order} LIMIT @limit OFFSET @offset`)
      .all({ ...params, afterId: query.afterId, limit, offset: query.offset ?? 0 }) as ImageRow[];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n ${countFrom} ${sqlWhere(where)}`).get(params) as { n: number }).n;
    return { items: rows.map(toImage), total };
  }

  /** Neighbours of an image in the filtered id order (the browser's and the D/A keys' order). */
  neighbors(id: number, filter: ImageFilter = {}): ImageNeighbors {
    const { from, countFrom, where, params, order } = filterSql(filter);
    const w = (extra: string): string => `WHERE ${[...where, extra].join(' AND ')}`;
    const one = (sql: string, p = params): number | null =>
      (this.db.prepare(sql).pluck().get({ ...p, id }) as number | undefined) ?? null;
    const unlabeledFilter = filterSql({ ...filter, status: 'unlabeled' });
    const uw = `WHERE ${[...unlabeledFilter.where, `${unlabeledFilter.order} > @id`].join(' AND ')}`;
    return {
      prev: one(`SELECT ${order} ${from} ${w(`${order} < @id`)} ORDER BY ${order} DESC LIMIT 1`),
      next: one(`SELECT ${order} ${from} ${w(`${order} > @id`)} ORDER BY ${order} LIMIT 1`),
      nextUnlabeled: filter.status && filter.status !== 'unlabeled'
        ? null
        : one(`SELECT ${unlabeledFilter.order} ${unlabeledFilter.from} ${uw} ORDER BY ${unlabeledFilter.order} LIMIT 1`, unlabeledFilter.params),
      index: one(`SELECT COUNT(*) ${countFrom} ${w(`${order} < @id`)}`) ?? 0,
      total: one(`SELECT COUNT(*) ${countFrom} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`) ?? 0,
    };
  }

  /** The given boxes, in id order (unknown ids are skipped). */
  boxesById(ids: readonly number[]): BoxRecord[] {
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare('SELECT * FROM boxes WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id')
      .all(JSON.stringify(ids)) as BoxRow[];
    return rows.map(toBox);
  }

  boxes(imageId: number): BoxRecord[] {
    const rows = this.db.prepare('SELECT * FROM boxes WHERE image_id = ? ORDER BY id').all(imageId) as BoxRow[];
    return rows.map(toBox);
  }

  setSplits(updates: ReadonlyMap<number, Split>): number {
    const stmt = this.db.prepare('UPDATE images SET split = ?, updated_at = ? WHERE id = ?');
    const now = Date.now();
    this.db.transaction(() => {
      for (const [id, split] of updates) stmt.run(split, now, id);
    })();
    return updates.size;
  }

  /** Every image id with its split and the distinct classes it holds (for split planning). */
  imageClasses(): { id: number; split: Split; classIds: number[] }[] {
    const rows = this.db
      .prepare(
        `SELECT i.id AS id, i.split AS split, GROUP_CONCAT(DISTINCT b.class_id) AS classes
         FROM images i LEFT JOIN boxes b ON b.image_id = i.id GROUP BY i.id ORDER BY i.id`,
      )
      .all() as { id: number; split: Split; classes: string | null }[];
    return rows.map((r) => ({ id: r.id, split: r.split, classIds: r.classes ? r.classes.split(',').map(Number) : [] }));
  }

  // ---- summary ---------------------------------------------------------------------------------

  info(): ProjectInfo {
    const splitRows = this.db
      .prepare('SELECT split, COUNT(*) AS images, SUM(box_count) AS boxes FROM images GROUP BY split')
      .all() as { split: Split; images: number; boxes: number | null }[];
    const splits: SplitCount[] = splitRows.map((r) => ({ split: r.split, images: r.images, boxes: r.boxes ?? 0 }));
    const statusRows = this.db.prepare('SELECT status, COUNT(*) AS n FROM images GROUP BY status').all() as {
      status: ImageStatus;
      n: number;
    }[];
    const statuses = Object.fromEntries(IMAGE_STATUSES.map((s) => [s, 0])) as Record<ImageStatus, number>;
    for (const r of statusRows) statuses[r.status] = r.n;
    // From image_classes (one row per image and class) rather than the boxes: ~10x fewer rows.
    const perClassRows = this.db
      .prepare('SELECT class_id AS classId, split, SUM(boxes) AS n FROM image_classes GROUP BY class_id, split')
      .all() as { classId: number; split: Split; n: number }[];
    const perClassSplit: ProjectInfo['perClassSplit'] = {};
    for (const r of perClassRows) (perClassSplit[r.classId] ??= {})[r.split] = r.n;
    const classCounts = this.classCounts();
    return {
      root: this.root,
      name: this.name,
      images: splits.reduce((a, s) => a + s.images, 0),
      boxes: classCounts.reduce((a, c) => a + c.boxes, 0),
      classes: this.classes(),
      splits,
      statuses,
      perClassSplit,
      classCounts,
    };
  }

  // ---- bulk import / export ----------------------------------------------------------------------

  /**
   * Writes a whole import in ONE transaction: either every image, class and box lands, or (error,
   * cancel, crash, kill) none does. Images already in the project (same relative path) are left as
   * they are and counted in `skippedExisting`.
   *
   * The transaction holds the project's write lock, so the caller does everything that needs no
   * lock first (parsing, probing and hashing in dataset/import.ts): in here there are only inserts,
   * about a second for 10k images / 50k boxes. Edits from the UI meanwhile answer BUSY at once and
   * are sent again (db.ts withBusyTimeout) instead of waiting on the main thread.
   */
  applyImport(plan: ImportPlan, opts: ApplyImportOptions = {}): ApplyImportResult {
    const total = plan.images.length;
    const now = Date.now();
    const db = this.db;
    const findImage = db.prepare('SELECT id FROM images WHERE path = ?').pluck();
    const insertImage = db.prepare(
      `INSERT INTO images (path, hash, width, height, split, status, box_count, attrs, added_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertBox = db.prepare(
      `INSERT INTO boxes (image_id, class_id, x, y, w, h, source, attrs, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'import', ?, ?, ?)`,
    );
    const insertImageClass = db.prepare(
      'INSERT INTO image_classes (image_id, class_id, split, status, boxes) VALUES (?, ?, ?, ?, ?)',
    );
    const addClassCount = db.prepare('UPDATE class_counts SET boxes = boxes + ? WHERE class_id = ?');
    const run = db.transaction((): ApplyImportResult => {
      const { ids: classIds, added } = this.ensureClasses(plan.classes);
      // Per-box triggers would triple the write time of a 1M-box import: drop them for this
      // transaction, keep the counters here, and recreate them before commit (all atomic).
      for (const name of BOX_TRIGGER_NAMES) db.exec(`DROP TRIGGER ${name}`);
      const classTotals = new Map<number, number>();
      const perImage = new Map<number, number>();
      let images = 0;
      let boxes = 0;
      let skippedExisting = 0;
      for (let i = 0; i < total; i++) {
        const img = plan.images[i]!;
        if ((i & 1023) === 0) {
          if (opts.isCancelled?.()) throw new AppError('JOB_CANCELLED', 'import cancelled; nothing was written');
          opts.onProgress?.(i, total);
        }
        if (findImage.get(img.path) !== undefined) {
          skippedExisting++;
          continue;
        }
        const status: ImageStatus = img.labeled ? 'labeled' : 'unlabeled';
        const attrs = attrsJson(img.attrs);
        const imageId = Number(
          insertImage.run(img.path, img.hash, img.width, img.height, img.split, status, img.boxes.length, attrs, now, now)
            .lastInsertRowid,
        );
        images++;
        perImage.clear();
        for (const b of img.boxes) {
          const classId = classIds[b.classIndex];
          if (classId === undefined) throw new AppError('INTERNAL', `class index ${b.classIndex} out of range`);
          insertBox.run(imageId, classId, b.x, b.y, b.w, b.h, attrsJson(b.attrs), now, now);
          perImage.set(classId, (perImage.get(classId) ?? 0) + 1);
        }
        boxes += img.boxes.length;
        for (const [classId, n] of perImage) {
          insertImageClass.run(imageId, classId, img.split, status, n);
          classTotals.set(classId, (classTotals.get(classId) ?? 0) + n);
        }
      }
      for (const [classId, n] of classTotals) addClassCount.run(n, classId);
      db.exec(BOX_TRIGGERS_SQL);
      opts.onProgress?.(total, total);
      return { images, boxes, classesAdded: added, skippedExisting };
    });
    // A bigger page cache for the duration: a 1M-box import spills the default one to disk.
    const cacheSize = db.pragma('cache_size', { simple: true }) as number;
    db.pragma('cache_size = -262144');
    try {
      return run.immediate();
    } finally {
      db.pragma(`cache_size = ${cacheSize}`);
    }
  }

  /** Reads the images of the given splits with their boxes, classes ranked by list order. */
  exportDataset(splits: readonly Split[]): ExportDataset {
    const classes = this.classes();
    const rank = new Map(classes.map((c, i) => [c.id, i]));
    const placeholders = splits.map(() => '?').join(', ');
    const imageRows = this.db
      .prepare(`SELECT * FROM images WHERE split IN (${placeholders}) ORDER BY id`)
      .all(...splits) as ImageRow[];
    const boxStmt = this.db.prepare('SELECT * FROM boxes WHERE image_id = ? ORDER BY id');
    return {
      classes: classes.map((c) => c.name),
      images: imageRows.map((r) => {
        const attrs = parseAttrs(r.attrs);
        return {
          absPath: this.absolutePath(r.path),
          relPath: r.path,
          width: r.width,
          height: r.height,
          split: r.split,
          labeled: r.status !== 'unlabeled',
          ...(attrs ? { attrs } : {}),
          boxes: (boxStmt.all(r.id) as BoxRow[]).map((b) => {
            const battrs = parseAttrs(b.attrs);
            return { classIndex: rank.get(b.class_id)!, x: b.x, y: b.y, w: b.w, h: b.h, ...(battrs ? { attrs: battrs } : {}) };
          }),
        };
      }),
    };
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

/**
 * FROM and WHERE for a filter. With a class, the rows come from image_classes, which carries the
 * split and status too, so page and count are one index range however many boxes there are.
 */
function filterSql(f: ImageFilter): {
  from: string;
  countFrom: string;
  where: string[];
  params: Record<string, unknown>;
  order: string;
} {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  const byClass = f.classId !== undefined;
  const t = byClass ? 'ic' : 'i';
  if (byClass) {
    where.push('ic.class_id = @classId');
    params.classId = f.classId;
  }
  if (f.split) {
    where.push(`${t}.split = @split`);
    params.split = f.split;
  }
  if (f.status) {
    where.push(`${t}.status = @status`);
    params.status = f.status;
  }
  if (f.hasPredictions !== undefined) {
    where.push(`${f.hasPredictions ? '' : 'NOT '}EXISTS (SELECT 1 FROM predictions p WHERE p.image_id = i.id)`);
  }
  if (f.search) {
    // instr() on lower() is a plain substring test: no LIKE wildcards to escape.
    where.push('instr(lower(i.path), @search) > 0');
    params.search = f.search.toLowerCase();
  }
  const from = byClass ? 'FROM image_classes ic JOIN images i ON i.id = ic.image_id' : 'FROM images i';
  // SQLite never drops an unused join: count from the index alone when no filter reads images.
  const readsImages = f.hasPredictions !== undefined || Boolean(f.search);
  const countFrom = byClass && !readsImages ? 'FROM image_classes ic' : from;
  return { from, countFrom, where, params, order: byClass ? 'ic.image_id' : 'i.id' };
}

function attrsJson(attrs: Attrs | undefined): string | null {
  return attrs && Object.keys(attrs).length ? JSON.stringify(attrs) : null;
}

function parseAttrs(json: string | null): Attrs | undefined {
  return json ? (JSON.parse(json) as Attrs) : undefined;
}

function toImage(r: ImageRow): ImageRecord {
  const attrs = parseAttrs(r.attrs);
  return {
    id: r.id,
    path: r.path,
    hash: r.hash,
    width: r.width,
    height: r.height,
    split: r.split,
    status: r.status,
    boxCount: r.box_count,
    ...(attrs ? { attrs } : {}),
  };
}

function toBox(r: BoxRow): BoxRecord {
  const attrs = parseAttrs(r.attrs);
  return {
    id: r.id,
    imageId: r.image_id,
    classId: r.class_id,
    x: r.x,
    y: r.y,
    w: r.w,
    h: r.h,
    source: r.source,
    runId: r.run_id,
    score: r.score,
    ...(attrs ? { attrs } : {}),
  };
}
