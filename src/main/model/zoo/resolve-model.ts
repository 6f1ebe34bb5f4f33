/**
 * @file What `model=` names on the command line, the way Ultralytics reads it: a file that exists,
 * else one of the official weights by name (`yolo11n.pt`, `yolov8s`), fetched into the model cache
 * with progress the first time and reused after. Offline, the error says what to do instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import type { DownloadProgress } from './download';
import type { ModelZoo } from './zoo';

export interface ResolveModelOptions {
  /** Folder relative paths are read from (default: the current folder). */
  cwd?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** One line per step ("Downloading ... to ..."). */
  log?: (line: string) => void;
}

/** An existing file's absolute path, or the cached zoo model the name stands for (downloaded if need be). */
export async function resolveModelArg(arg: string, zoo: ModelZoo, opts: ResolveModelOptions = {}): Promise<string> {
  const file = path.resolve(opts.cwd ?? process.cwd(), arg);
  if (fs.existsSync(file)) return file;
  // Only a bare name means the zoo: `runs/x/yolo11n.pt` that is missing is a typo, not a download.
  const entry = path.basename(arg) === arg ? zoo.catalog.find((e) => e.file === arg || e.name === arg) : undefined;
  if (!entry) {
    const names = zoo.catalog.map((e) => e.file).join(', ');
    throw new AppError('FILE_NOT_FOUND', `cannot read ${arg}: no such file (${file}); boxtune downloads these by name: ${names}`, { file });
  }
  const cached = path.join(zoo.dir, entry.file);
  if (!fs.existsSync(cached)) opts.log?.(`Downloading ${entry.url} to ${cached}...`);
  try {
    return (await zoo.download(entry.name, opts.onProgress ? { onProgress: opts.onProgress } : {})).path;
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'MODEL_DOWNLOAD_FAILED') throw err;
    // The zoo's message already says what to do instead (a local file, or the file's place in the cache).
    const details = typeof err.details === 'object' && err.details !== null ? err.details : {};
    throw new AppError('MODEL_DOWNLOAD_FAILED', `${arg} is not in ${opts.cwd ?? process.cwd()}, and ${err.message}`, { ...details, cached });
  }
}
