/**
 * @file The store part of `npm run bench`: import a 100k-image / 1M-box YOLO dataset into a fresh
 * project with the real import pipeline, then time what the image browser asks of the store.
 *
 * Figures (targets from issue 2):
 *  - import wall time, importDataset() end to end (read labels, probe images, one transaction) <= 60 s
 *  - a filtered page of 200 images (class + split + status, random, offsets in the first 5 pages),
 *    p95 over 200 queries on a freshly opened connection                                      <= 20 ms
 *  - instance counts per class (classCounts()), p95 over 200 calls                             <= 50 ms
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageFilter, ImageStatus, Split } from '../src/shared/types';
import { importDataset } from '../src/main/dataset/import';
import { LabelStore } from '../src/main/store/label-store';
import { Rng } from '../src/main/util/rng';
import { makeLargeYolo, type LargeYoloOptions } from './make-large-yolo';
import { mib, percentile, type Log, type PartResult } from './types';

export interface StoreBenchOptions {
  log: Log;
  dataset?: LargeYoloOptions;
  queries?: number;
  /** Keep the bench project folder (default: removed at the end). */
  keepProject?: boolean;
}

const SPLITS: Split[] = ['train', 'val', 'test'];
/**
 * Status filters drawn with a class filter. 'unlabeled' is left out: an unlabeled image holds no
 * boxes, so 'unlabeled + class' is empty by construction and would only flatter the p95.
 */
const STATUSES: ImageStatus[] = ['labeled', 'reviewed'];
/** Share of labeled images the bench marks 'reviewed' before querying, so every status filter has rows. */
const REVIEWED_SHARE = 0.3;

