/**
 * Fuzzes every Api method over HTTP against the real server (its own process) holding a real
 * project: wrong types, missing and extra fields, huge strings and arrays, NaN-like and
 * out-of-range numbers, ids that name nothing, paths no caller can mean. The cases come from each
 * method's zod schema (fuzz-cases.ts), so a new method is fuzzed as soon as it has one. Every case
 * is invalid: each must get a clear refusal (ok:false with an error code other than INTERNAL, or a
 * job that fails with one), at once; the server stays up; the project's database, the open project
 * and the server's working folder are exactly as before.
 *
 * The order is seeded (SEED), so a run can be replayed. FUZZ_TRACE=1 prints every case with its
 * time; FUZZ_TIMEOUT_MS raises the test's time limit while hunting a hang.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../../src/main/server/http-server';
import { BoxEditor } from '../../../src/main/store/box-editor';
import { ClassManager } from '../../../src/main/store/class-manager';
import { Rng } from '../../../src/main/util/rng';
import type { ErrorCode } from '../../../src/shared/errors';
import type { JobInfo } from '../../../src/shared/types';
import { projectWithImages } from '../../helpers/image-project';
import { pixelBombPng } from '../../helpers/pixel-bomb';
import { allCases, hostilePaths, MISSING_IDS, type FuzzCase } from './fuzz-cases';
import { startServeChild, type ServeChild } from './serve-child';

const SEED = 20_261_209;
/** One call (or the job it starts) must be answered within this. */
const CALL_TIMEOUT_MS = 15_000;

let tmp: string;
let root: string;
let cwd: string;
let fifo: string | undefined;
let datasets: { format: string; source: string; label: string }[] = [];
let app: ServeChild;

interface Reply {
  status: number;
  json: { ok: boolean; value?: unknown; error?: { code: ErrorCode; message: string } } | null;
  text: string;
}

/**
 * POSTs a raw body. The body goes in 64 KiB pieces and stops once an answer arrives (the server
 * refuses an oversized body on its declared length, before reading it).
 */
