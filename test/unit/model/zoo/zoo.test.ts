/**
 * The model zoo: the catalog (Ultralytics' release URLs, parameter counts from the yamls), and
 * downloads as jobs against a local server holding a small self-made checkpoint: progress in
 * bytes, structural verification, the SHA-256 sidecar and its check on later use, a wrong model,
 * an unreachable host. Never touches the network.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../../../src/shared/types';
import { JobRegistry } from '../../../../src/main/jobs/job-registry';
import { describeModel } from '../../../../src/main/model/parse-model';
import { YoloModel } from '../../../../src/main/model/yolo';
import { ModelZoo, plausibleBytes, sha256File, ZOO, type ZooEntry } from '../../../../src/main/model/zoo';
import { tinyYolo11Yaml, useModelTestBackend, yolo11Yaml, yolov8Yaml } from '../../../helpers/model-fixtures';
import { fakeUltralyticsCheckpoint } from '../../../helpers/model-pt-writer';
import { tmpDir } from '../../../helpers/tmp';
import { closedPort, startFileServer, type FileServer } from './http-fixture';

describe('zoo catalog', () => {
  it("lists yolov8n/s/m and yolo11n/s/m at Ultralytics' v8.3.0 assets release", () => {
    expect(ZOO.map((e) => e.name)).toEqual(['yolo11n', 'yolo11s', 'yolo11m', 'yolov8n', 'yolov8s', 'yolov8m']);
    for (const e of ZOO) {
      expect(e.url).toBe(`https://github.com/ultralytics/assets/releases/download/v8.3.0/${e.name}.pt`);
      expect(e.file).toBe(`${e.name}.pt`);
      expect(e.nc).toBe(80);
    }
  });

  it('has the parameter counts of the yamls (what Ultralytics prints: YOLO11n 2,624,080; YOLOv8n 3,157,200)', () => {
    for (const e of ZOO) {
      const yaml = e.family === 'yolo11' ? yolo11Yaml(e.scale) : yolov8Yaml(e.scale);
      const s = describeModel(yaml);
      expect(e.params, e.name).toBe(s.params);
      expect(s.parsed.scale).toBe(e.scale);
      expect(s.parsed.legacy).toBe(e.family === 'yolov8');
      // The estimate sits inside the sizes accepted for a download.
      const { min, max } = plausibleBytes(e.params);
      expect(e.approxBytes).toBeGreaterThan(min);
      expect(e.approxBytes).toBeLessThan(max);
    }
  });
});

describe('ModelZoo downloads (local server)', () => {
  let ckpt: Uint8Array;
  let params: number;
  let server: FileServer;
  const entry = (over: Partial<ZooEntry> = {}): ZooEntry => ({
    name: 'yolo11t',
    file: 'yolo11t.pt',
    family: 'yolo11',
    scale: 't',
    params,
    nc: 3,
    url: `${server.url}/redirect`,
    approxBytes: 2 * params,
    ...over,
  });

  beforeAll(async () => {
    await useModelTestBackend();
    const yaml = { ...tinyYolo11Yaml(3), yaml_file: 'yolo11t.yaml' };
    const model = YoloModel.fromYaml(yaml, 3, ['a', 'b', 'c'], { seed: 5 });
    ckpt = fakeUltralyticsCheckpoint(yaml, model.names, model.stride, model.stateDict(), { dtype: 'float16' });
    params = describeModel(yaml).params;
    model.dispose();
    server = await startFileServer(ckpt);
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => {
    server.options.cutAfter = undefined;
  });

  async function runJob(zoo: ModelZoo, name: string, events: JobInfo[] = []): Promise<JobInfo> {
    const jobs = new JobRegistry((info) => events.push(info));
    const { jobId } = zoo.startDownload(jobs, name);
    expect(zoo.startDownload(jobs, name).jobId).toBe(jobId); // a second request joins the running job
    return jobs.wait(jobId);
  }

  it('downloads as a job with byte progress, verifies it, records its SHA-256 and lists it as cached', async () => {
    const dir = path.join(tmpDir(), 'models');
    const zoo = new ModelZoo(dir, [entry()]);
    expect(zoo.list()[0]).toMatchObject({ name: 'yolo11t', cached: false, size: 2 * params });
    const events: JobInfo[] = [];
    const done = await runJob(zoo, 'yolo11t', events);
    expect(done.state).toBe('done');
    expect(done.kind).toBe('model-download');
    expect(done.title).toBe('Download yolo11t.pt');
    const file = path.join(dir, 'yolo11t.pt');
    const sha = await sha256File(file);
    expect(done.result).toMatchObject({ name: 'yolo11t', path: file, bytes: ckpt.length, sha256: sha, alreadyCached: false });
    expect(done.done).toBe(ckpt.length);
    expect(done.total).toBe(ckpt.length);
    expect(events.some((e) => e.phase === 'downloading')).toBe(true);
    expect(fs.readFileSync(`${file}.sha256`, 'utf8')).toBe(`${sha}  yolo11t.pt\n`);
    expect(zoo.list()[0]).toMatchObject({ cached: true, path: file, size: ckpt.length });
    expect(await zoo.resolve('yolo11t')).toBe(file);

    // A second download finds it in the cache, unchanged.
    const again = await zoo.download('yolo11t');
    expect(again).toMatchObject({ alreadyCached: true, sha256: sha });
  });

  it('adopts a file put in the cache by hand (offline users are told to do this) without a request', async () => {
    const dir = path.join(tmpDir(), 'models');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'yolo11t.pt'), ckpt);
    const zoo = new ModelZoo(dir, [entry()]);
    const requests = server.ranges.length;
    const got = await zoo.download('yolo11t');
    expect(got).toMatchObject({ alreadyCached: true, path: path.join(dir, 'yolo11t.pt'), sha256: await sha256File(path.join(dir, 'yolo11t.pt')) });
    expect(server.ranges.length).toBe(requests);
    expect(await zoo.resolve('yolo11t')).toBe(path.join(dir, 'yolo11t.pt'));
    // Something else under that name is refused, not adopted.
    fs.writeFileSync(path.join(dir, 'other.pt'), Buffer.from('not a model'));
    const other = new ModelZoo(dir, [entry({ name: 'other', file: 'other.pt' })]);
    await expect(other.download('other')).rejects.toThrow('the downloaded other.pt is not the expected other model');
  });

  it('a file changed on disk fails the checksum on use, and downloading again replaces it', async () => {
    const dir = path.join(tmpDir(), 'models');
    const zoo = new ModelZoo(dir, [entry()]);
    await zoo.download('yolo11t');
    const file = path.join(dir, 'yolo11t.pt');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 100]! ^= 0xff;
    fs.writeFileSync(file, bytes);
    await expect(zoo.resolve('yolo11t')).rejects.toMatchObject({ code: 'FILE_UNREADABLE', message: expect.stringMatching(/changed since it was downloaded/) });
    const fresh = await zoo.download('yolo11t');
    expect(fresh.alreadyCached).toBe(false);
    expect(Buffer.from(fs.readFileSync(file)).equals(Buffer.from(ckpt))).toBe(true);
    expect(await zoo.resolve('yolo11t')).toBe(file);
  });

  it('resumes an interrupted download', async () => {
    const dir = path.join(tmpDir(), 'models');
    const zoo = new ModelZoo(dir, [entry()]);
    server.options.cutAfter = Math.floor(ckpt.length / 2);
    server.options.cutTimes = 1;
    const startedAt = server.ranges.length;
    await expect(zoo.download('yolo11t')).rejects.toMatchObject({ code: 'MODEL_DOWNLOAD_FAILED', message: expect.stringMatching(/interrupted.*run it again to resume/) });
    expect(zoo.list()[0]!.cached).toBe(false);
    const res = await zoo.download('yolo11t');
    expect(res.resumedFrom).toBeGreaterThan(0);
    expect(server.ranges.slice(startedAt)).toEqual([null, `bytes=${res.resumedFrom}-`]);
    expect(await sha256File(res.path)).toBe(res.sha256);
    expect(Buffer.from(fs.readFileSync(res.path)).equals(Buffer.from(ckpt))).toBe(true);
  });

  it('rejects a download that is not the promised model, and keeps nothing', async () => {
    const dir = path.join(tmpDir(), 'models');
    const zoo = new ModelZoo(dir, [entry({ scale: 's' })]);
    const job = await runJob(zoo, 'yolo11t');
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ code: 'MODEL_DOWNLOAD_FAILED', message: "the downloaded yolo11t.pt is not the expected yolo11t model: its scale is 't', not 's'" });
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(zoo.list()[0]!.cached).toBe(false);
  });

  it('rejects a download whose size is implausible for the model (an error page, a different file)', async () => {
    const zoo = new ModelZoo(path.join(tmpDir(), 'models'), [entry({ params: params * 10 })]);
    await expect(zoo.download('yolo11t')).rejects.toMatchObject({ code: 'MODEL_DOWNLOAD_FAILED', message: expect.stringMatching(/not a plausible size/) });
  });

  it('offline: MODEL_DOWNLOAD_FAILED saying which host and what to do instead', async () => {
    const port = await closedPort();
    const dir = path.join(tmpDir(), 'models');
    const zoo = new ModelZoo(dir, [entry({ name: 'yolo11n', file: 'yolo11n.pt', url: `http://127.0.0.1:${port}/yolo11n.pt` })]);
    const job = await runJob(zoo, 'yolo11n');
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({
      code: 'MODEL_DOWNLOAD_FAILED',
      message: `could not reach 127.0.0.1:${port} to download yolo11n.pt; use a local .pt or .safetensors file instead, or put yolo11n.pt at ${path.join(dir, 'yolo11n.pt')}`,
    });
  });

  it('names the valid models for an unknown one', () => {
    const zoo = new ModelZoo(tmpDir(), ZOO);
    expect(() => zoo.entry('yolo99x')).toThrow("no model 'yolo99x' to download; choose one of yolo11n, yolo11s, yolo11m, yolov8n, yolov8s, yolov8m");
    expect(zoo.list().every((m) => !m.cached && m.path === undefined)).toBe(true);
  });
});
