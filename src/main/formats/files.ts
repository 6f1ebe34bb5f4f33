/**
 * @file File helpers every format shares: listing image files the way Ultralytics globs them,
 * choosing unique output names, and writing an export folder without ever overwriting a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import { IMAGE_EXTENSIONS, type Split } from '../../shared/types';
import { makeDirs } from '../util/make-dirs';
import { readRegularFile } from '../util/regular-file';

export { openRegularFile } from '../util/regular-file';

const IMAGE_EXT_SET: ReadonlySet<string> = new Set(IMAGE_EXTENSIONS);

/** True when the name ends in one of IMAGE_EXTENSIONS, compared case-insensitively. */
export function isImageFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot >= 0 && IMAGE_EXT_SET.has(name.slice(dot).toLowerCase());
}

/** The file name without its last extension: `a/b/img.v2.jpg` -> `img.v2`. */
export function stemOf(file: string): string {
  const base = path.basename(file);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Sorts by UTF-16 code units, like Python's `sorted` on str (and unlike localeCompare, fast). */
export function sortPaths(paths: string[]): string[] {
  return paths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Every file under `dir` whose name passes `accept`, recursively, as absolute sorted paths.
 * Hidden files and folders are skipped (Python's glob `**` does the same), and so are
 * `node_modules` folders. Symlinks are followed.
 */
export function listFiles(dir: string, accept: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
      const name = ent.name;
      if (name.startsWith('.')) continue;
      const full = path.join(d, name);
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        const st = fs.statSync(full, { throwIfNoEntry: false });
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir) {
        if (name !== 'node_modules') walk(full);
      } else if (isFile && accept(name)) {
        out.push(full);
      }
    }
  };
  walk(path.resolve(dir));
  return sortPaths(out);
}

/** Every image file under `dir` (see listFiles), absolute and sorted. */
export function listImageFiles(dir: string): string[] {
  return listFiles(dir, isImageFile);
}

export function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

export function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Reads a text file, turning "missing" and "unreadable" into AppErrors a person can act on. */
export function readTextFile(file: string, what: string): string {
  try {
    const text = readRegularFile(file).toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new AppError('FILE_NOT_FOUND', `${what} not found: ${file}`);
    }
    if (code === 'ENOTREG') throw new AppError('FILE_UNREADABLE', `cannot read ${what}: ${(err as Error).message}`);
    throw new AppError('FILE_UNREADABLE', `cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/**
 * Output file names for images that share one output folder: the basename when its stem is unique
 * (case-insensitively, since label files are named after the stem and file systems may ignore case),
 * else the relative path with its folders joined by `__` (`train/a/img.jpg` -> `train__a__img.jpg`),
 * numbered `_2`, `_3`... if that still collides. Depends only on the input order: deterministic.
 */
export function assignOutputNames(items: readonly { relPath: string; absPath: string }[]): string[] {
  const key = (name: string): string => stemOf(name).toLowerCase();
  const bases = items.map((it) => path.basename(it.relPath || it.absPath));
  const counts = new Map<string, number>();
  for (const b of bases) counts.set(key(b), (counts.get(key(b)) ?? 0) + 1);

  const names: string[] = new Array<string>(items.length);
  const used = new Set<string>();
  // Unique basenames first, so a prefixed name never takes a name an image would have had.
  bases.forEach((b, i) => {
    if (counts.get(key(b)) === 1) {
      names[i] = b;
      used.add(key(b));
    }
  });
  bases.forEach((b, i) => {
    if (names[i] !== undefined) return;
    const item = items[i]!;
    const segments = (item.relPath || item.absPath)
      .split(/[\\/]+/)
      .filter((s) => s !== '' && s !== '.' && s !== '..')
      .map((s) => s.replace(/[:*?"<>|]/g, '_'));
    let candidate = segments.length > 0 ? segments.join('__') : b;
    const ext = path.extname(candidate);
    const stem = candidate.slice(0, candidate.length - ext.length);
    for (let n = 2; used.has(key(candidate)); n++) candidate = `${stem}_${n}${ext}`;
    names[i] = candidate;
    used.add(key(candidate));
  });
  return names;
}

/** The splits writers export, in this order; images with split 'none' have no place in them. */
export const EXPORT_SPLITS = ['train', 'val', 'test'] as const;
export type ExportSplit = (typeof EXPORT_SPLITS)[number];

/** Images grouped by split, keeping their order; only splits that have images, 'none' left out. */
export function groupBySplit<T extends { split: Split }>(images: readonly T[]): [ExportSplit, T[]][] {
  const groups = new Map<Split, T[]>();
  for (const img of images) {
    if (img.split === 'none') continue;
    let g = groups.get(img.split);
    if (!g) groups.set(img.split, (g = []));
    g.push(img);
  }
  return EXPORT_SPLITS.filter((s) => groups.has(s)).map((s) => [s, groups.get(s)!]);
}

const LINK_FALLBACK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'EACCES', 'ENOSYS']);

/**
 * Writes the files of one export under `outDir`, remembering each one. Never overwrites: every
 * write is exclusive, so an existing file is an EXPORT_FAILED error rather than lost data.
 */
export class OutputFolder {
  readonly root: string;
  readonly files: string[] = [];
  private readonly made = new Set<string>();

  constructor(outDir: string) {
    this.root = path.resolve(outDir);
  }

  /** Absolute path of a '/'-separated path inside the folder. */
  abs(rel: string): string {
    return path.join(this.root, ...rel.split('/'));
  }

  mkdir(rel: string): void {
    if (this.made.has(rel)) return;
    makeDirs(this.abs(rel));
    this.made.add(rel);
  }

  writeText(rel: string, text: string): void {
    this.mkdir(path.posix.dirname(rel));
    try {
      fs.writeFileSync(this.abs(rel), text, { flag: 'wx' });
    } catch (err) {
      throw exportError(err, `cannot write ${this.abs(rel)}`);
    }
    this.files.push(rel);
  }

  /** Hard-links (or copies) an image to `rel`; a failed link falls back to a copy (other device, no permission). */
  placeImage(src: string, rel: string, mode: 'link' | 'copy'): void {
    this.mkdir(path.posix.dirname(rel));
    const dest = this.abs(rel);
    if (mode === 'link') {
      try {
        fs.linkSync(src, dest);
        this.files.push(rel);
        return;
      } catch (err) {
        if (!LINK_FALLBACK.has((err as NodeJS.ErrnoException).code ?? '')) {
          throw exportError(err, `cannot link ${src} to ${dest}`);
        }
      }
    }
    try {
      fs.copyFileSync(src, dest, fs.constants.COPYFILE_EXCL);
    } catch (err) {
      throw exportError(err, `cannot copy ${src} to ${dest}`);
    }
    this.files.push(rel);
  }
}

function exportError(err: unknown, what: string): AppError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'EEXIST'
      ? 'the file already exists (export into an empty folder)'
      : code === 'ENOENT'
        ? 'the source file does not exist'
        : (err as Error).message;
  return new AppError('EXPORT_FAILED', `${what}: ${why}`);
}

/** Writers refuse a box whose class is not in the exported class list (a store inconsistency). */
export function checkExportBox(relPath: string, classIndex: number, nc: number): void {
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= nc) {
    throw new AppError('EXPORT_FAILED', `image ${relPath}: box class index ${classIndex} is not in 0..${nc - 1}`);
  }
}
