/**
 * @file Serves the built UI (out/renderer) with SPA fallback, refusing any path that resolves
 * outside the folder.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Maps a URL pathname to a file inside `root`, or null when it would leave `root` (`..`,
 * encoded `%2f`, absolute paths, NUL bytes) or is malformed.
 *
 * @example resolveInside('/srv/ui', '/assets/app.js') // '/srv/ui/assets/app.js'
 * @example resolveInside('/srv/ui', '/..%2f..%2fetc/passwd') // null
 */
export function resolveInside(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const abs = path.resolve(root, '.' + path.sep + decoded.replace(/^[/\\]+/, ''));
  const rel = path.relative(root, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return abs;
}

export type StaticOutcome = 'served' | 'not-found' | 'forbidden';

/**
 * Streams the file for `pathname`. Unknown paths without an extension get index.html (client
 * routes); unknown paths with one (a missing asset) are not found, so a typo is not silently HTML.
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  pathname: string,
): Promise<StaticOutcome> {
  const file = resolveInside(root, pathname);
  if (file === null) return 'forbidden';
  let target = file;
  let info = await stat(target).catch(() => null);
  if (info?.isDirectory()) {
    target = path.join(target, 'index.html');
    info = await stat(target).catch(() => null);
  }
  if (!info && path.extname(file) === '') {
    target = path.join(root, 'index.html');
    info = await stat(target).catch(() => null);
  }
  if (!info?.isFile()) return 'not-found';

  const hashed = pathname.startsWith('/assets/');
  res.writeHead(200, {
    'Content-Type': contentTypeOf(target),
    'Content-Length': info.size,
    // Vite puts content hashes in asset names, so they never change; index.html always may.
    'Cache-Control': hashed ? 'private, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return 'served';
  }
  await pipeFile(target, res);
  return 'served';
}

/** Streams a file into the response; resolves when done, never rejects (errors end the response). */
export function pipeFile(file: string, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const stream = createReadStream(file);
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
