/**
 * @file The Api over HTTP + WebSocket for browser mode (no Electron binary, a remote GPU box
 * reached through an SSH tunnel, the e2e tests). Bound to 127.0.0.1 only; every request must
 * carry the per-launch token. Plain `node:http` plus `ws`.
 *
 *   POST /api/<method>          JSON body = the one argument -> 200 JSON Result
 *   GET  /api/images/<id>/file  the image bytes
 *   GET  /api/images/<id>/thumb                          WebP thumbnail (made on first request)
 *   GET  /api/images/<id>/preview                        JPEG, longest side 2048 (large images)
 *   GET  /api/images/<id>/tiles/<level>/<col>_<row>.jpeg  DeepZoom tile (images over 4096)
 *   GET  /api/events            WebSocket: every service event as JSON ApiEventMessage
 *   GET  /*                     the built UI (SPA fallback to index.html)
 */
import { stat } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import type { ApiEventMessage } from '../../shared/api';
import { AppError, toErrorInfo, type ErrorCode, type Result } from '../../shared/errors';
import type { Dispatch } from '../app/dispatch';
import type { BoxtuneService } from '../app/service';
import type { AssetFile } from '../images/image-assets';
import { parseImageAsset, parseImageId } from '../images/image-assets';
import { assetCacheControl, assetErrorStatus } from './asset-http';
import { isAllowedHost, isAuthorized, isSameOrigin, newToken, tokenCookie, tokensEqual } from './auth';
import { contentSecurityPolicy } from './csp';
import { pipeFile, serveStatic } from './static-files';

/** What the server needs from the service: its event stream and image files (Api calls go through `dispatch`). */
export type ServedService = Pick<BoxtuneService, 'events' | 'imageFile' | 'imageAsset'>;

export interface ServerOptions {
  service: ServedService;
  /** Validates the method and its argument, calls the service, wraps any error (app/dispatch.ts). */
  dispatch: Dispatch;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: '127.0.0.1';
  /** The built UI; default out/renderer under the working directory. */
  staticDir?: string;
  /** Fixed token (tests); default a fresh random one per launch. */
  token?: string;
}

