/**
 * Hostile clients against the real server running as its own process: bad WebSocket frames, bad
 * upgrades and bad request bodies must each get a clear refusal and leave the process alive and
 * answering everyone else (it may be running a training).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startServeChild, type ServeChild } from './serve-child';

let tmp: string;
let app: ServeChild;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-hostile-'));
  app = await startServeChild(path.join(tmp, 'data'));
});

afterAll(async () => {
  await app?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// A test that kills the server fails by itself; the next one gets a fresh server.
beforeEach(async () => {
  if (!app.alive()) app = await startServeChild(path.join(tmp, 'data'));
});

afterEach(async () => {
  // Every test ends with the server alive and answering an ordinary client.
  expect(app.alive(), `the server died:\n${app.output()}`).toBe(true);
  const info = await call('app.info', {});
  expect(info.status, app.output()).toBe(200);
  expect(JSON.parse(info.text)).toMatchObject({ ok: true, value: { shell: 'browser' } });
});

// ---- plain HTTP ----------------------------------------------------------------------------------

interface Reply {
  status: number;
  text: string;
}

function request(opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: app.port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        headers: { Host: `127.0.0.1:${app.port}`, Authorization: `Bearer ${app.token}`, ...opts.headers },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    // A refusal may come (and the socket close) while a big body is still being written.
    let answered = false;
    req.on('error', (err) => !answered && reject(err));
    req.end(opts.body);
  });
}

const call = (method: string, args: unknown): Promise<Reply> =>
  request({ method: 'POST', path: `/api/${method}`, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(args) });

/** Writes raw bytes on a fresh connection and returns everything the server sends until it closes (or `waitMs`). */
function rawExchange(bytes: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(app.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(bytes);
  });
}

// ---- WebSocket at the byte level -----------------------------------------------------------------

interface Upgraded {
  socket: net.Socket;
  /** Server bytes after the 101 response. */
  received: () => Buffer;
  closed: Promise<void>;
}

function upgradeRequest(target: string, headers: Record<string, string>): string {
  const lines = [
    `GET ${target} HTTP/1.1`,
    `Host: 127.0.0.1:${app.port}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Opens /api/events with the token by hand; resolves once the 101 has arrived. */
function rawSocket(): Promise<Upgraded> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(app.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let after = Buffer.alloc(0);
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => {
      if (upgraded) {
        after = Buffer.concat([after, c]);
        return;
      }
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head}`));
      upgraded = true;
      after = buf.subarray(end + 4);
      resolve({ socket, received: () => after, closed });
    });
    socket.write(upgradeRequest('/api/events', { Authorization: `Bearer ${app.token}` }));
  });
}

/** A client frame: FIN + opcode byte as given, masked, with a 16- or 64-bit length as needed. */
function frame(first: number, payload: Buffer, opts: { mask?: boolean; declaredLength?: number } = {}): Buffer {
  const mask = opts.mask ?? true;
  const length = opts.declaredLength ?? payload.length;
  const header: number[] = [first];
  const m = mask ? 0x80 : 0;
  if (length < 126) header.push(m | length);
  else if (length < 65536) header.push(m | 126, length >> 8, length & 0xff);
  else {
    header.push(m | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    header.push(...big);
  }
  if (!mask) return Buffer.concat([Buffer.from(header), payload]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(header), key, masked]);
}

/** The status code of the server's close frame among `bytes`, or null when there is none. */
function closeCode(bytes: Buffer): number | null {
  for (let i = 0; i + 1 < bytes.length; ) {
    const opcode = bytes[i]! & 0x0f;
    let len = bytes[i + 1]! & 0x7f;
    let at = i + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    if (opcode === 0x8) return len >= 2 ? bytes.readUInt16BE(at) : 1005;
    i = at + len;
  }
  return null;
}

async function sendAndAwaitClose(bytes: Buffer): Promise<number | null> {
  const ws = await rawSocket();
  ws.socket.write(bytes);
  const timeout = new Promise<'open'>((r) => setTimeout(() => r('open'), 5000));
  expect(await Promise.race([ws.closed.then(() => 'closed' as const), timeout])).toBe('closed');
  return closeCode(ws.received());
}

