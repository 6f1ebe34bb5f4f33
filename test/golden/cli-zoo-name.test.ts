/**
 * The seed's line typed as Ultralytics users type it: `model=yolo11n.pt` in a folder without that
 * file fetches the official weights into the model cache (here from a mirror on 127.0.0.1 serving
 * the real yolo11n checkpoint), and the second run reuses the cached copy without a request.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const SHARED = path.resolve(repoRoot, '../shared');
const BIN = path.join(repoRoot, 'bin/boxtune.mjs');

/** Runs the CLI without blocking this process's event loop (the mirror below must keep answering). */
function boxtune(cwd: string, env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('model=yolo11n.pt by name', () => {
  let server: http.Server;
  let mirror = '';
  const requests: string[] = [];
  beforeAll(async () => {
    const body = fs.readFileSync(path.join(SHARED, 'models/yolo11n-coco.pt'));
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url !== '/yolo11n.pt') return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('downloads into the model cache on first use and reuses it after', async () => {
    const work = tmpDir();
    const env = { BOXTUNE_DATA_DIR: path.join(work, 'data'), BOXTUNE_MODEL_MIRROR: mirror };
    const data = path.join(SHARED, 'data/coco8/coco8.yaml');
    const first = await boxtune(work, env, 'val', 'model=yolo11n.pt', `data=${data}`, 'imgsz=160', 'batch=4');
    expect(first.stderr).toContain(`Downloading ${mirror}/yolo11n.pt to ${path.join(work, 'data/models/yolo11n.pt')}`);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^all\s+4\s+17\s/m);
    expect(fs.existsSync(path.join(work, 'data/models/yolo11n.pt.sha256'))).toBe(true);
    expect(requests).toEqual(['/yolo11n.pt']);

    const second = await boxtune(work, env, 'val', 'model=yolo11n.pt', `data=${data}`, 'imgsz=160', 'batch=4');
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain('Downloading');
    expect(requests).toHaveLength(1);
  });
});
