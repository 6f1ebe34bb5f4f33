/**
 * @file The "window stays responsive while training" figure of `npm run bench`: the real server
 * and service, a training run going in its worker (yolo11n-coco.pt fine-tuning on the drawn
 * sample project, 320, batch 4, wasm), and Api round trips over HTTP (images.page, project.info,
 * jobs.list) timed from a client on loopback. Target: p95 <= 50 ms.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDispatcher } from '../src/main/app/dispatch';
import { BoxtuneService } from '../src/main/app/service';
import { startServer } from '../src/main/server/http-server';
import type { TrainProgress } from '../src/shared/types';
import { percentile, type Figure, type Log, type PartResult } from './types';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHARED = path.resolve(here, '..', '..', 'shared');

export async function runTrainApiBench(opts: { log: Log; calls?: number }): Promise<PartResult> {
  const calls = opts.calls ?? 300;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-bench-trainapi-'));
  const service = new BoxtuneService({ shell: 'browser', dataDir: path.join(work, 'data') });
  const dispatch = createDispatcher(service);
  const server = await startServer({ service, dispatch, port: 0, staticDir: path.join(here, '..', 'out', 'renderer') });
  try {
    const { jobId: sampleJob, dir } = await service['project.openSample']({ images: 40, dir: path.join(work, 'project') });
    await service.jobs.wait(sampleJob);
    let batches = 0;
    service.events.on('event', (m: { event: string; data: TrainProgress }) => {
      if (m.event === 'train' && m.data.type === 'batch') batches++;
    });
    const { jobId } = await service['train.start']({ model: path.join(SHARED, 'models/yolo11n-coco.pt'), epochs: 3, imgsz: 320, batch: 4, device: 'wasm' });
    opts.log(`train-api: training started in ${dir}; waiting for the first batches`);
    const t0 = Date.now();
    while (batches < 1 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 200));
    const base = `http://127.0.0.1:${server.port}/api/`;
    const headers = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' };
    const methods: [string, unknown][] = [
      ['images.page', { limit: 200, filter: { split: 'train' } }],
      ['project.info', {}],
      ['jobs.list', {}],
    ];
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const [method, args] = methods[i % methods.length]!;
      const start = performance.now();
      const res = await fetch(base + method, { method: 'POST', headers, body: JSON.stringify(args) });
      await res.json();
      times.push(performance.now() - start);
      await new Promise((r) => setTimeout(r, 20));
    }
    const running = service.jobs.get(jobId).state === 'running';
    opts.log(`train-api: ${calls} calls while training (${batches} batch events so far, still running: ${running})`);
    await service['jobs.cancel']({ id: jobId });
    await service.jobs.wait(jobId);
    const figures: Figure[] = [
      { name: 'Api round trip while training, p95', measured: percentile(times, 95), unit: 'ms', target: 50 },
      { name: 'Api round trip while training, p50', measured: percentile(times, 50), unit: 'ms', target: null },
    ];
    return { part: 'train-api', figures, info: { calls, batchesDuring: batches, stillRunning: running, max: Math.max(...times) } };
  } finally {
    await server.close();
    await service.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
