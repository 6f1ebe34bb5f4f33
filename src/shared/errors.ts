/**
 * @file Error codes and the result envelope every call crosses a boundary in (IPC, HTTP, worker).
 * No runtime dependencies: imported by main, preload and renderer.
 */

/** Every error the app reports has one of these codes, so callers branch on codes, never on messages. */
export type ErrorCode =
  | 'INVALID_INPUT' // arguments failed validation at the boundary
  | 'UNKNOWN_METHOD'
  | 'UNAUTHORIZED'
  | 'NO_PROJECT' // a call needs an open project
  | 'PROJECT_EXISTS'
  | 'PROJECT_NOT_FOUND'
  | 'NOT_FOUND'
  | 'PATH_OUTSIDE_PROJECT'
  | 'IMPORT_INVALID' // the dataset has malformed labels; details.problems lists each one
  | 'IMPORT_EMPTY'
  | 'EXPORT_FAILED'
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'JOB_CANCELLED'
  | 'JOB_NOT_FOUND'
  | 'CONFLICT'
  | 'BUSY' // another task (an import) holds the project's write lock; nothing was saved, try again
  | 'MODEL_DOWNLOAD_FAILED' // a model could not be fetched (offline, interrupted, not the expected file)
  | 'INTERNAL';

/** One problem found in an input file: where it is and what is wrong. */
export interface Problem {
  /** File the problem is in (absolute or as given by the user). */
  file: string;
  /** 1-based line, when the format has lines. */
  line?: number;
  /** Field or JSON path inside the record, e.g. `annotations[3].bbox` or `column 2`. */
  field?: string;
  message: string;
}

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** An error with a stable code. Thrown inside services, turned into `{ ok: false, error }` at the boundary. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  toInfo(): ErrorInfo {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static fromInfo(info: ErrorInfo): AppError {
    return new AppError(info.code, info.message, info.details);
  }
}

/** `file:line: field: message`, the form compilers use, so editors can jump to it. */
export function formatProblem(p: Problem): string {
  let where = p.file;
  if (p.line !== undefined) where += `:${p.line}`;
  return p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

/**
 * Node's file-system errors that describe the path the user gave (not a bug of ours): a call or a
 * job that meets one reports it under a clear code, with Node's message (which names the path).
 */
const FILE_ERRORS: Readonly<Record<string, ErrorCode>> = {
  ENOENT: 'FILE_NOT_FOUND',
  ENOTDIR: 'INVALID_INPUT', // a file where a folder must be
  EISDIR: 'INVALID_INPUT', // a folder where a file must be
  ENAMETOOLONG: 'INVALID_INPUT',
  ELOOP: 'INVALID_INPUT',
  EEXIST: 'CONFLICT',
  EACCES: 'FILE_UNREADABLE', // no permission to read or write it
  EPERM: 'FILE_UNREADABLE',
  EROFS: 'FILE_UNREADABLE',
};

/** Converts anything thrown into the wire form; unknown errors become INTERNAL with their message. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof AppError) return err.toInfo();
  if (err instanceof Error) {
    const errno = (err as { code?: unknown }).code;
    const code = typeof errno === 'string' ? FILE_ERRORS[errno] : undefined;
    return { code: code ?? 'INTERNAL', message: err.message };
  }
  return { code: 'INTERNAL', message: String(err) };
}
