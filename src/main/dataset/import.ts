/**
 * @file The import pipeline: read a dataset's files, check every label, probe every image, then
 * write everything in one store transaction. Any malformed label aborts the import before the
 * store is touched, with every problem listed as file:line: reason.
 */
import { clipRect } from '../../shared/geometry';
import fs from 'node:fs';
import path from 'node:path';
import { AppError, formatProblem, type Problem } from '../../shared/errors';
import type { ImportRequest, ImportSummary } from '../../shared/types';
import { readDataset } from '../formats';
import type { CancelFn, ImportPlan, ParsedDataset, PlannedImage, ProgressFn } from '../formats/types';
import { probeImage } from '../images/probe';
import type { LabelStore } from '../store/label-store';

export interface ImportOptions {
  onProgress?: ProgressFn;
  isCancelled?: CancelFn;
}

/** Boxes may poke this far (pixels) past the image edge from rounding in other tools; clipped. */
const EDGE_TOLERANCE_PX = 1;
/** Problems listed in the error message itself; all of them are in details.problems. */
const PROBLEMS_IN_MESSAGE = 20;

export function importDataset(store: LabelStore, req: ImportRequest, opts: ImportOptions = {}): ImportSummary {
  const parsed = readSource(req, opts);
  if (parsed.problems.length > 0) throw invalidImport(req, parsed.problems);
  if (parsed.images.length === 0) {
    throw new AppError('IMPORT_EMPTY', `no images found in ${req.source}`);
  }
  const { plan, unreadable, warnings } = planImport(store, parsed, opts);
  if (plan.images.length === 0) {
    throw new AppError('IMPORT_EMPTY', `none of the ${parsed.images.length} images in ${req.source} could be read`, {
      unreadable,
    });
  }
  const copied = req.copy ? copyIntoProject(store, plan, opts) : [];
  try {
    const result = store.applyImport(plan, {
      onProgress: (done, total) => opts.onProgress?.('writing', done, total),
      isCancelled: opts.isCancelled,
    });
    return { ...result, unreadable, warnings: [...parsed.warnings, ...warnings] };
  } catch (err) {
    for (const file of copied) fs.rmSync(file, { force: true });
    throw err;
  }
}

/** Reads the source; a reader's own IMPORT_INVALID (a yaml or json syntax error) gets the same form. */
function readSource(req: ImportRequest, opts: ImportOptions): ParsedDataset {
  try {
    return readDataset(req, opts);
  } catch (err) {
    const problems = err instanceof AppError ? (err.details as { problems?: Problem[] } | undefined)?.problems : undefined;
    if (err instanceof AppError && err.code === 'IMPORT_INVALID' && problems?.length) throw invalidImport(req, problems);
    throw err;
  }
}

function invalidImport(req: ImportRequest, problems: Problem[]): AppError {
  const n = problems.length;
  const shown = problems.slice(0, PROBLEMS_IN_MESSAGE).map(formatProblem);
  const more = n > PROBLEMS_IN_MESSAGE ? [`... and ${n - PROBLEMS_IN_MESSAGE} more`] : [];
  return new AppError(
    'IMPORT_INVALID',
    [`import of ${req.source} aborted, nothing was imported: ${n} problem${n === 1 ? '' : 's'}`, ...shown, ...more].join('\n'),
    { problems },
  );
}

