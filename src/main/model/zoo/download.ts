/**
 * @file Downloads one file over HTTP(S) into place, safely: bytes go to `<dest>.part` and the file is
 * renamed into place only when complete, so a crash or a dropped connection never leaves a file
 * that looks finished. A later call resumes the `.part` with a Range request (servers that ignore
 * Range get a fresh start). Progress is reported per chunk; redirects are followed (GitHub release
 * URLs redirect to their CDN). Failures are AppErrors with code MODEL_DOWNLOAD_FAILED and a message
 * a user can act on; cancelling (the signal) keeps the `.part` for next time.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AppError } from '../../../shared/errors';

export interface DownloadProgress {
  /** Bytes of the file on disk so far (resumed bytes included). */
  received: number;
  /** Full size, when the server said. */
  total: number | null;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Final sizes to accept; anything else is deleted and reported. */
  expectedBytes?: { min: number; max: number };
  /** What to call the file in messages (default: the file name of dest). */
  label?: string;
  /** What to tell the user to do instead when the server cannot be reached. */
  offlineHint?: string;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** Bytes that came from an earlier, interrupted attempt. */
  resumedFrom: number;
}

/** Connection-level failures: the host could not be reached at all (offline, DNS, firewall). */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET']);

/** The errno-style code buried in a fetch failure (TypeError('fetch failed', { cause })). */
function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (e as { errors?: unknown[] }).errors; // AggregateError (IPv4 + IPv6 attempts)
    if (Array.isArray(errors) && errors.length) e = errors[0];
    else e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Downloads `url` to `dest` (resuming `<dest>.part` when one is there). */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const label = opts.label ?? path.basename(dest);
  const host = new URL(url).host;
  const part = `${dest}.part`;
  const fail = (message: string, details?: Record<string, unknown>) => new AppError('MODEL_DOWNLOAD_FAILED', message, { url, ...details });
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });

  let start = (await fs.promises.stat(part).catch(() => null))?.size ?? 0;
  let res: Response;
  try {
    res = await fetch(url, { headers: start > 0 ? { Range: `bytes=${start}-` } : {}, redirect: 'follow', ...(opts.signal ? { signal: opts.signal } : {}) });
    if (res.status === 416 && start > 0) {
      // The .part is not a prefix the server recognises (complete already, or a different file): start over.
      await res.body?.cancel();
      start = 0;
      await fs.promises.rm(part, { force: true });
      res = await fetch(url, { redirect: 'follow', ...(opts.signal ? { signal: opts.signal } : {}) });
    }
  } catch (err) {
    if (opts.signal?.aborted) throw new AppError('JOB_CANCELLED', `download of ${label} cancelled`);
    const code = errorCode(err);
    if (code === undefined || UNREACHABLE.has(code)) {
      throw fail(`could not reach ${host} to download ${label}${opts.offlineHint ? `; ${opts.offlineHint}` : ''}`, { code: code ?? null });
    }
    throw fail(`download of ${label} from ${host} failed: ${code}`, { code });
  }

  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw fail(`download of ${label} failed: ${host} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, { status: res.status });
  }
  let total: number | null;
  if (res.status === 206) {
    // Content-Range: bytes <first>-<last>/<total>
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== start) {
      await res.body?.cancel();
      await fs.promises.rm(part, { force: true });
      throw fail(`download of ${label} failed: ${host} resumed at the wrong offset; run it again to start over`);
    }
    total = m[3] === '*' ? null : Number(m[3]);
  } else {
    start = 0; // the server sent the whole file: overwrite the .part
    const len = res.headers.get('content-length');
    total = len === null ? null : Number(len);
  }
  if (opts.expectedBytes && total !== null && (total < opts.expectedBytes.min || total > opts.expectedBytes.max)) {
    await res.body?.cancel();
    await fs.promises.rm(part, { force: true });
    throw fail(wrongSize(label, total, opts.expectedBytes), { bytes: total });
  }
  if (!res.body) throw fail(`download of ${label} failed: empty response from ${host}`);

  let received = start;
  opts.onProgress?.({ received, total });
  // Each chunk is on disk before the next is read, so after a failure the .part holds every byte
  // received and the next attempt resumes exactly there.
  const fh = await fs.promises.open(part, start > 0 ? 'a' : 'w');
  try {
    for await (const chunk of Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>)) {
      const buf = chunk as Uint8Array;
      await fh.write(buf);
      received += buf.length;
      opts.onProgress?.({ received, total });
    }
  } catch (err) {
    // The .part stays: the next attempt resumes from it.
    if (opts.signal?.aborted) throw new AppError('JOB_CANCELLED', `download of ${label} cancelled after ${mb(received)}; it resumes from there next time`);
    throw fail(
      `download of ${label} was interrupted after ${mb(received)}${total ? ` of ${mb(total)}` : ''} (${errorCode(err) ?? (err as Error).message}); run it again to resume`,
      { received, total },
    );
  } finally {
    await fh.close();
  }
  if (total !== null && received !== total) {
    throw fail(`download of ${label} ended after ${mb(received)} of ${mb(total)}; run it again to resume`, { received, total });
  }
  if (opts.expectedBytes && (received < opts.expectedBytes.min || received > opts.expectedBytes.max)) {
    await fs.promises.rm(part, { force: true });
    throw fail(wrongSize(label, received, opts.expectedBytes), { bytes: received });
  }
  await fs.promises.rename(part, dest);
  return { path: dest, bytes: received, resumedFrom: start };
}

function wrongSize(label: string, bytes: number, exp: { min: number; max: number }): string {
  return `the downloaded ${label} has ${bytes} bytes, not a plausible size for it (${exp.min}..${exp.max}); the server sent something else`;
}

/** SHA-256 of a file, streamed (hex). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}