function post(method: string, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const bytes = Buffer.from(body, 'utf8');
    let answered = false;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`));
    }, CALL_TIMEOUT_MS);
    const req = http.request(
      {
        host: '127.0.0.1',
        port: app.port,
        method: 'POST',
        path: `/api/${method}`,
        // A fresh connection per call: a pooled keep-alive socket the server has already timed out
        // (5 s idle, easily reached while the cases are generated on a loaded machine) hangs up.
        agent: false,
        headers: {
          Host: `127.0.0.1:${app.port}`,
          Authorization: `Bearer ${app.token}`,
          'Content-Type': 'application/json',
          'Content-Length': bytes.length,
        },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Reply['json'] = null;
          try {
            json = JSON.parse(text) as Reply['json'];
          } catch {
            // left null: the check below reports the body
          }
          resolve({ status: res.statusCode ?? 0, json, text });
          req.destroy();
        });
      },
    );
    req.on('error', (err) => {
      if (answered) return;
      clearTimeout(timer);
      reject(err);
    });
    void (async () => {
      if (bytes.length > MAX_BODY_BYTES) {
        // The server answers an oversized body on its declared length alone: wait for that first.
        req.flushHeaders();
        const until = Date.now() + 2000;
        while (!answered && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      }
      for (let at = 0; at < bytes.length && !answered; at += 64 * 1024) {
        if (!req.write(bytes.subarray(at, at + 64 * 1024))) await new Promise((r) => req.once('drain', r));
      }
      if (!answered) req.end();
    })().catch(() => undefined);
  });
}

async function call(method: string, args: unknown): Promise<unknown> {
  const reply = await post(method, JSON.stringify(args));
  if (!reply.json?.ok) throw new Error(`${method} failed: ${reply.text}`);
  return reply.json.value;
}

/** Every row of every table, as text, sorted: equal digests mean an unchanged database. */
function digest(): string {
  const db = new Database(path.join(root, 'boxtune.db'), { readonly: true, fileMustExist: true });
  try {
    const hash = createHash('sha256');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    for (const table of tables) {
      const rows = db.prepare(`SELECT * FROM "${table.replaceAll('"', '""')}"`).all().map((r) => JSON.stringify(r));
      hash.update(`${table}\n${rows.sort().join('\n')}\n`);
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

/** Waits for a job the case started; it must end failed (never done) with a clear code. */
async function jobOutcome(jobId: string): Promise<JobInfo> {
  const deadline = Date.now() + CALL_TIMEOUT_MS;
  for (;;) {
    const job = (await call('jobs.get', { id: jobId })) as JobInfo;
    if (job.state !== 'running') return job;
    if (Date.now() > deadline) throw new Error(`job ${job.kind} still running after ${CALL_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What is wrong with the answer to an invalid case, or null when it is a clear refusal. */
async function judge(c: FuzzCase, reply: Reply): Promise<string | null> {
  if (reply.status >= 500) return `HTTP ${reply.status}: ${reply.text.slice(0, 300)}`;
  if (!reply.json) return `HTTP ${reply.status} without a JSON body: ${reply.text.slice(0, 300)}`;
  if (reply.json.ok) {
    const jobId = (reply.json.value as { jobId?: unknown } | null)?.jobId;
    if (typeof jobId !== 'string') return `accepted: ${reply.text.slice(0, 300)}`;
    const job = await jobOutcome(jobId);
    if (job.state !== 'failed') return `started a ${job.kind} job that ended ${job.state}`;
    if (!job.error || job.error.code === 'INTERNAL') return `started a ${job.kind} job that failed with ${JSON.stringify(job.error).slice(0, 300)}`;
    return null;
  }
  const error = reply.json.error;
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string' || error.message === '') return `no error code and message: ${reply.text.slice(0, 300)}`;
  if (error.code === 'INTERNAL') return `INTERNAL: ${error.message.slice(0, 300)}`;
  if (reply.status !== 200 && ![400, 413].includes(reply.status)) return `HTTP ${reply.status} for ${error.code}`;
  return null;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-fuzz-'));
  cwd = path.join(tmp, 'server-cwd');
  fs.mkdirSync(cwd);
  root = path.join(tmp, 'project');
  const made = spawnSync('mkfifo', [path.join(tmp, 'fifo')]);
  fifo = made.status === 0 ? path.join(tmp, 'fifo') : undefined;
  const png = (bg: string): Promise<Buffer> => sharp({ create: { width: 64, height: 48, channels: 3, background: bg } }).png().toBuffer();
  const { store, images } = projectWithImages(root, { 'a.png': await png('#aa3333'), 'b.png': await png('#33aa33'), 'c.png': await png('#3333aa'), 'd.png': await png('#999999') });
  const classes = new ClassManager(store);
  const cat = classes.create('cat');
  const dog = classes.create('dog');
  const editor = new BoxEditor(store);
  editor.create(images[0]!.id, [{ classId: cat.id, x: 1, y: 2, w: 20, h: 10 }]);
  editor.create(images[1]!.id, [{ classId: dog.id, x: 5, y: 5, w: 30, h: 30 }, { classId: cat.id, x: 0, y: 0, w: 8, h: 8 }]);
  editor.create(images[2]!.id, [{ classId: cat.id, x: 3, y: 3, w: 9, h: 9 }]);
  editor.setStatus(images[2]!.id, 'reviewed');
  store.setSplits(new Map([[images[0]!.id, 'train'], [images[1]!.id, 'train'], [images[2]!.id, 'val']]));
  store.close();
  datasets = await hostileDatasets(path.join(tmp, 'hostile'), fifo);
  app = await startServeChild(path.join(tmp, 'data'), ['--project', root], cwd);
}, 120_000);

afterAll(async () => {
  await app?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the Api under fuzzing', () => {
  it('refuses every invalid call clearly, stays up, and changes nothing', async () => {
    const rng = new Rng(SEED);
    const uuid = (): string => randomUuidFrom(rng);
    const boxesOf = async (id: number): Promise<number[]> => ((await call('images.boxes', { id })) as { id: number }[]).map((b) => b.id);
    const [first, second] = [await boxesOf(1), await boxesOf(2)];
    const cases: FuzzCase[] = [...allCases({ tmp, fifo, rng, uuid }), ...semanticCases(tmp, uuid, { first: first[0]!, second: second[0]! })];
    const original = digest();
    let before = original;
    const info = (await call('app.info', {})) as { project: { root: string } | null };
    expect(info.project?.root).toBe(root);

    const defects: string[] = [];
    const t0 = performance.now();
    let slowest = { ms: 0, label: '' };
    for (const c of cases) {
      const label = `${c.method} ${c.label}`;
      const started = performance.now();
      let problem: string | null;
      try {
        problem = await judge(c, await post(c.method, c.body));
      } catch (err) {
        problem = `no answer: ${(err as Error).message}`;
      }
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { ms, label };
      if (!app.alive()) {
        defects.push(`${label}: the server died\n${app.output().slice(-2000)}`);
        break;
      }
      const after = digest();
      if (after !== before) problem = `${problem ? `${problem}; ` : ''}changed the database`;
      const open = ((await call('app.info', {})) as { project: { root: string } | null }).project?.root ?? null;
      if (open !== root) problem = `${problem ? `${problem}; ` : ''}the open project is now ${open}`;
      const stray = fs.readdirSync(cwd);
      if (stray.length) problem = `${problem ? `${problem}; ` : ''}wrote ${stray.join(', ')} into the server's working folder`;
      if (problem) {
        defects.push(`${label}: ${problem}`);
        console.error(`[api-fuzz] DEFECT ${label}: ${problem}`);
      }
      if (process.env.FUZZ_TRACE) console.log(`[api-fuzz] ${ms.toFixed(0)} ms ${label}`);
      // Put things back as far as the Api can, so one defect does not show up as many.
      before = after;
      if (open !== root) await call('project.open', { dir: root });
      for (const name of stray) fs.rmSync(path.join(cwd, name), { recursive: true, force: true, maxRetries: 5 });
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`[api-fuzz] ${cases.length} invalid calls over ${new Set(cases.map((c) => c.method)).size} methods in ${seconds.toFixed(1)} s; slowest ${slowest.ms.toFixed(0)} ms (${slowest.label})`);
    expect(defects).toEqual([]);
    expect(app.alive()).toBe(true);
    expect(digest()).toBe(original);
  }, Number(process.env.FUZZ_TIMEOUT_MS ?? 180_000));
});

