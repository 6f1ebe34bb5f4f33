/** @file project.*: create, open, close a project, and generate the sample one. */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../shared/errors';
import type { ImportSummary } from '../../../shared/types';
import { LabelStore } from '../../store/label-store';
import { makeDirs } from '../../util/make-dirs';
import { runTask } from '../worker-tasks';
import type { ArgsMatchApi, Handlers, ServiceContext } from './context';
import { empty, pathString } from './schema-parts';

export const projectSchemas = {
  'project.create': z.strictObject({ dir: pathString, name: z.string().trim().max(200).optional() }),
  'project.open': z.strictObject({ dir: pathString }),
  'project.openSample': z.strictObject({
    dir: pathString.optional(),
    images: z.number().int().min(4).max(5000).optional(),
  }),
  'project.close': empty,
  'project.info': empty,
};
const _argsMatch: ArgsMatchApi<typeof projectSchemas> = true;
void _argsMatch;

export const projectHandlers = {
  'project.create': (ctx, args) => {
    // A non-empty folder is fine: the images may already live there. Made here first, where a
    // folder that cannot be made (under /proc) is an error rather than a spin.
    makeDirs(args.dir);
    ctx.openStore(LabelStore.create(path.resolve(args.dir), args.name));
    return ctx.requireStore().info();
  },
  'project.open': (ctx, args) => {
    ctx.openStore(LabelStore.open(args.dir));
    return ctx.requireStore().info();
  },
  'project.openSample': (ctx, args) => openSample(ctx, args),
  'project.close': (ctx) => {
    ctx.closeStore();
    return null;
  },
  'project.info': (ctx) => ctx.requireStore().info(),
} satisfies Handlers<typeof projectSchemas>;

/** Generates a synthetic YOLO dataset in a worker, imports it as a new project, and opens it when done. */
function openSample(ctx: ServiceContext, args: z.output<(typeof projectSchemas)['project.openSample']>): { jobId: string; dir: string } {
  const dir = path.resolve(args.dir ?? path.join(ctx.dataDir, 'samples', `sample-${timestamp()}`));
  if (LabelStore.isProject(dir)) throw new AppError('PROJECT_EXISTS', `a boxtune project already exists in ${dir}`);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new AppError('CONFLICT', `${dir} is not empty; the sample project needs a new or empty folder`);
  }
  const job = ctx.jobs.start(
    'sample',
    'Sample project',
    async (jobCtx) => {
      const sample = await runTask<{ yamlPath: string }>({ kind: 'sample', dir, ...(args.images ? { images: args.images } : {}) }, jobCtx);
      const store = LabelStore.create(dir, 'Sample project');
      store.close();
      return runTask<ImportSummary>({ kind: 'import', root: dir, request: { format: 'yolo', source: sample.yamlPath } }, jobCtx);
    },
    () => ctx.openStore(LabelStore.open(dir)),
  );
  return { jobId: job.id, dir };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
