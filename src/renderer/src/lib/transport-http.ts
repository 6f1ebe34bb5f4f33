/**
 * @file Transport for browser mode: `POST /api/<method>` with the auth cookie, and the WebSocket
 * at /api/events for service events, reconnecting with backoff while anyone listens.
 */
import type { ApiEventMessage } from '../../../shared/api';
import type { ErrorCode, Result } from '../../../shared/errors';
import type { Transport } from './transport';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 5000;

export function createHttpTransport(base: Location = window.location): Transport {
  const eventListeners = new Set<(msg: ApiEventMessage) => void>();
  const reconnectListeners = new Set<() => void>();
  let socket: WebSocket | null = null;
  let retryMs = RECONNECT_MIN_MS;
  let everOpened = false;

  function connect(): void {
    const url = `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.host}/api/events`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      retryMs = RECONNECT_MIN_MS;
      if (everOpened) for (const cb of reconnectListeners) cb();
      everOpened = true;
    };
    ws.onmessage = (e: MessageEvent<string>) => {
      let msg: ApiEventMessage;
      try {
        msg = JSON.parse(e.data) as ApiEventMessage;
      } catch {
        return;
      }
      for (const cb of eventListeners) cb(msg);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      if (eventListeners.size === 0) return;
      setTimeout(() => {
        if (socket === null && eventListeners.size > 0) connect();
      }, retryMs);
      retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS);
    };
  }

  return {
    shell: 'browser',
    async call(method, args) {
      let res: Response;
      try {
        res = await fetch(`/api/${encodeURIComponent(method)}`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(args ?? {}),
        });
      } catch (err) {
        return failure('INTERNAL', `cannot reach the boxtune server: ${(err as Error).message}`);
      }
      // Errors before dispatch (401, 403, 413) still come as a Result body.
      const body = (await res.json().catch(() => null)) as Result<unknown> | null;
      if (body && typeof body === 'object' && 'ok' in body) return body;
      return failure('INTERNAL', `server answered ${res.status} ${res.statusText}`);
    },
    onEvent(cb) {
      eventListeners.add(cb);
      if (socket === null) connect();
      return () => {
        eventListeners.delete(cb);
        if (eventListeners.size === 0) socket?.close();
      };
    },
    onReconnect(cb) {
      reconnectListeners.add(cb);
      return () => void reconnectListeners.delete(cb);
    },
  };
}

function failure(code: ErrorCode, message: string): Result<never> {
  return { ok: false, error: { code, message } };
}