/** A well-behaved event client: opens, then sees the `project` event a project.create pushes. */
async function eventsStillFlow(): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${app.port}/api/events`, { headers: { Authorization: `Bearer ${app.token}` } });
  const got: string[] = [];
  ws.on('message', (d: Buffer) => got.push(d.toString('utf8')));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const dir = fs.mkdtempSync(path.join(tmp, 'proj-'));
  expect(JSON.parse((await call('project.create', { dir })).text)).toMatchObject({ ok: true });
  await expect.poll(() => got.some((m) => m.includes('"event":"project"') && m.includes(JSON.stringify(dir)))).toBe(true);
  ws.close();
}

describe('WebSocket frames', () => {
  it('closes a socket that sends a frame over 64 KiB with 1009 and keeps serving', async () => {
    const declared = 100_000;
    const code = await sendAndAwaitClose(frame(0x81, Buffer.alloc(1024, 0x61), { declaredLength: declared }));
    expect(code).toBe(1009);
    // The whole frame at once too (the limit is checked on the header, the body never buffered).
    expect(await sendAndAwaitClose(frame(0x82, Buffer.alloc(70 * 1024, 1)))).toBe(1009);
    await eventsStillFlow();
  });

  it('closes a socket that sends malformed frames with 1002 and keeps serving', async () => {
    const hello = Buffer.from('hello');
    expect(await sendAndAwaitClose(frame(0x81, hello, { mask: false }))).toBe(1002); // clients must mask
    expect(await sendAndAwaitClose(frame(0xc1, hello))).toBe(1002); // RSV1 without an extension
    expect(await sendAndAwaitClose(frame(0x83, hello))).toBe(1002); // reserved opcode
    expect(await sendAndAwaitClose(frame(0x09, hello))).toBe(1002); // fragmented control frame
    expect(await sendAndAwaitClose(frame(0x81, Buffer.from([0xff, 0xfe, 0xfd])))).toBe(1007); // text that is not UTF-8
    await eventsStillFlow();
  });

  it('survives a client that vanishes mid-frame', async () => {
    const ws = await rawSocket();
    ws.socket.write(frame(0x81, Buffer.alloc(200, 0x62)).subarray(0, 50));
    ws.socket.destroy();
    await ws.closed;
    await eventsStillFlow();
  });
});

describe('WebSocket upgrades', () => {
  it('refuses upgrades without the token, with a bad handshake or to another path, with a status line', async () => {
    expect(await rawExchange(upgradeRequest('/api/events', {}))).toMatch(/^HTTP\/1\.1 401 /);
    expect(await rawExchange(upgradeRequest('/api/events', { Authorization: 'Bearer nope' }))).toMatch(/^HTTP\/1\.1 401 /);
    expect(await rawExchange(upgradeRequest('/api/nothing', { Authorization: `Bearer ${app.token}` }))).toMatch(/^HTTP\/1\.1 404 /);
    const badKey = upgradeRequest('/api/events', { Authorization: `Bearer ${app.token}` }).replace(/Sec-WebSocket-Key: .*\r\n/, 'Sec-WebSocket-Key: short\r\n');
    expect(await rawExchange(badKey)).toMatch(/^HTTP\/1\.1 400 /);
    const badVersion = upgradeRequest('/api/events', { Authorization: `Bearer ${app.token}` }).replace('Version: 13', 'Version: 99');
    expect(await rawExchange(badVersion)).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('refuses an upgrade whose target is not a path', async () => {
    for (const target of ['//', 'http://[::1', '*']) {
      expect(await rawExchange(upgradeRequest(target, { Authorization: `Bearer ${app.token}` })), target).toMatch(/^HTTP\/1\.1 (400|404) /);
      expect(app.alive(), app.output()).toBe(true);
    }
  });
});

describe('downloads', () => {
  it('survives clients that hang up in the middle of an image or thumbnail', async () => {
    const photos = path.join(tmp, 'noise');
    fs.mkdirSync(photos, { recursive: true });
    // Noise does not compress: a PNG of several MB, far more than one socket buffer.
    await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toFile(path.join(photos, 'noise.png'));
    const dir = fs.mkdtempSync(path.join(tmp, 'proj-'));
    expect(JSON.parse((await call('project.create', { dir })).text)).toMatchObject({ ok: true });
    const started = JSON.parse((await call('dataset.import', { format: 'folder', source: photos })).text) as { value: { jobId: string } };
    await expect
      .poll(async () => (JSON.parse((await call('jobs.get', { id: started.value.jobId })).text) as { value: { state: string } }).value.state, { timeout: 30_000 })
      .toBe('done');
    const page = JSON.parse((await call('images.page', { limit: 1 })).text) as { value: { items: { id: number }[] } };
    const id = page.value.items[0]!.id;

    const hangUp = (target: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: app.port, path: target, headers: { Host: `127.0.0.1:${app.port}`, Authorization: `Bearer ${app.token}` } }, (res) => {
          res.once('data', () => {
            req.destroy(); // gone after the first chunk
            resolve(res.statusCode ?? 0);
          });
        });
        req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
      });
    for (let i = 0; i < 5; i++) expect(await hangUp(`/api/images/${id}/file`)).toBe(200);
    expect(await hangUp(`/api/images/${id}/thumb`)).toBe(200);
    const full = await request({ path: `/api/images/${id}/file` });
    expect(full.status).toBe(200);
    expect(full.text.length).toBeGreaterThan(1_000_000);
  });
});

describe('request targets and bodies', () => {
  it('answers a request target that is not a path, or a method name that is not UTF-8, with a 4xx', async () => {
    for (const [method, target] of [
      ['GET', '//'],
      ['POST', '//'],
      ['POST', '/api/%ZZ'],
      ['POST', '/api/%E0%A4%A'],
    ] as const) {
      const reply = await rawExchange(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nAuthorization: Bearer ${app.token}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      expect(reply, `${method} ${target}`).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
  });

  it('refuses invalid JSON and bodies over 1 MiB with a 4xx and an error code', async () => {
    for (const body of ['{', '[1,', '"\\ud800', '\u0000', 'null null']) {
      const r = await request({ method: 'POST', path: '/api/app.info', body });
      expect(r.status, body).toBe(400);
      expect(JSON.parse(r.text)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
    // Refused on the declared length, before the body is read.
    const huge = await rawExchange(
      `POST /api/project.open HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nAuthorization: Bearer ${app.token}\r\nContent-Length: ${4 * 1024 * 1024}\r\n\r\n{"dir":"${'x'.repeat(60_000)}`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 413 /);
    expect(huge).toContain('"code":"INVALID_INPUT"');
  });

  it('survives clients that stop sending mid-body or dribble a body, and serves others meanwhile', async () => {
    const abort = (headers: string, part: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = net.connect(app.port, '127.0.0.1', () => {
          socket.write(`POST /api/app.info HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nAuthorization: Bearer ${app.token}\r\n${headers}\r\n${part}`);
          setTimeout(() => {
            socket.destroy();
            resolve('gone');
          }, 200);
        });
        socket.on('error', () => resolve('refused'));
      });
    await abort('Content-Length: 100\r\n', '{"a":');
    await abort(`Content-Length: ${10 * 1024 * 1024}\r\n`, 'x'.repeat(1000)); // over the limit: answered before the body
    await abort('Transfer-Encoding: chunked\r\n', '5\r\n{"a":\r\n');

    // A slow body: one byte every 100 ms, while ordinary calls keep being answered at once.
    const slow = net.connect(app.port, '127.0.0.1');
    slow.on('error', () => undefined);
    slow.write(`POST /api/app.info HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nAuthorization: Bearer ${app.token}\r\nContent-Length: 1000\r\n\r\n`);
    const drip = setInterval(() => slow.write(' '), 100);
    try {
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        expect((await call('app.info', {})).status).toBe(200);
        expect(performance.now() - t0).toBeLessThan(1000);
      }
    } finally {
      clearInterval(drip);
      slow.destroy();
    }
  });
});
