/** @file dataset.*: import and export as jobs in a worker, and the train/val/test assignment. */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../shared/errors';
import { EXPORT_FORMATS, IMPORT_FORMATS, SPLITS, type ExportSummary, type ImportSummary, type SplitSummary } from '../../../shared/types';
import { planSplitRequest } from '../../dataset/splits';
import { runTask } from '../worker-tasks';
import { projectChanged, write, type ArgsMatchApi, type Handlers, type ServiceContext } from './context';
import { pathString, split } from './schema-parts';

const ratio = z.number().min(0).max(1000);

export const datasetSchemas = {
  'dataset.import': z.strictObject({
    format: z.enum(IMPORT_FORMATS),
    source: pathString,
    imagesDir: pathString.optional(),
    split: split.optional(),
    copy: z.boolean().optional(),
  }),
  'dataset.export': z.strictObject({
    format: z.enum(EXPORT_FORMATS),
    dir: pathString,
    images: z.enum(['link', 'copy']).optional(),
    splits: z.array(split).min(1).optional(),
  }),
  'dataset.assignSplits': z.strictObject({
    ratios: z.strictObject({ train: ratio, val: ratio, test: ratio }),
    seed: z.number().int().optional(),
    scope: z.enum(['unassigned', 'all', 'train']).optional(),
  }),
};
const _argsMatch: ArgsMatchApi<typeof datasetSchemas> = true;
void _argsMatch;

type Args<M extends keyof typeof datasetSchemas> = z.output<(typeof datasetSchemas)[M]>;

export const datasetHandlers = {
  'dataset.import': (ctx, args) => startImport(ctx, args),
  'dataset.export': (ctx, args) => {
    const root = ctx.requireStore().root;
    const job = ctx.jobs.start('export', `Export ${args.format.toUpperCase()}`, (jobCtx) =>
      runTask<ExportSummary>({ kind: 'export', root, request: { ...args, dir: path.resolve(args.dir) } }, jobCtx),
    );
    return { jobId: job.id };
  },
  'dataset.assignSplits': (ctx, args) => assignSplits(ctx, args),
} satisfies Handlers<typeof datasetSchemas>;

function startImport(ctx: ServiceContext, args: Args<'dataset.import'>): { jobId: string } {
  const root = ctx.requireStore().root;
  // A source that is not there is said now, not by a job a moment later.
  if (!fs.existsSync(args.source)) throw new AppError('FILE_NOT_FOUND', `nothing to import at ${args.source}: no such file or folder`);
  if (args.imagesDir !== undefined && !fs.statSync(args.imagesDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new AppError('FILE_NOT_FOUND', `images folder not found: ${args.imagesDir}`);
  }
  const job = ctx.jobs.start(
    'import',
    `Import ${path.basename(args.source)}`,
    (jobCtx) => runTask<ImportSummary>({ kind: 'import', root, request: { ...args, source: path.resolve(args.source) } }, jobCtx),
    () => {
      projectChanged(ctx, root);
      if (ctx.store?.root === root) ctx.thumbnails.startQuietly(ctx.store);
    },
  );
  return { jobId: job.id };
}

function assignSplits(ctx: ServiceContext, args: Args<'dataset.assignSplits'>): SplitSummary {
  const store = ctx.requireStore();
  const updates = planSplitRequest(store.imageClasses(), args);
  write(ctx, (s) => s.setSplits(updates));
  const counts = Object.fromEntries(SPLITS.map((s) => [s, 0])) as SplitSummary['counts'];
  for (const s of store.info().splits) counts[s.split] = s.images;
  projectChanged(ctx, store.root);
  return { assigned: updates.size, counts };
}
