/** @file jobs.*: the long jobs (import, export, train, predict, downloads) the registry runs. */
import { z } from 'zod';
import type { ArgsMatchApi, Handlers } from './context';
import { empty } from './schema-parts';

export const jobsSchemas = {
  'jobs.list': empty,
  'jobs.get': z.strictObject({ id: z.string().uuid() }),
  'jobs.cancel': z.strictObject({ id: z.string().uuid() }),
};
const _argsMatch: ArgsMatchApi<typeof jobsSchemas> = true;
void _argsMatch;

export const jobsHandlers = {
  'jobs.list': (ctx) => ctx.jobs.list(),
  'jobs.get': (ctx, args) => ctx.jobs.get(args.id),
  'jobs.cancel': (ctx, args) => ctx.jobs.cancel(args.id),
} satisfies Handlers<typeof jobsSchemas>;
