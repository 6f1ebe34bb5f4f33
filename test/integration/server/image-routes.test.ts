/**
 * The thumbnail, preview and tile routes of the real server over a real project: the token is
 * required, every path part is checked (400 / 404), the bytes and caching headers are right, and
 * the two new Api methods answer.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRecord, ImageView } from '../../../src/shared/types';
import { createDispatcher } from '../../../src/main/app/dispatch';
import { BoxtuneService } from '../../../src/main/app/service';
import { startServer, type RunningServer } from '../../../src/main/server/http-server';
import { projectWithImages } from '../../helpers/image-project';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: () => { ok: boolean; value?: unknown; error?: { code: string } };
}

let tmp: string;
let service: BoxtuneService;
let server: RunningServer;
let small: ImageRecord;
let wide: ImageRecord;

function request(pathname: string, opts: { method?: string; auth?: boolean; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: `127.0.0.1:${server.port}` };
    if (opts.auth !== false) headers.Authorization = `Bearer ${server.token}`;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const req = http.request({ host: '127.0.0.1', port: server.port, method: opts.method ?? 'GET', path: pathname, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const call = (method: string, args: unknown): Promise<Reply> => request(`/api/${method}`, { method: 'POST', body: JSON.stringify(args) });
const v = (img: ImageRecord): string => `v=${img.hash.slice(0, 16)}`;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-image-routes-'));
  service = new BoxtuneService({ shell: 'browser', dataDir: path.join(tmp, 'data') });
  server = await startServer({ service, dispatch: createDispatcher(service), port: 0, staticDir: path.join(tmp, 'ui') });
  expect((await request('/api/images/1/thumb')).status).toBe(409); // no project open yet

  const root = path.join(tmp, 'proj');
  // 4200 wide: over 4096, so a pyramid (maxLevel 13, 9x1 tiles at the top), yet cheap to cut.
  const made = projectWithImages(root, {
    'small.jpg': await sharp({ create: { width: 640, height: 480, channels: 3, background: '#336699' } }).jpeg().toBuffer(),
    'wide.jpg': await sharp({ create: { width: 4200, height: 300, channels: 3, background: '#993366' } }).jpeg().toBuffer(),
  });
  made.store.close();
  [small, wide] = made.images as [ImageRecord, ImageRecord];
  await service['project.open']({ dir: root });
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('image asset routes', () => {
  it('need the token', async () => {
    for (const p of [`/api/images/${small.id}/thumb`, `/api/images/${wide.id}/preview`, `/api/images/${wide.id}/tiles/13/0_0.jpeg`]) {
      const r = await request(p, { auth: false });
      expect(r.status, p).toBe(401);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    }
  });

  it('serve a WebP thumbnail, cached for a year under its version', async () => {
    const r = await request(`/api/images/${small.id}/thumb?${v(small)}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/webp');
    expect(r.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(await sharp(r.body).metadata()).toMatchObject({ format: 'webp', width: 256, height: 192 });

    expect((await request(`/api/images/${small.id}/thumb`)).headers['cache-control']).toBe('private, max-age=3600');
    expect((await request(`/api/images/${small.id}/thumb?v=ffffffffffffffff`)).headers['cache-control']).toBe('no-store');
    const head = await request(`/api/images/${small.id}/thumb`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('serve the preview and tiles of a large image', async () => {
    const preview = await request(`/api/images/${wide.id}/preview?${v(wide)}`);
    expect(preview.status).toBe(200);
    expect(preview.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(preview.body).metadata()).toMatchObject({ width: 2048, height: 146 });

    const tile = await request(`/api/images/${wide.id}/tiles/13/8_0.jpeg?${v(wide)}`);
    expect(tile.status).toBe(200);
    expect(tile.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(tile.body).metadata()).toMatchObject({ width: 4200 - 8 * 512, height: 300 });
  });

  it('refuse malformed path parts with 400', async () => {
    for (const p of [
      `/api/images/0/thumb`,
      `/api/images/${wide.id}/tiles/013/0_0.jpeg`,
      `/api/images/${wide.id}/tiles/13/0_0.png`,
      `/api/images/${wide.id}/tiles/13/0_0.jpeg/more`,
      `/api/images/${wide.id}/tiles/13/-1_0.jpeg`,
      `/api/images/${wide.id}/tiles/..%2f..%2f..%2fboxtune.db`,
      `/api/images/${wide.id}/tiles/13/0%5f0.jpeg`,
      `/api/images/99999999999999999999/thumb`,
    ]) {
      const r = await request(p);
      expect(r.status, p).toBe(400);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
  });

  it('answer 404 for what does not exist', async () => {
    for (const p of [
      `/api/images/${small.id}/original`,
      `/api/images/999999/thumb`,
      `/api/images/${small.id}/preview`, // 640x480 needs none
      `/api/images/${small.id}/tiles/0/0_0.jpeg`,
      `/api/images/${wide.id}/tiles/14/0_0.jpeg`, // one level past the top
      `/api/images/${wide.id}/tiles/13/9_0.jpeg`, // one column past the edge
      `/api/images/${wide.id}/tiles/13/0_1.jpeg`,
    ]) {
      const r = await request(p);
      expect(r.status, p).toBe(404);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    }
    expect((await request(`/api/images/${small.id}/thumb`, { method: 'POST', body: '{}' })).status).toBe(405);
  });

  it('answer images.view and images.generateThumbnails', async () => {
    const view = (await call('images.view', { id: wide.id })).json();
    expect(view).toEqual({
      ok: true,
      value: { id: wide.id, width: 4200, height: 300, preview: { width: 2048, height: 146 }, tiles: { tileSize: 512, levels: 14 } } satisfies ImageView,
    });
    expect((await call('images.view', { id: 'x' })).json()).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect((await call('images.generateThumbnails', { extra: 1 })).json()).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    // Opening the project started a job for the missing thumbnail; once it is done there is nothing to do.
    await expect.poll(() => service.jobs.list().filter((j) => j.kind === 'thumbnails' && j.state === 'running').length, { timeout: 20_000 }).toBe(0);
    expect((await call('images.generateThumbnails', {})).json()).toEqual({ ok: true, value: { jobId: null } });
  });
});
