/**
 * @file A local HTTP server on 127.0.0.1 for downloader tests (nothing leaves the machine): serves
 * one file at /file (Range requests optional), a redirect to it at /redirect, and can cut the
 * connection part-way through a response or trickle bytes slowly.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileServerOptions {
  /** Answer Range requests with 206 (default true). */
  ranges?: boolean;
  /** Cut the connection after this many body bytes, on the next `cutTimes` (default 1) responses. */
  cutAfter?: number;
  cutTimes?: number;
  /** Milliseconds between 1 KiB chunks (default 0: send at once). */
  trickleMs?: number;
}

export interface FileServer {
  url: string;
  /** Range headers of every request to /file, in order (null: none). */
  ranges: (string | null)[];
  setBody(body: Uint8Array): void;
  options: FileServerOptions;
  close(): Promise<void>;
}

export async function startFileServer(body: Uint8Array, options: FileServerOptions = {}): Promise<FileServer> {
  let data = body;
  const ranges: (string | null)[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { Location: '/file' }).end();
      return;
    }
    if (req.url !== '/file') {
      res.writeHead(404).end('not found');
      return;
    }
    const range = req.headers.range ?? null;
    ranges.push(range);
    let start = 0;
    const m = range && (options.ranges ?? true) ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': data.length - start, 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}`, 'Accept-Ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'Content-Length': data.length, 'Accept-Ranges': (options.ranges ?? true) ? 'bytes' : 'none' });
    }
    const rest = data.subarray(start);
    const cutAt = options.cutAfter !== undefined && (options.cutTimes ?? 1) > 0 ? Math.min(options.cutAfter, rest.length) : null;
    if (cutAt !== null) options.cutTimes = (options.cutTimes ?? 1) - 1;
    const payload = cutAt !== null ? rest.subarray(0, cutAt) : rest;
    const finish = () => {
      if (cutAt !== null) res.socket?.destroy();
      else res.end();
    };
    if (!options.trickleMs) {
      res.write(payload, () => finish());
      return;
    }
    let off = 0;
    const tick = () => {
      if (res.destroyed) return;
      if (off >= payload.length) return finish();
      res.write(payload.subarray(off, off + 1024));
      off += 1024;
      setTimeout(tick, options.trickleMs);
    };
    tick();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ranges,
    setBody: (b) => (data = b),
    options,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A localhost port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Deterministic bytes. */
export function testBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}
