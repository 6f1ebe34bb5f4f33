/**
 * @file The export pipeline: read the chosen splits from the store and hand them to a format writer.
 * The output folder must be new or empty; if writing fails, whatever was written is removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { ExportRequest, ExportSummary, Split } from '../../shared/types';
import { writeDataset } from '../formats';
import { makeDirs } from '../util/make-dirs';
import type { CancelFn, ProgressFn } from '../formats/types';
import type { LabelStore } from '../store/label-store';

export interface ExportOptions {
  onProgress?: ProgressFn;
  isCancelled?: CancelFn;
}

const EXPORTABLE_SPLITS: readonly Split[] = ['train', 'val', 'test'];

export function exportDataset(store: LabelStore, req: ExportRequest, opts: ExportOptions = {}): ExportSummary {
  const outDir = path.resolve(req.dir);
  const existed = fs.existsSync(outDir);
  if (existed && (!fs.statSync(outDir).isDirectory() || fs.readdirSync(outDir).length > 0)) {
    throw new AppError('EXPORT_FAILED', `export folder ${outDir} is not empty; choose a new or empty folder`);
  }
  const splits = (req.splits ?? EXPORTABLE_SPLITS).filter((s) => s !== 'none');
  opts.onProgress?.('reading labels', 0, 1);
  const ds = store.exportDataset(splits);
  const unsplit = (store.db.prepare("SELECT COUNT(*) AS n FROM images WHERE split = 'none'").get() as { n: number }).n;
  if (ds.images.length === 0) {
    const hint = unsplit ? `; ${unsplit} images have no split yet: assign splits first` : '';
    throw new AppError('EXPORT_FAILED', `nothing to export in splits ${splits.join(', ')}${hint}`);
  }
  makeDirs(outDir);
  try {
    const { files } = writeDataset(req.format, ds, outDir, {
      // Copies by default: a hard link shares the bytes, so an edit to the exported file would
      // change the project's own image. Linking is there for those who ask for it.
      images: req.images ?? 'copy',
      onProgress: opts.onProgress,
      isCancelled: opts.isCancelled,
    });
    return {
      dir: outDir,
      images: ds.images.length,
      boxes: ds.images.reduce((a, im) => a + im.boxes.length, 0),
      files,
      skippedUnsplit: req.splits ? 0 : unsplit,
    };
  } catch (err) {
    // Leave no half-written dataset behind: remove the folder if we made it, else empty it again.
    if (existed) for (const entry of fs.readdirSync(outDir)) fs.rmSync(path.join(outDir, entry), { recursive: true, force: true });
    else fs.rmSync(outDir, { recursive: true, force: true });
    throw err;
  }
}