export interface RunningServer {
  /** The launch URL, token included: `http://127.0.0.1:<port>/?token=<token>`. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 1024 * 1024;
/** The event socket carries nothing from the page; this only bounds what a peer can make us buffer. */
export const WS_MAX_PAYLOAD = 64 * 1024;
const WS_CLOSE_GRACE_MS = 1000;
/** Unsent event bytes a client may have queued before it is dropped (progress events are ~300 bytes). */
const WS_MAX_BUFFERED = 4 * 1024 * 1024;

const UNAUTHORIZED_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>boxtune</title></head>
<body style="font-family: system-ui, sans-serif; background: #16181b; color: #d8dadd; padding: 3rem">
<p>This boxtune server needs its launch token. Open the URL printed by <code>npm start</code>
(or <code>npm run serve</code>); it ends in <code>?token=</code>.</p>
</body></html>
`;

/** Starts listening and resolves once the port is known. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? newToken();
  const staticDir = path.resolve(opts.staticDir ?? 'out/renderer');
  const { service, dispatch } = opts;
  let port = 0; // known once listening; every check below runs after that

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, failure('INTERNAL', toErrorInfo(err).message));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res, port);
    if (!isAllowedHost(req, port)) return sendJson(res, 403, failure('UNAUTHORIZED', 'unexpected Host header'));
    const url = requestUrl(req, port);
    if (!url) return sendJson(res, 400, failure('INVALID_INPUT', 'the request target is not a path'));
    const method = req.method ?? 'GET';

    // The launch URL: trade the token for a cookie and drop it from the address bar.
    const given = url.searchParams.get('token');
    if (given !== null && (method === 'GET' || method === 'HEAD')) {
      if (!tokensEqual(token, given)) return sendUnauthorized(res, url.pathname);
      url.searchParams.delete('token');
      res.writeHead(302, { 'Set-Cookie': tokenCookie(port, token), Location: url.pathname + url.search });
      return void res.end();
    }

    if (method !== 'GET' && method !== 'HEAD' && !isSameOrigin(req)) {
      return sendJson(res, 403, failure('UNAUTHORIZED', 'cross-origin request refused'));
    }
    if (!isAuthorized(req, port, token)) return sendUnauthorized(res, url.pathname);

    if (url.pathname.startsWith('/api/')) return handleApi(req, res, method, url);
    if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, failure('NOT_FOUND', `${method} not allowed`));
    const outcome = await serveStatic(req, res, staticDir, url.pathname);
    if (outcome === 'forbidden') return sendJson(res, 404, failure('NOT_FOUND', 'not found'));
    if (outcome === 'not-found') return sendJson(res, 404, failure('NOT_FOUND', `no such file: ${url.pathname}`));
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, url: URL): Promise<void> {
    const pathname = url.pathname;
    const image = /^\/api\/images\/(\d+)\/(.+)$/.exec(pathname);
    if (image) {
      if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, failure('NOT_FOUND', `${method} not allowed`));
      if (image[2] === 'file') return sendImage(req, res, Number(image[1]));
      return sendImageAsset(req, res, image[1]!, image[2]!, url.searchParams.get('v'));
    }
    if (pathname === '/api/events') {
      return sendJson(res, 426, failure('INVALID_INPUT', '/api/events is a WebSocket endpoint'));
    }
    if (method !== 'POST') return sendJson(res, 405, failure('NOT_FOUND', 'API calls are POST /api/<method>'));

    const body = await readBody(req);
    if (body === 'too-large') {
      // Answer at once and drop the connection after it rather than read the rest.
      res.setHeader('Connection', 'close');
      req.resume();
      return sendJson(res, 413, failure('INVALID_INPUT', `request body over ${MAX_BODY_BYTES} bytes`));
    }
    let args: unknown = {};
    if (body.length > 0) {
      try {
        args = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJson(res, 400, failure('INVALID_INPUT', 'request body is not valid JSON'));
      }
    }
    let apiMethod: string;
    try {
      apiMethod = decodeURIComponent(pathname.slice('/api/'.length));
    } catch {
      return sendJson(res, 400, failure('INVALID_INPUT', 'the method name in the path is not valid percent-encoding'));
    }
    sendJson(res, 200, await dispatch(apiMethod, args));
  }

  async function sendImage(req: IncomingMessage, res: ServerResponse, id: number): Promise<void> {
    let file: { absPath: string; contentType: string };
    try {
      file = service.imageFile(id);
    } catch (err) {
      const info = toErrorInfo(err);
      const status = info.code === 'NO_PROJECT' ? 409 : info.code === 'INTERNAL' ? 500 : 404;
      return sendJson(res, status, { ok: false, error: info });
    }
    const info = await stat(file.absPath).catch(() => null);
    if (!info?.isFile()) return sendJson(res, 404, failure('FILE_NOT_FOUND', `image ${id} is missing on disk`));
    res.writeHead(200, {
      'Content-Type': file.contentType,
      'Content-Length': info.size,
      'Cache-Control': 'private, max-age=3600',
    });
    if (req.method === 'HEAD') return void res.end();
    await pipeFile(file.absPath, res);
  }

  /** A thumbnail, preview or tile: every path part parsed strictly before anything touches the disk. */
  async function sendImageAsset(req: IncomingMessage, res: ServerResponse, idText: string, rest: string, version: string | null): Promise<void> {
    let file: AssetFile;
    try {
      file = await service.imageAsset(parseImageId(idText), parseImageAsset(rest));
    } catch (err) {
      const info = toErrorInfo(err);
      return sendJson(res, assetErrorStatus(info.code), { ok: false, error: info });
    }
    const info = await stat(file.absPath).catch(() => null);
    if (!info?.isFile()) return sendJson(res, 404, failure('FILE_NOT_FOUND', `${rest} of image ${idText} is missing`));
    res.writeHead(200, {
      'Content-Type': file.contentType,
      'Content-Length': info.size,
      'Cache-Control': assetCacheControl(file.hash, version),
    });
    if (req.method === 'HEAD') return void res.end();
    await pipeFile(file.absPath, res);
  }

  // ---- events over WebSocket -------------------------------------------------------------------

  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!isAllowedHost(req, port) || !isSameOrigin(req)) return refuse(403, 'Forbidden');
    if (!isAuthorized(req, port, token)) return refuse(401, 'Unauthorized');
    const url = requestUrl(req, port);
    if (!url) return refuse(400, 'Bad Request');
    if (url.pathname !== '/api/events') return refuse(404, 'Not Found');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  // The page only listens; anything it sends is ignored. A frame ws cannot accept (over
  // WS_MAX_PAYLOAD, unmasked, reserved bits or opcodes, bad UTF-8) makes ws send the close frame
  // with its code (1009, 1002, 1007) and then emit 'error': without a listener that error would end
  // the process, training included. ws would wait 30 s for the peer's close frame; a peer that
  // sends garbage gets a short grace instead.
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => {
      setTimeout(() => ws.terminate(), WS_CLOSE_GRACE_MS).unref();
    });
  });

  const forward = (msg: ApiEventMessage): void => {
    const text = JSON.stringify(msg);
    for (const client of wss.clients) {
      if (client.readyState !== WebSocket.OPEN) continue;
      // A client that stops reading would make its queue grow with every event: drop it instead.
      if (client.bufferedAmount > WS_MAX_BUFFERED) client.terminate();
      else client.send(text);
    }
  };
  service.events.on('event', forward);

  // ---- lifecycle -------------------------------------------------------------------------------

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      service.events.off('event', forward);
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };

  return { url: `http://${host}:${port}/?token=${token}`, port, token, close };
}

// ---- helpers -------------------------------------------------------------------------------------

function setSecurityHeaders(res: ServerResponse, port: number): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy({ port }));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
}

/** The request target as a URL on our origin, or null when it is not a path (`//`, `http://[::1`). */
function requestUrl(req: IncomingMessage, port: number): URL | null {
  try {
    return new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  } catch {
    return null;
  }
}

function failure(code: ErrorCode, message: string): Result<never> {
  return { ok: false, error: new AppError(code, message).toInfo() };
}

function sendJson(res: ServerResponse, status: number, body: Result<unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** The page gets a human sentence; everything else (API, assets, images) gets the JSON error. */
function sendUnauthorized(res: ServerResponse, pathname: string): void {
  if (pathname === '/' || pathname === '/index.html') {
    res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    return void res.end(UNAUTHORIZED_PAGE);
  }
  sendJson(res, 401, failure('UNAUTHORIZED', 'missing or wrong token; open the URL printed by `npm start`'));
}

/** Reads the whole body, or 'too-large' as soon as it passes MAX_BODY_BYTES. */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