export async function runStoreBench(opts: StoreBenchOptions): Promise<PartResult> {
  const { log } = opts;
  const nQueries = opts.queries ?? 200;
  const ds = await makeLargeYolo({ log, ...opts.dataset });

  const benchRoot = path.dirname(ds.dir);
  fs.mkdirSync(benchRoot, { recursive: true });
  const projectDir = fs.mkdtempSync(path.join(benchRoot, 'project-'));
  const dbFile = path.join(projectDir, 'boxtune.db');
  log(`store: importing ${ds.yamlPath} into a fresh project at ${projectDir}`);

  // ---- import ---------------------------------------------------------------------------------
  const phases: { phase: string; sec: number }[] = [];
  let phase = '';
  let phaseStart = 0;
  let lastLog = 0;
  let store = LabelStore.create(projectDir, 'bench');
  const t0 = performance.now();
  phaseStart = t0;
  const summary = importDataset(
    store,
    { format: 'yolo', source: ds.yamlPath },
    {
      onProgress: (p, done, total) => {
        const now = performance.now();
        if (p !== phase) {
          if (phase) phases.push({ phase, sec: (now - phaseStart) / 1000 });
          phase = p;
          phaseStart = now;
        }
        if (now - lastLog > 2000 || (done === total && total > 0)) {
          lastLog = now;
          log(`store:   ${((now - t0) / 1000).toFixed(1).padStart(5)} s  ${p}: ${done}/${total}`);
        }
      },
      isCancelled: () => false,
    },
  );
  const importSec = (performance.now() - t0) / 1000;
  if (phase) phases.push({ phase, sec: (performance.now() - phaseStart) / 1000 });
  const rssAfterImport = process.memoryUsage().rss;
  log(
    `store: imported ${summary.images} images, ${summary.boxes} boxes in ${importSec.toFixed(1)} s ` +
      `(${phases.map((p) => `${p.phase} ${p.sec.toFixed(1)} s`).join(', ')})`,
  );
  if (summary.images !== ds.images || summary.boxes !== ds.boxes) {
    throw new Error(`import gave ${summary.images} images / ${summary.boxes} boxes, expected ${ds.images} / ${ds.boxes}`);
  }
  if (summary.unreadable.length) throw new Error(`${summary.unreadable.length} unreadable images, e.g. ${summary.unreadable[0]?.file}`);

  // Untimed setup: some labeled images become 'reviewed', so all three status filters have rows.
  const reviewed = store.db
    .prepare(`UPDATE images SET status = 'reviewed' WHERE status = 'labeled' AND (id * 7919) % 1000 < ?`)
    .run(Math.round(REVIEWED_SHARE * 1000)).changes;
  store.close();
  const dbBytes = fileSize(dbFile) + fileSize(`${dbFile}-wal`);

  // ---- queries, on a fresh connection (as the UI after an import in a worker) ---------------------
  store = LabelStore.open(projectDir);
  const classes = store.classes();
  const rng = new Rng(2024);
  const randomQuery = () => {
    const cls = classes[rng.int(classes.length)];
    const filter: ImageFilter = {
      split: SPLITS[rng.int(SPLITS.length)] as Split,
      status: STATUSES[rng.int(STATUSES.length)] as ImageStatus,
      ...(cls ? { classId: cls.id } : {}),
    };
    return { filter, offset: 200 * rng.int(5), limit: 200 };
  };
  for (let i = 0; i < 10; i++) store.page(randomQuery()); // warm-up: statement cache, first pages
  const pageMs: number[] = [];
  const slowest: { ms: number; query: unknown; total: number }[] = [];
  let rowsSeen = 0;
  for (let i = 0; i < nQueries; i++) {
    const q = randomQuery();
    const t = performance.now();
    const page = store.page(q);
    const ms = performance.now() - t;
    pageMs.push(ms);
    rowsSeen += page.items.length;
    slowest.push({ ms, query: q, total: page.total });
  }
  slowest.sort((a, b) => b.ms - a.ms);

  for (let i = 0; i < 5; i++) store.classCounts();
  const countMs: number[] = [];
  let counted = 0;
  for (let i = 0; i < nQueries; i++) {
    const t = performance.now();
    const counts = store.classCounts();
    countMs.push(performance.now() - t);
    counted = counts.reduce((a, c) => a + c.boxes, 0);
  }
  if (counted !== ds.boxes) throw new Error(`classCounts() sums to ${counted}, expected ${ds.boxes}`);
  store.close();

  const rssEnd = process.memoryUsage().rss;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  if (!opts.keepProject) fs.rmSync(projectDir, { recursive: true, force: true });
  log(`store: memory rss ${mib(rssAfterImport)} MiB after import, peak ${mib(maxRss)} MiB; db ${mib(dbBytes)} MiB`);

  return {
    part: 'store',
    figures: [
      { name: `import ${ds.images / 1000}k images / ${ds.boxes / 1e6}M boxes`, measured: round(importSec, 2), unit: 's', target: 60 },
      { name: 'filtered page of 200 (class+split+status) p95', measured: round(percentile(pageMs, 95), 2), unit: 'ms', target: 20 },
      { name: 'instance counts per class p95', measured: round(percentile(countMs, 95), 3), unit: 'ms', target: 50 },
      { name: 'filtered page p50', measured: round(percentile(pageMs, 50), 2), unit: 'ms', target: null },
      { name: 'filtered page max', measured: round(Math.max(...pageMs), 2), unit: 'ms', target: null },
      { name: 'peak rss', measured: mib(maxRss), unit: 'MiB', target: null },
    ],
    info: {
      dataset: { dir: ds.dir, images: ds.images, boxes: ds.boxes, unlabeled: ds.unlabeled, perSplit: ds.perSplit, reused: ds.reused, generatedSec: round(ds.generatedSec, 1) },
      import: { sec: round(importSec, 2), phases: phases.map((p) => ({ ...p, sec: round(p.sec, 2) })), summary: { ...summary, unreadable: summary.unreadable.length } },
      queries: {
        n: nQueries,
        reviewedMarked: reviewed,
        pageMs: { p50: round(percentile(pageMs, 50), 3), p95: round(percentile(pageMs, 95), 3), max: round(Math.max(...pageMs), 3) },
        meanRowsPerPage: round(rowsSeen / nQueries, 1),
        slowest: slowest.slice(0, 5).map((s) => ({ ...s, ms: round(s.ms, 2) })),
        classCountsMs: { p50: round(percentile(countMs, 50), 4), p95: round(percentile(countMs, 95), 4) },
      },
      memory: { rssAfterImportMiB: mib(rssAfterImport), rssEndMiB: mib(rssEnd), peakRssMiB: mib(maxRss) },
      dbMiB: mib(dbBytes),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?', node: process.version, platform: `${process.platform}-${process.arch}` },
    },
  };
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
