/**
 * @file The one entry both transports (Electron IPC and HTTP) call: checks the method name,
 * validates the argument, runs the service method and wraps the outcome in the Result envelope.
 */
import { API_METHODS, type ApiMethod } from '../../shared/api';
import { type Result, toErrorInfo } from '../../shared/errors';
import { API_SCHEMAS } from './schemas';
import type { BoxtuneService } from './service';

export type Dispatch = (method: string, args: unknown) => Promise<Result<unknown>>;

const METHODS = new Set<string>(API_METHODS);

export function isApiMethod(method: string): method is ApiMethod {
  return METHODS.has(method);
}

export function createDispatcher(service: BoxtuneService): Dispatch {
  return async (method, args) => {
    if (!isApiMethod(method)) {
      return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `unknown method ${JSON.stringify(method)}` } };
    }
    const parsed = API_SCHEMAS[method].safeParse(args ?? undefined);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      const first = issues[0];
      return {
        ok: false,
        error: {
          code: 'INVALID_INPUT',
          message: `${method}: ${first ? `${first.path || 'argument'}: ${first.message}` : 'invalid argument'}`,
          details: { issues },
        },
      };
    }
    try {
      const fn = service[method] as (a: unknown) => Promise<unknown>;
      const value = await fn.call(service, parsed.data);
      return { ok: true, value: value ?? null };
    } catch (err) {
      return { ok: false, error: toErrorInfo(err) };
    }
  };
}
