/**
 * The real server on a random port over a real BoxtuneService and project: auth, the DNS-rebinding
 * and CSRF guards, static files, image bytes, the Api and the event WebSocket.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ApiEventMessage } from '../../../src/shared/api';
import type { ImagePage, JobInfo } from '../../../src/shared/types';
import { createDispatcher } from '../../../src/main/app/dispatch';
import { BoxtuneService } from '../../../src/main/app/service';
import { MAX_BODY_BYTES, startServer, type RunningServer } from '../../../src/main/server/http-server';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: () => unknown;
}

let tmp: string;
let service: BoxtuneService;
let server: RunningServer;
let imageBytes: Buffer;

/** Raw http.request, so the test controls Host, Origin and the exact path bytes. */
function request(
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: { Host: `127.0.0.1:${server.port}`, ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const bearer = (): Record<string, string> => ({ Authorization: `Bearer ${server.token}` });

function call(method: string, args: unknown, headers: Record<string, string> = bearer()): Promise<Reply> {
  return request({ method: 'POST', path: `/api/${method}`, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(args) });
}

/** Opens the event socket; resolves with the socket, or rejects with the refusing status code. */
function openSocket(headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-server-'));
  // A stand-in for the built UI, so this suite does not depend on `npm run build:web`.
  const ui = path.join(tmp, 'ui');
  fs.mkdirSync(path.join(ui, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>boxtune test ui</title>');
  fs.writeFileSync(path.join(ui, 'assets', 'app-1234.js'), 'console.log("ui")');
  fs.writeFileSync(path.join(ui, 'assets', 'app-1234.css'), 'body{}');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'outside the UI folder');

  imageBytes = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#3366cc' } }).png().toBuffer();
  const photos = path.join(tmp, 'photos');
  fs.mkdirSync(photos);
  fs.writeFileSync(path.join(photos, 'a.png'), imageBytes);

  service = new BoxtuneService({ shell: 'browser', dataDir: path.join(tmp, 'data') });
  server = await startServer({ service, dispatch: createDispatcher(service), port: 0, staticDir: ui });
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('auth', () => {
  it('prints a launch URL on 127.0.0.1 carrying the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('refuses every kind of request without the token', async () => {
    const page = await request({ path: '/' });
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('npm start');

    for (const r of [
      await call('app.info', {}, {}),
      await request({ path: '/assets/app-1234.js' }),
      await request({ path: '/api/images/1/file' }),
    ]) {
      expect(r.status).toBe(401);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    }
    await expect(openSocket({})).rejects.toThrow('status 401');
  });

  it('refuses a wrong token in the query, the header or the cookie', async () => {
    expect((await request({ path: '/?token=wrong' })).status).toBe(401);
    expect((await request({ path: `/?token=${server.token}x` })).status).toBe(401);
    expect((await call('app.info', {}, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await call('app.info', {}, { Cookie: `boxtune_token_${server.port}=wrong` })).status).toBe(401);
    // A cookie for another port's server is not ours.
    expect((await call('app.info', {}, { Cookie: `boxtune_token_1=${server.token}` })).status).toBe(401);
    await expect(openSocket({ Authorization: 'Bearer wrong' })).rejects.toThrow('status 401');
  });

  it('trades the launch token for an HttpOnly SameSite=Strict cookie and a redirect to /', async () => {
    const r = await request({ path: `/?token=${server.token}` });
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('/');
    const cookie = r.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toMatch(new RegExp(`^boxtune_token_${server.port}=${server.token};`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');

    const withCookie = { Cookie: cookie.split(';')[0]! };
    const page = await request({ path: '/', headers: withCookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain('boxtune test ui');
    expect(await call('app.info', {}, withCookie).then((x) => x.json())).toMatchObject({ ok: true });
    (await openSocket(withCookie)).close();
  });

  it('accepts a Bearer token', async () => {
    const r = await call('app.info', {});
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ ok: true, value: { shell: 'browser' } });
  });
});

describe('DNS-rebinding and CSRF guards', () => {
  it('refuses a foreign Host header even with the token', async () => {
    const evil = await request({ path: '/', headers: { ...bearer(), Host: `evil.example:${server.port}` } });
    expect(evil.status).toBe(403);
    expect((await request({ path: '/', headers: { ...bearer(), Host: `127.0.0.1:${server.port + 1}` } })).status).toBe(403);
    expect((await request({ path: '/', headers: { ...bearer(), Host: `localhost:${server.port}` } })).status).toBe(200);
    await expect(openSocket({ ...bearer(), Host: `evil.example:${server.port}` })).rejects.toThrow('status 403');
  });

  it('refuses a POST or WebSocket from another origin', async () => {
    const foreign = await call('app.info', {}, { ...bearer(), Origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect((await call('app.info', {}, { ...bearer(), Origin: 'null' })).status).toBe(403);
    expect((await call('app.info', {}, { ...bearer(), Origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
    await expect(openSocket({ ...bearer(), Origin: 'http://evil.example' })).rejects.toThrow('status 403');
  });
});

describe('security headers', () => {
  it('sends a strict CSP and the other headers on every response, refusals included', async () => {
    for (const r of [await request({ path: '/' }), await request({ path: '/', headers: bearer() }), await call('app.info', {})]) {
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port} ws://localhost:${server.port}`);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    }
  });
});

describe('static files', () => {
  it('serves the UI with its content types and falls back to index.html for client routes', async () => {
    const js = await request({ path: '/assets/app-1234.js', headers: bearer() });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await request({ path: '/assets/app-1234.css', headers: bearer() })).headers['content-type']).toMatch(/^text\/css/);
    const route = await request({ path: '/some/client/route', headers: bearer() });
    expect(route.status).toBe(200);
    expect(route.text).toContain('boxtune test ui');
    expect((await request({ path: '/assets/missing.js', headers: bearer() })).status).toBe(404);
  });

  it('never serves a file outside the UI folder', async () => {
    for (const p of ['/..%2f..%2fetc/passwd', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/..%5csecret.txt', '/assets/..%2f..%2fsecret.txt', '/../secret.txt', '/%00']) {
      const r = await request({ path: p, headers: bearer() });
      expect(r.text, p).not.toContain('root:');
      expect(r.text, p).not.toContain('outside the UI folder');
      expect([400, 404], p).toContain(r.status);
    }
  });
});

describe('the Api', () => {
  it('answers unknown methods and invalid arguments with the dispatcher results', async () => {
    expect((await call('nope', {})).json()).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    const invalid = await call('project.open', { dir: 42 });
    expect(invalid.status).toBe(200);
    expect(invalid.json()).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    const notJson = await request({ method: 'POST', path: '/api/app.info', headers: bearer(), body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(notJson.json()).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect((await request({ path: '/api/app.info', headers: bearer() })).status).toBe(405);
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const big = JSON.stringify({ dir: 'x'.repeat(MAX_BODY_BYTES) });
    const r = await request({ method: 'POST', path: '/api/project.open', headers: bearer(), body: big });
    expect(r.status).toBe(413);

    // Without a Content-Length (chunked), the limit applies as the bytes arrive.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/project.open', headers: { ...bearer(), Host: `127.0.0.1:${server.port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(MAX_BODY_BYTES / 2 + 1, 32));
      req.write(Buffer.alloc(MAX_BODY_BYTES / 2 + 1, 32));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('pushes service events over the WebSocket and serves image bytes of the open project', async () => {
    const ws = await openSocket(bearer());
    const events: ApiEventMessage[] = [];
    ws.on('message', (data: Buffer) => events.push(JSON.parse(data.toString('utf8')) as ApiEventMessage));

    expect((await request({ path: '/api/images/1/file', headers: bearer() })).status).toBe(409); // no project yet
    const root = path.join(tmp, 'project');
    expect((await call('project.create', { dir: root, name: 'Server test' })).json()).toMatchObject({ ok: true });
    const started = (await call('dataset.import', { format: 'folder', source: path.join(tmp, 'photos') })).json() as {
      ok: true;
      value: { jobId: string };
    };
    expect(started.ok).toBe(true);

    await expect.poll(() => events.find((e) => e.event === 'job' && (e.data as JobInfo).state !== 'running'), { timeout: 20_000 }).toBeTruthy();
    ws.close();
    const end = events.find((e) => e.event === 'job' && (e.data as JobInfo).state !== 'running')!.data as JobInfo;
    expect(end).toMatchObject({ id: started.value.jobId, state: 'done' });
    expect(events[0]).toEqual({ event: 'project', data: { root, reason: 'opened' } });
    expect(events).toContainEqual({ event: 'project', data: { root, reason: 'changed' } });

    const page = (await call('images.page', { limit: 10 })).json() as { ok: true; value: ImagePage };
    const id = page.value.items[0]!.id;
    const img = await request({ path: `/api/images/${id}/file`, headers: bearer() });
    expect(img.status).toBe(200);
    expect(img.headers['content-type']).toBe('image/png');
    expect(img.headers['cache-control']).toBe('private, max-age=3600');
    expect(img.body.equals(imageBytes)).toBe(true);

    const missing = await request({ path: '/api/images/999999/file', headers: bearer() });
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect((await request({ path: '/api/images/abc/file', headers: bearer() })).status).toBe(405);
  });
});
