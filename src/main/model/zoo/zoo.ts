/**
 * @file The model cache (`<dataDir>/models/`): lists the downloadable Ultralytics weights, fetches
 * one as a job with progress (bytes, rate, ETA), and checks what it got.
 *
 * Checksums: Ultralytics publishes none for these files, and boxtune does not invent any. A fresh
 * download is verified by what we can check: the server's size, a plausible size for the model's
 * parameter count, and its content (our .pt reader opens it, it is a detection model of the expected
 * family, scale, class count and parameter count, and its weights fit its yaml). Then its SHA-256 is
 * recorded in a sidecar `<file>.sha256` (sha256sum format), and every later use checks the file
 * against it, so a file changed or damaged on disk is caught (trust on first download).
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import type { ModelInspection, ZooModel } from '../../../shared/types';
import type { JobContext, JobRegistry } from '../../jobs/job-registry';
import { plausibleBytes, ZOO, type ZooEntry } from './catalog';
import { downloadFile, sha256File, type DownloadProgress } from './download';
import { inspectModelFileInWorker } from './inspect-in-worker';

export interface ZooDownloadResult {
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  /** Already in the cache and unchanged: nothing was downloaded. */
  alreadyCached: boolean;
  /** Bytes reused from an interrupted earlier attempt. */
  resumedFrom: number;
}

export interface ZooDownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
}

export class ModelZoo {
  /** Downloads running now, by model name (a second request joins the first). */
  private readonly running = new Map<string, string>();

  constructor(
    /** The cache folder, `<dataDir>/models`. */
    readonly dir: string,
    readonly catalog: readonly ZooEntry[] = ZOO,
  ) {}

  /** Every downloadable model, and whether (and where) it is cached. */
  list(): ZooModel[] {
    return this.catalog.map((e) => {
      const file = this.cachedFile(e);
      return {
        name: e.name,
        file: e.file,
        family: e.family,
        scale: e.scale,
        params: e.params,
        nc: e.nc,
        size: file ? fs.statSync(file).size : e.approxBytes,
        url: e.url,
        cached: file !== null,
        ...(file ? { path: file } : {}),
      };
    });
  }

  /** The catalog entry; NOT_FOUND naming the valid ones. */
  entry(name: string): ZooEntry {
    const e = this.catalog.find((x) => x.name === name || x.file === name);
    if (!e) throw new AppError('NOT_FOUND', `no model '${name}' to download; choose one of ${this.catalog.map((x) => x.name).join(', ')}`);
    return e;
  }

  /** Path of a cached, unchanged model (checked against its recorded SHA-256). */
  async resolve(name: string): Promise<string> {
    const e = this.entry(name);
    const file = this.cachedFile(e);
    if (!file) throw new AppError('NOT_FOUND', `${e.file} is not downloaded yet`);
    await this.verifyHash(e, file);
    return file;
  }

  /** Fetches a model into the cache (or confirms the cached copy), verifying it as described above. */
  async download(name: string, opts: ZooDownloadOptions = {}): Promise<ZooDownloadResult> {
    const e = this.entry(name);
    const dest = path.join(this.dir, e.file);
    const cached = this.cachedFile(e);
    if (cached) {
      try {
        const sha256 = await this.verifyHash(e, cached);
        return { name: e.name, path: cached, bytes: fs.statSync(cached).size, sha256, alreadyCached: true, resumedFrom: 0 };
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'FILE_UNREADABLE') throw err;
        // Changed on disk since it was downloaded: fetch a fresh copy.
        await fs.promises.rm(sidecar(cached), { force: true });
        await fs.promises.rm(cached, { force: true });
      }
    }
    // A file put there by hand (downloads land in `.part` until complete) is adopted once it checks
    // out; a download that does not check out is deleted, a user's own file never is.
    const adopted = fs.existsSync(dest);
    const got = adopted
      ? null
      : await downloadFile(e.url, dest, {
          ...opts,
          label: e.file,
          expectedBytes: plausibleBytes(e.params),
          offlineHint: `use a local .pt or .safetensors file instead, or put ${e.file} at ${dest}`,
        });
    try {
      await verifyContent(dest, e);
    } catch (err) {
      if (!adopted) await fs.promises.rm(dest, { force: true });
      throw err;
    }
    const sha256 = await sha256File(dest);
    await fs.promises.writeFile(sidecar(dest), `${sha256}  ${e.file}\n`);
    return { name: e.name, path: dest, bytes: got?.bytes ?? fs.statSync(dest).size, sha256, alreadyCached: adopted, resumedFrom: got?.resumedFrom ?? 0 };
  }

  /**
   * Starts a download as a job ('model-download'): progress in bytes, with rate and ETA from the
   * registry. A second request for a model already downloading returns the running job.
   */
  startDownload(jobs: JobRegistry, name: string): { jobId: string } {
    const e = this.entry(name);
    const running = this.running.get(e.name);
    if (running && jobs.get(running).state === 'running') return { jobId: running };
    const job = jobs.start('model-download', `Download ${e.file}`, async (ctx: JobContext) => {
      try {
        return await this.download(e.name, {
          signal: ctx.signal,
          onProgress: ({ received, total }) =>
            ctx.progress('downloading', received, total ?? e.approxBytes, `${(received / 1e6).toFixed(1)} of ${((total ?? e.approxBytes) / 1e6).toFixed(1)} MB`),
        });
      } finally {
        this.running.delete(e.name);
      }
    });
    this.running.set(e.name, job.id);
    return { jobId: job.id };
  }

  /** The cached file when it and its checksum sidecar exist (a bare file is an unfinished download). */
  private cachedFile(e: ZooEntry): string | null {
    const file = path.join(this.dir, e.file);
    return fs.existsSync(file) && fs.existsSync(sidecar(file)) ? file : null;
  }

  /** Compares the file with the SHA-256 recorded at download time; FILE_UNREADABLE when it changed. */
  private async verifyHash(e: ZooEntry, file: string): Promise<string> {
    const recorded = (await fs.promises.readFile(sidecar(file), 'utf8')).trim().split(/\s+/)[0] ?? '';
    const actual = await sha256File(file);
    if (actual !== recorded) {
      throw new AppError('FILE_UNREADABLE', `${e.file} in the model cache changed since it was downloaded (SHA-256 ${actual.slice(0, 12)}..., recorded ${recorded.slice(0, 12)}...); download it again`, {
        file,
        recorded,
        actual,
      });
    }
    return actual;
  }
}

function sidecar(file: string): string {
  return `${file}.sha256`;
}

/**
 * The downloaded file is the model the catalog promised: readable, detection, right
 * family/scale/nc/params. Read in the inspection worker: what came over the network may be hostile.
 */
async function verifyContent(file: string, e: ZooEntry): Promise<void> {
  const bad = (why: string) => new AppError('MODEL_DOWNLOAD_FAILED', `the downloaded ${e.file} is not the expected ${e.name} model: ${why}`);
  let info: ModelInspection;
  try {
    info = await inspectModelFileInWorker(file);
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (info.format !== 'pt') throw bad(`it is a ${info.format} file, not a PyTorch checkpoint`);
  if (info.family !== e.family) throw bad(`it is a ${info.family} model`);
  if (info.yamlScale !== e.scale) throw bad(`its scale is '${info.yamlScale}', not '${e.scale}'`);
  if (info.nc !== e.nc) throw bad(`it has ${info.nc} classes, not ${e.nc}`);
  if (info.params !== e.params) throw bad(`it has ${info.params} parameters, not ${e.params}`);
}
