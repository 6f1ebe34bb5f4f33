/**
 * @file Where boxtune keeps what is not a project's: settings, the model cache, sample projects.
 * BOXTUNE_DATA_DIR overrides it (tests, portable installs); else the XDG config folder.
 */
import os from 'node:os';
import path from 'node:path';

export function defaultDataDir(): string {
  if (process.env.BOXTUNE_DATA_DIR) return path.resolve(process.env.BOXTUNE_DATA_DIR);
  const base = process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config');
  return path.join(base, 'boxtune');
}

/** The model cache: downloaded zoo weights (`yolo11n.pt` and its `.sha256`). */
export function modelCacheDir(dataDir: string = defaultDataDir()): string {
  return path.join(dataDir, 'models');
}
