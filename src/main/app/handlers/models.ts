/** @file models.*: Ultralytics' official weights (the zoo, cached in <dataDir>/models) and local model files. */
import path from 'node:path';
import { z } from 'zod';
import { inspectModelFileInWorker } from '../../model/zoo';
import type { ArgsMatchApi, Handlers } from './context';
import { empty, pathString } from './schema-parts';

export const modelsSchemas = {
  'models.list': empty,
  'models.download': z.strictObject({ name: z.string().trim().min(1).max(100) }),
  'models.inspect': z.strictObject({ path: pathString }),
};
const _argsMatch: ArgsMatchApi<typeof modelsSchemas> = true;
void _argsMatch;

export const modelsHandlers = {
  'models.list': (ctx) => ctx.models.list(),
  'models.download': (ctx, args) => ctx.models.startDownload(ctx.jobs, args.name),
  // Off the main thread, with a time and memory limit: the path is whatever the user typed.
  'models.inspect': (_ctx, args) => inspectModelFileInWorker(path.resolve(args.path)),
} satisfies Handlers<typeof modelsSchemas>;
