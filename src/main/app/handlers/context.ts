/**
 * @file What every handler gets (the service's state, as an interface) and the types that tie a
 * domain's zod schemas, its handlers and the shared Api together, so none of the three can drift.
 */
import type { z } from 'zod';
import type { ApiArgs, ApiEvents, ApiMethod, ApiValue } from '../../../shared/api';
import type { JobRegistry } from '../../jobs/job-registry';
import type { ThumbnailJobs } from '../../images/thumbnail-job';
import type { ModelZoo } from '../../model/zoo';
import { UI_BUSY_TIMEOUT_MS, withBusyTimeout } from '../../store/db';
import type { LabelStore } from '../../store/label-store';
import type { Settings } from '../settings';
import type { TrainService } from '../train-service';

/** The service as its handlers see it: the open project, the registries, settings and events. */
export interface ServiceContext {
  readonly shell: 'electron' | 'browser';
  /** Where settings (recent projects) and generated sample projects live. */
  readonly dataDir: string;
  readonly settings: Settings;
  readonly jobs: JobRegistry;
  readonly training: TrainService;
  readonly models: ModelZoo;
  readonly thumbnails: ThumbnailJobs;
  /** The open project's store, or null when none is open. */
  readonly store: LabelStore | null;
  /** The open project's store; NO_PROJECT if none is open. */
  requireStore(): LabelStore;
  /** Makes `store` the open project (closing the one before) and tells every window. */
  openStore(store: LabelStore): void;
  /** Closes the open project, if any, and tells every window. */
  closeStore(): void;
  emit<E extends keyof ApiEvents>(event: E, data: ApiEvents[E]): void;
}

/**
 * Runs a write the UI asked for on the open store. It waits at most UI_BUSY_TIMEOUT_MS for the
 * write lock (an import may hold it for seconds) and fails as BUSY rather than freezing the
 * main process; the renderer sends the edit again (store/db.ts).
 */
export function write<T>(ctx: ServiceContext, fn: (store: LabelStore) => T): T {
  const store = ctx.requireStore();
  return withBusyTimeout(store.db, UI_BUSY_TIMEOUT_MS, () => fn(store));
}

/** Tells every window the project at `root` changed, if it is still the open one (a job may outlive it). */
export function projectChanged(ctx: ServiceContext, root: string): void {
  if (ctx.store?.root === root) ctx.emit('project', { root, reason: 'changed' });
}

/** One domain's argument schemas, keyed by Api method. */
export type DomainSchemas = Partial<Record<ApiMethod, z.ZodType>>;

type Output<S, M> = M extends keyof S ? (S[M] extends z.ZodType ? z.output<S[M]> : never) : never;

/** A domain's handlers: each takes the schema's parsed output and returns what the Api promises. */
export type Handlers<S extends DomainSchemas> = {
  [M in keyof S & ApiMethod]: (ctx: ServiceContext, args: Output<S, M>) => ApiValue<M> | Promise<ApiValue<M>>;
};

/** Identical types: mutual assignability alone would let an optional field go missing on one side. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** The methods whose schema output and Api argument type differ, with both types to read in the error. */
type Drift<S extends DomainSchemas> = {
  [M in keyof S & ApiMethod as Same<Output<S, M>, ApiArgs<M>> extends true ? never : M]: { schema: Output<S, M>; api: ApiArgs<M> };
};
/**
 * `true` only when every schema of the domain parses to exactly its Api argument type, nested
 * optional fields included. Each handler file asserts it: `const _x: ArgsMatchApi<typeof s> = true`.
 */
export type ArgsMatchApi<S extends DomainSchemas> = keyof Drift<S> extends never ? true : Drift<S>;

// The assertion bites: a schema that lost a field of its Api argument, even an optional one, fails it.
// @ts-expect-error 'jobs.get' without its id
const _bites: ArgsMatchApi<{ 'jobs.get': z.ZodObject<{}> }> = true;
// @ts-expect-error 'train.predict' without its optional conf
const _bitesOptional: ArgsMatchApi<{ 'train.predict': z.ZodObject<{ runId: z.ZodNumber; split: z.ZodOptional<z.ZodEnum<{ train: 'train'; val: 'val'; test: 'test'; none: 'none' }>> }> }> = true;
void _bites;
void _bitesOptional;
