/**
 * The downloader against a local HTTP server (never the network): progress, redirects, a
 * connection cut mid-transfer and the resume that follows, servers without Range support, a file
 * of the wrong size, HTTP errors, cancelling, and an unreachable host.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadFile, sha256File, type DownloadProgress } from '../../../../src/main/model/zoo';
import { tmpDir } from '../../../helpers/tmp';
import { closedPort, startFileServer, testBytes, type FileServer } from './http-fixture';

let server: FileServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
};

describe('downloadFile', () => {
  it('downloads through a redirect into place, reporting progress up to the full size', async () => {
    const body = testBytes(300_000);
    server = await startFileServer(body);
    const dest = path.join(tmpDir(), 'models', 'm.pt');
    const seen: DownloadProgress[] = [];
    const res = await downloadFile(`${server.url}/redirect`, dest, { onProgress: (p) => seen.push(p) });
    expect(res).toEqual({ path: dest, bytes: body.length, resumedFrom: 0 });
    expect(Buffer.from(fs.readFileSync(dest)).equals(Buffer.from(body))).toBe(true);
    expect(fs.existsSync(`${dest}.part`)).toBe(false);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((p) => p.total === body.length)).toBe(true);
    expect(seen.map((p) => p.received)).toEqual([...seen.map((p) => p.received)].sort((a, b) => a - b));
    expect(seen.at(-1)!.received).toBe(body.length);
    expect(await sha256File(dest)).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('a connection cut mid-transfer keeps the .part, and the next call resumes it with a Range request', async () => {
    const body = testBytes(500_000, 2);
    server = await startFileServer(body, { cutAfter: 200_000 });
    const dest = path.join(tmpDir(), 'm.pt');
    const err = await codeOf(downloadFile(`${server.url}/file`, dest, { label: 'yolo11n.pt' }));
    expect(err.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(err.message).toMatch(/^download of yolo11n\.pt was interrupted after [\d.]+ MB of 0\.5 MB .*run it again to resume$/);
    expect(fs.existsSync(dest)).toBe(false);
    const partial = fs.statSync(`${dest}.part`).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThanOrEqual(200_000);

    const seen: DownloadProgress[] = [];
    const res = await downloadFile(`${server.url}/file`, dest, { onProgress: (p) => seen.push(p) });
    expect(server.ranges).toEqual([null, `bytes=${partial}-`]);
    expect(res.resumedFrom).toBe(partial);
    expect(seen[0]).toEqual({ received: partial, total: body.length });
    expect(Buffer.from(fs.readFileSync(dest)).equals(Buffer.from(body))).toBe(true);
    expect(fs.existsSync(`${dest}.part`)).toBe(false);
  });

  it('starts over when the server ignores Range', async () => {
    const body = testBytes(100_000, 3);
    server = await startFileServer(body, { ranges: false });
    const dest = path.join(tmpDir(), 'm.pt');
    fs.writeFileSync(`${dest}.part`, body.subarray(0, 1234));
    const res = await downloadFile(`${server.url}/file`, dest);
    expect(server.ranges).toEqual(['bytes=1234-']);
    expect(res.resumedFrom).toBe(0);
    expect(Buffer.from(fs.readFileSync(dest)).equals(Buffer.from(body))).toBe(true);
  });

  it('starts over when the .part is not a prefix the server knows (416)', async () => {
    const body = testBytes(10_000, 4);
    server = await startFileServer(body);
    const dest = path.join(tmpDir(), 'm.pt');
    fs.writeFileSync(`${dest}.part`, testBytes(20_000, 5)); // longer than the file
    const res = await downloadFile(`${server.url}/file`, dest);
    expect(server.ranges).toEqual(['bytes=20000-', null]);
    expect(res.resumedFrom).toBe(0);
    expect(Buffer.from(fs.readFileSync(dest)).equals(Buffer.from(body))).toBe(true);
  });

  it('rejects a file of an implausible size and leaves nothing behind', async () => {
    server = await startFileServer(testBytes(50_000));
    const dest = path.join(tmpDir(), 'm.pt');
    const err = await codeOf(downloadFile(`${server.url}/file`, dest, { label: 'yolo11n.pt', expectedBytes: { min: 5_000_000, max: 20_000_000 } }));
    expect(err.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(err.message).toBe('the downloaded yolo11n.pt has 50000 bytes, not a plausible size for it (5000000..20000000); the server sent something else');
    expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
  });

  it('reports an HTTP error status', async () => {
    server = await startFileServer(testBytes(10));
    const err = await codeOf(downloadFile(`${server.url}/nothing-here`, path.join(tmpDir(), 'm.pt'), { label: 'm.pt' }));
    expect(err.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(err.message).toMatch(/^download of m\.pt failed: 127\.0\.0\.1:\d+ answered HTTP 404/);
  });

  it('an unreachable host gives MODEL_DOWNLOAD_FAILED with what to do instead', async () => {
    const port = await closedPort();
    const dest = path.join(tmpDir(), 'yolo11n.pt');
    const err = await codeOf(downloadFile(`http://127.0.0.1:${port}/yolo11n.pt`, dest, { offlineHint: 'choose a local .pt or .onnx file' }));
    expect(err.code).toBe('MODEL_DOWNLOAD_FAILED');
    expect(err.message).toBe(`could not reach 127.0.0.1:${port} to download yolo11n.pt; choose a local .pt or .onnx file`);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it('cancelling stops the transfer (JOB_CANCELLED) and keeps the .part for later', async () => {
    const body = testBytes(200_000, 6);
    server = await startFileServer(body, { trickleMs: 5 });
    const dest = path.join(tmpDir(), 'm.pt');
    const ac = new AbortController();
    const err = await codeOf(
      downloadFile(`${server.url}/file`, dest, {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.received >= 20_000) ac.abort();
        },
      }),
    );
    expect(err.code).toBe('JOB_CANCELLED');
    expect(fs.existsSync(dest)).toBe(false);
    const kept = fs.statSync(`${dest}.part`).size; // what reached the disk before the abort
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(body.length);
    server.options.trickleMs = 0;
    const res = await downloadFile(`${server.url}/file`, dest);
    expect(res.resumedFrom).toBe(kept);
    expect(Buffer.from(fs.readFileSync(dest)).equals(Buffer.from(body))).toBe(true);
  });
});