/**
 * Cases a schema cannot describe: names and references the service must refuse. `box.first` is a
 * box of image 1, `box.second` one of image 2.
 */
function semanticCases(tmpDir: string, uuid: () => string, box: { first: number; second: number }): FuzzCase[] {
  const c = (method: string, label: string, args: unknown): FuzzCase => ({ method, label, body: JSON.stringify(args) });
  return [
    ...datasets.map((d) => c('dataset.import', `${d.format} dataset: ${d.label}`, { format: d.format, source: d.source })),
    c('boxes.update', "another image's box", { imageId: 1, changes: [{ id: box.second, x: 3 }] }),
    c('boxes.delete', "another image's box", { imageId: 1, ids: [box.second] }),
    c('boxes.copyFrom', 'a box the source image does not hold', { imageId: 3, fromImageId: 2, ids: [box.first] }),
    c('classes.merge', 'a class into itself', { sourceId: 1, targetId: 1 }),
    c('classes.reorder', 'a class twice', { ids: [1, 1] }),
    c('classes.reorder', 'a class missing', { ids: [2] }),
    c('classes.reorder', 'a class twice and another missing', { ids: [2, 2] }),
    c('dataset.assignSplits', 'all ratios zero', { ratios: { train: 0, val: 0, test: 0 }, scope: 'all' }),
    ...['../../../../etc/passwd', 'yolo11n.pt/../../x', 'YOLO11N', 'yolo11n\u0000'].map((name) => c('models.download', `name ${JSON.stringify(name)}`, { name })),
    ...['run:0', `run:${MISSING_IDS[0]}`, 'run:abc', ...hostilePaths(tmpDir, fifo), '/etc/passwd', tmpDir].map((model) => c('train.start', `model ${JSON.stringify(model.slice(0, 60))}`, { model })),
    ...['/etc/passwd', '/dev/null', tmpDir, `${tmpDir}/missing.pt`].map((p) => c('models.inspect', `path ${JSON.stringify(p)}`, { path: p })),
    c('jobs.get', 'a job that does not exist', { id: uuid() }),
    c('jobs.cancel', 'a job that does not exist', { id: uuid() }),
    ...['nope', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'app.info.', 'App.Info', '%00'].map((m) => ({ method: m, label: 'unknown method', body: '{}' })),
  ];
}

