/**
 * @file The one contract between the UI and the Node side. The Electron preload exposes these as
 * named methods; the HTTP server exposes the same names at POST /api/<method>. Every method takes
 * one plain-object argument and resolves to `Result<T>` on the wire; clients unwrap it.
 */
import type {
  AppInfo,
  BoxRecord,
  ClassRecord,
  ExportRequest,
  ImagePage,
  ImagePageQuery,
  ImageRecord,
  ImportRequest,
  JobInfo,
  ProjectInfo,
  SplitRequest,
  SplitSummary,
} from './types';

export interface Api {
  'app.info'(args: Record<string, never>): Promise<AppInfo>;

  /** Creates `dir` (or uses it if empty) and opens it as a new project. */
  'project.create'(args: { dir: string; name?: string }): Promise<ProjectInfo>;
  /** Opens the project whose folder holds boxtune.db. */
  'project.open'(args: { dir: string }): Promise<ProjectInfo>;
  /** Generates a small synthetic dataset in `dir` (default: a fresh folder) and opens it. Returns a job id. */
  'project.openSample'(args: { dir?: string; images?: number }): Promise<{ jobId: string; dir: string }>;
  'project.close'(args: Record<string, never>): Promise<null>;
  'project.info'(args: Record<string, never>): Promise<ProjectInfo>;

  'images.page'(args: ImagePageQuery): Promise<ImagePage>;
  'images.get'(args: { id: number }): Promise<ImageRecord>;
  'images.boxes'(args: { id: number }): Promise<BoxRecord[]>;

  'classes.list'(args: Record<string, never>): Promise<ClassRecord[]>;

  'dataset.import'(args: ImportRequest): Promise<{ jobId: string }>;
  'dataset.export'(args: ExportRequest): Promise<{ jobId: string }>;
  'dataset.assignSplits'(args: SplitRequest): Promise<SplitSummary>;

  'jobs.list'(args: Record<string, never>): Promise<JobInfo[]>;
  'jobs.get'(args: { id: string }): Promise<JobInfo>;
  'jobs.cancel'(args: { id: string }): Promise<JobInfo>;
}

export type ApiMethod = keyof Api;
export type ApiArgs<M extends ApiMethod> = Parameters<Api[M]>[0];
export type ApiValue<M extends ApiMethod> = Awaited<ReturnType<Api[M]>>;

/** Every method name, at run time (the preload maps each to a named function). */
export const API_METHODS = [
  'app.info',
  'project.create',
  'project.open',
  'project.openSample',
  'project.close',
  'project.info',
  'images.page',
  'images.get',
  'images.boxes',
  'classes.list',
  'dataset.import',
  'dataset.export',
  'dataset.assignSplits',
  'jobs.list',
  'jobs.get',
  'jobs.cancel',
] as const satisfies readonly ApiMethod[];

// Compile-time check that API_METHODS lists every method of Api.
type Missing = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
const _allListed: Missing extends never ? true : Missing = true;
void _allListed;

/** Events pushed from the Node side (IPC `api:event`, or the WebSocket at /api/events). */
export interface ApiEvents {
  /** A job started, progressed (throttled to about 10 Hz) or ended. */
  job: JobInfo;
  /** The open project changed (opened, closed, or its data changed by a job). */
  project: { root: string | null; reason: 'opened' | 'closed' | 'changed' };
}

export type ApiEventName = keyof ApiEvents;
export interface ApiEventMessage<E extends ApiEventName = ApiEventName> {
  event: E;
  data: ApiEvents[E];
}