/** Probes every image (hash, size) and converts boxes to pixels; unreadable images are listed and skipped. */
function planImport(
  store: LabelStore,
  parsed: ParsedDataset,
  opts: ImportOptions,
): { plan: ImportPlan; unreadable: ImportSummary['unreadable']; warnings: string[] } {
  const images: PlannedImage[] = [];
  const unreadable: ImportSummary['unreadable'] = [];
  let sizeMismatches = 0;
  let clipped = 0;
  const total = parsed.images.length;
  for (let i = 0; i < total; i++) {
    if ((i & 255) === 0) {
      if (opts.isCancelled?.()) throw new AppError('JOB_CANCELLED', 'import cancelled; nothing was written');
      opts.onProgress?.('reading images', i, total);
    }
    const img = parsed.images[i]!;
    const probed = probeImage(img.absPath);
    if (!probed.ok) {
      unreadable.push({ file: img.absPath, reason: probed.reason });
      continue;
    }
    const { width, height, hash } = probed.probe;
    if (img.declaredSize && (img.declaredSize.width !== width || img.declaredSize.height !== height)) sizeMismatches++;
    const boxes: PlannedImage['boxes'] = [];
    for (const b of img.boxes) {
      const sx = b.normalized ? width : 1;
      const sy = b.normalized ? height : 1;
      const box = clipBox(b.x * sx, b.y * sy, b.w * sx, b.h * sy, width, height);
      if (box.clipped) clipped++;
      boxes.push({ classIndex: b.classIndex, x: box.x, y: box.y, w: box.w, h: box.h, ...(b.attrs ? { attrs: b.attrs } : {}) });
    }
    images.push({
      path: store.relativePath(img.absPath),
      hash,
      width,
      height,
      split: img.split,
      labeled: img.labeled,
      boxes,
      ...(img.attrs ? { attrs: img.attrs } : {}),
    });
  }
  opts.onProgress?.('reading images', total, total);
  const warnings: string[] = [];
  if (sizeMismatches) warnings.push(`${sizeMismatches} images differ in size from what the annotation file declares; the file's own size was used`);
  if (clipped) warnings.push(`${clipped} boxes reached past the image edge and were clipped to it`);
  if (unreadable.length) warnings.push(`${unreadable.length} files could not be read as images and were skipped`);
  return { plan: { classes: parsed.classes, images }, unreadable, warnings };
}

/** Clips a pixel box to the image (src/shared/geometry.ts); reports whether it moved by more than the rounding tolerance. */
function clipBox(x: number, y: number, w: number, h: number, width: number, height: number) {
  // Wholly outside (the image is smaller than its annotation file said): kept as an empty box at the
  // edge, as before, and counted as clipped, rather than dropped without a word.
  const c = clipRect({ x, y, w, h }, { width, height }, 0) ?? { x: Math.max(0, Math.min(x, width)), y: Math.max(0, Math.min(y, height)), w: 0, h: 0 };
  const moved = Math.max(c.x - x, c.y - y, x + w - (c.x + c.w), y + h - (c.y + c.h));
  return { ...c, clipped: moved > EDGE_TOLERANCE_PX };
}

/**
 * Copies the images into `<project>/images/<split>/` and points the plan at the copies. Names that
 * are taken get a numeric suffix; the copies are removed again if the import does not commit.
 */
function copyIntoProject(store: LabelStore, plan: ImportPlan, opts: ImportOptions): string[] {
  const copied: string[] = [];
  const taken = new Set<string>();
  try {
    plan.images.forEach((img, i) => {
      if ((i & 255) === 0) {
        if (opts.isCancelled?.()) throw new AppError('JOB_CANCELLED', 'import cancelled; nothing was written');
        opts.onProgress?.('copying images', i, plan.images.length);
      }
      const src = store.absolutePath(img.path);
      const dir = path.join(store.root, 'images', img.split === 'none' ? 'unsplit' : img.split);
      fs.mkdirSync(dir, { recursive: true });
      const dest = freeName(dir, path.basename(src), taken);
      fs.copyFileSync(src, dest, fs.constants.COPYFILE_EXCL);
      copied.push(dest);
      img.path = store.relativePath(dest);
    });
  } catch (err) {
    for (const file of copied) fs.rmSync(file, { force: true });
    throw err;
  }
  return copied;
}

function freeName(dir: string, base: string, taken: Set<string>): string {
  const ext = path.extname(base);
  const stem = base.slice(0, base.length - ext.length);
  for (let n = 0; ; n++) {
    const candidate = path.join(dir, n === 0 ? base : `${stem}_${n}${ext}`);
    if (!taken.has(candidate) && !fs.existsSync(candidate)) {
      taken.add(candidate);
      return candidate;
    }
  }
}