/** A v4 uuid from the seeded RNG, so a failing case can be replayed. */
function randomUuidFrom(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(16).toString(16));
  hex[12] = '4';
  hex[16] = (8 + rng.int(4)).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Datasets whose files are hostile, one thing each; none can be imported (all-or-nothing), so each
 * import job must fail with a clear code, soon. `fifo` (when the platform has one) stands for a
 * file that blocks whoever opens it.
 */
async function hostileDatasets(dir: string, fifoPath: string | undefined): Promise<{ format: string; source: string; label: string }[]> {
  const out: { format: string; source: string; label: string }[] = [];
  const write = (rel: string, data: string | Buffer): string => {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    return file;
  };
  const yoloYaml = (name: string, body: string): string => write(`${name}/data.yaml`, `path: .\n${body}`);
  const aliases = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...'bcdefghij'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghij'[i]}`).join(', ')}]`)].join('\n');

  write('bomb-names/images/a.png', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer());
  out.push({ format: 'yolo', label: 'YAML aliases expanding to billions of names', source: yoloYaml('bomb-names', `${aliases}\ntrain: images\nval: images\nnames: *j\n`) });
  out.push({ format: 'yolo', label: 'YAML aliases as the dataset path', source: write('bomb-path/data.yaml', `${aliases}\npath: *j\ntrain: images\nnames: [a]\n`) });
  write('pixel-bomb/images/bomb.png', await pixelBombPng());
  out.push({ format: 'yolo', label: 'only a pixel bomb image', source: yoloYaml('pixel-bomb', 'train: images\nnames: [a]\n') });
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  out.push({
    format: 'coco',
    label: 'a value nested 100k deep',
    source: write('deep/instances_val.json', `{"images":[{"id":1,"file_name":"a.png","width":${deep},"height":8}],"annotations":[],"categories":[{"id":1,"name":"a"}]}`),
  });
  write('voc/JPEGImages/a.png', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer());
  write('voc/Annotations/a.xml', '<?xml version="1.0"?>\n<!DOCTYPE annotation [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<annotation><filename>&x;</filename></annotation>\n');
  out.push({ format: 'voc', label: 'an xml with an external entity', source: path.join(dir, 'voc') });
  if (fs.existsSync('/dev/zero')) {
    fs.mkdirSync(path.join(dir, 'zero-image/images'), { recursive: true });
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero-image/images/zero.png'));
    out.push({ format: 'yolo', label: 'an image that is /dev/zero', source: yoloYaml('zero-image', 'train: images/zero.png\nnames: [a]\n') });
    write('zero-label/images/a.png', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer());
    fs.mkdirSync(path.join(dir, 'zero-label/labels'), { recursive: true });
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero-label/labels/a.txt'));
    out.push({ format: 'yolo', label: 'a label file that is /dev/zero', source: yoloYaml('zero-label', 'train: images\nnames: [a]\n') });
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero-list.txt'));
    out.push({ format: 'yolo', label: 'an image list that is /dev/zero', source: write('zero-list/data.yaml', `path: ${dir}\ntrain: zero-list.txt\nnames: [a]\n`) });
  }
  if (fifoPath) {
    out.push({ format: 'yolo', label: 'an image list that is a FIFO', source: write('fifo-list/data.yaml', `path: .\ntrain: ${fifoPath}\nnames: [a]\n`) });
    write('fifo-label/images/a.png', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer());
    fs.mkdirSync(path.join(dir, 'fifo-label/labels'), { recursive: true });
    fs.symlinkSync(fifoPath, path.join(dir, 'fifo-label/labels/a.txt'));
    out.push({ format: 'yolo', label: 'a label file that is a FIFO', source: yoloYaml('fifo-label', 'train: images\nnames: [a]\n') });
  }
  return out;
}

