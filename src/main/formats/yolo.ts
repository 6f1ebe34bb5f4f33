/**
 * @file Ultralytics YOLO detection datasets: a data.yaml (`path`, `train`/`val`/`test`, `names`)
 * plus one label file per image, found by Ultralytics' images -> labels path rule. Semantics follow
 * Ultralytics' check_det_dataset, img2label_paths and verify_image_label; where we differ it is
 * said below (relative `path`, duplicate rows kept, polygons checked per row).
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { AppError, type Problem } from '../../shared/errors';
import type { Split } from '../../shared/types';
import {
  OutputFolder,
  assignOutputNames,
  checkExportBox,
  groupBySplit,
  isDirectory,
  isImageFile,
  listImageFiles,
  openRegularFile,
  readTextFile,
  sortPaths,
  stemOf,
} from './files';
import { ticker, type ReadOptions, type WriteOptions, type WriteResult } from './options';
import { previewValue } from './preview';
import type { ExportDataset, ExportImage, ParsedDataset, ParsedImage } from './types';
import { parseYoloLabels } from './yolo-labels';

export { TOLERANCE } from './yolo-labels';

const SPLIT_KEYS = ['train', 'val', 'test'] as const;

// ---- reading ---------------------------------------------------------------------------------

export function readYoloDataset(yamlPath: string, opts: ReadOptions = {}): ParsedDataset {
  const file = path.resolve(yamlPath);
  const text = readTextFile(file, 'dataset yaml');
  const doc = loadYaml(text, file);
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const keyLine = (key: string): number | undefined => yamlKeyLine(text, key);

  const names = readNames(doc, file, keyLine, problems);
  const pathValue = doc['path'];
  if (pathValue !== undefined && pathValue !== null && typeof pathValue !== 'string' && typeof pathValue !== 'number') {
    problems.push({ file, line: keyLine('path'), field: 'path', message: `'path' must be a folder, found ${previewValue(pathValue)}` });
  }
  const root = datasetRoot(typeof pathValue === 'string' || typeof pathValue === 'number' ? pathValue : undefined, path.dirname(file));

  // Images per split; an image listed in two splits stays in the first.
  const order: { absPath: string; split: Split }[] = [];
  const splitOf = new Map<string, Split>();
  const listed = { skipped: 0 };
  let repeated = 0;
  let repeatExample = '';
  let anySplit = false;
  for (const key of SPLIT_KEYS) {
    const value = doc[key];
    if (value === undefined || value === null || value === '') continue;
    anySplit = true;
    const where = { file, line: keyLine(key), field: key };
    for (const absPath of collectSplitImages(value, root, where, problems, listed)) {
      const first = splitOf.get(absPath);
      if (first === undefined) {
        splitOf.set(absPath, key);
        order.push({ absPath, split: key });
      } else {
        if (repeated === 0) repeatExample = `${absPath} in ${first} and ${key}`;
        repeated++;
      }
    }
  }
  if (!anySplit) {
    problems.push({
      file,
      field: 'train',
      message: 'no images: the yaml needs at least one of train, val or test (a folder, a .txt list of images, or a list of these)',
    });
  }
  if (repeated > 0) {
    warnings.push(`${repeated} image(s) listed more than once (e.g. ${repeatExample}); each was kept in the split that lists it first`);
  }
  if (listed.skipped > 0) {
    warnings.push(`${listed.skipped} line(s) of .txt image lists are not image paths (by extension) and were skipped`);
  }

  const images = readLabels(order, names, problems, warnings, opts);
  return { classes: names.classes, images, problems, warnings };
}

function loadYaml(text: string, file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const problem: Problem = { file, message: `invalid YAML: ${err.reason}` };
      if (err.mark) problem.line = err.mark.line + 1;
      throw new AppError('IMPORT_INVALID', `${file} is not valid YAML: ${err.reason}`, { problems: [problem] });
    }
    throw err;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    const message = 'expected a mapping with path, train, val, test and names';
    throw new AppError('IMPORT_INVALID', `${file}: ${message}`, { problems: [{ file, line: 1, message }] });
  }
  return doc as Record<string, unknown>;
}

/** Line of a top-level `key:` in the yaml text, for problems about that key. */
function yamlKeyLine(text: string, key: string): number | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    for (const k of [key, `"${key}"`, `'${key}'`]) {
      if (l.startsWith(k) && l.slice(k.length).trimStart().startsWith(':')) return i + 1;
    }
  }
  return undefined;
}

interface Names {
  classes: string[];
  /** False when names are missing or malformed: class ids are then not range-checked. */
  ok: boolean;
}

/** `names` as a list or an {id: name} map with ids 0..n-1; `nc`, when present, must agree. */
function readNames(
  doc: Record<string, unknown>,
  file: string,
  keyLine: (key: string) => number | undefined,
  problems: Problem[],
): Names {
  const line = keyLine('names');
  const bad = (message: string, field = 'names'): Names => {
    problems.push({ file, line: keyLine(field) ?? line, field, message });
    return { classes: [], ok: false };
  };
  const raw = doc['names'];
  let entries: [string, unknown][];
  if (raw === undefined || raw === null) {
    return bad("missing 'names': list the class names, as a list or as a map from id (0, 1, ...) to name");
  } else if (Array.isArray(raw)) {
    entries = raw.map((v, i) => [String(i), v]);
  } else if (typeof raw === 'object') {
    entries = Object.entries(raw as Record<string, unknown>);
    const ids = entries.map(([k]) => k);
    const sorted = [...ids].sort((a, b) => Number(a) - Number(b));
    if (ids.some((k) => !/^\d+$/.test(k)) || sorted.some((k, i) => Number(k) !== i)) {
      return bad(`class ids must be the integers 0..${entries.length - 1}, found ${ids.join(', ')}`);
    }
    entries.sort((a, b) => Number(a[0]) - Number(b[0]));
  } else {
    return bad(`'names' must be a list or a map from id to name, found ${previewValue(raw)}`);
  }

  const classes: string[] = [];
  const firstId = new Map<string, string>();
  for (const [id, v] of entries) {
    if (typeof v !== 'string' && typeof v !== 'number') {
      problems.push({ file, line, field: `names[${id}]`, message: `class name must be text, found ${previewValue(v)}` });
      classes.push(previewValue(v));
      continue;
    }
    const name = String(v).trim();
    const prev = firstId.get(name);
    if (name === '') {
      problems.push({ file, line, field: `names[${id}]`, message: 'class name is empty' });
    } else if (prev !== undefined) {
      problems.push({ file, line, field: `names[${id}]`, message: `duplicate class name '${name}' (also id ${prev})` });
    } else firstId.set(name, id);
    classes.push(name);
  }

  const nc = doc['nc'];
  if (nc !== undefined && nc !== null && nc !== classes.length) {
    problems.push({
      file,
      line: keyLine('nc'),
      field: 'nc',
      message: `nc is ${previewValue(nc)} but names has ${classes.length} entries (nc must equal the number of names)`,
    });
  }
  // A bad entry or nc still leaves the class count known, so labels can be range-checked.
  return { classes, ok: true };
}

/**
 * The dataset root: `path` as given when absolute; when relative, against the yaml's folder, or
 * against the working directory if that folder does not exist (Ultralytics resolves it against
 * the working directory only); the yaml's folder when `path` is absent.
 */
function datasetRoot(value: unknown, yamlDir: string): string {
  if (value === undefined || value === null || value === '') return yamlDir;
  const p = String(value);
  if (path.isAbsolute(p)) return path.resolve(p);
  const fromYaml = path.resolve(yamlDir, p);
  if (isDirectory(fromYaml)) return fromYaml;
  const fromCwd = path.resolve(process.cwd(), p);
  return isDirectory(fromCwd) ? fromCwd : fromYaml;
}

interface Where {
  file: string;
  line: number | undefined;
  field: string;
}

/** The sorted images of one split key: a folder, a .txt list, an image, or a list of these. */
function collectSplitImages(
  value: unknown,
  root: string,
  where: Where,
  problems: Problem[],
  listed: { skipped: number },
): string[] {
  let out: string[] = [];
  for (const entry of Array.isArray(value) ? value : [value]) {
    if (typeof entry !== 'string' || entry.trim() === '') {
      problems.push({
        ...where,
        message: `expected a folder, a .txt list of images or an image path, found ${previewValue(entry)}`,
      });
      continue;
    }
    let p = path.resolve(root, entry);
    // Ultralytics: a '../x' that does not exist is retried as 'x' under the root.
    if (!fs.existsSync(p) && entry.startsWith('../')) {
      const alt = path.resolve(root, entry.slice(3));
      if (fs.existsSync(alt)) p = alt;
    }
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st === undefined) {
      problems.push({ ...where, message: `${where.field} folder or file not found: ${p}` });
    } else if (st.isDirectory()) {
      out = out.concat(listImageFiles(p)); // concat: spreading 100k+ items overflows the stack
    } else if (isImageFile(p)) {
      out.push(p);
    } else {
      out = out.concat(readImageList(p, root, listed));
    }
  }
  return sortPaths(out);
}

/**
 * A .txt list of images, one per line. './x' is relative to the list's folder (Ultralytics);
 * other relative lines are tried against the dataset root, then the list's folder.
 */
function readImageList(listFile: string, root: string, listed: { skipped: number }): string[] {
  const dir = path.dirname(listFile);
  const out: string[] = [];
  for (const raw of readTextFile(listFile, 'image list').split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (!isImageFile(line)) {
      listed.skipped++;
      continue;
    }
    if (path.isAbsolute(line)) out.push(path.resolve(line));
    else if (line.startsWith('./')) out.push(path.resolve(dir, line));
    else {
      const fromRoot = path.resolve(root, line);
      out.push(fs.existsSync(fromRoot) ? fromRoot : path.resolve(dir, line));
    }
  }
  return out;
}

/**
 * Ultralytics' img2label_paths: the last `/images/` segment becomes `/labels/` and the extension
 * `.txt` (without an `/images/` segment the label sits next to the image).
 */
export function labelPathFor(imagePath: string): string {
  const sa = `${path.sep}images${path.sep}`;
  const i = imagePath.lastIndexOf(sa);
  const p = i < 0 ? imagePath : `${imagePath.slice(0, i)}${path.sep}labels${path.sep}${imagePath.slice(i + sa.length)}`;
  const dot = p.lastIndexOf('.');
  return `${dot < 0 ? p : p.slice(0, dot)}.txt`;
}

function readLabels(
  order: { absPath: string; split: Split }[],
  names: Names,
  problems: Problem[],
  warnings: string[],
  opts: ReadOptions,
): ParsedImage[] {
  const nc = names.ok ? names.classes.length : Infinity;
  const tick = ticker(opts, 'reading labels', order.length);
  const images: ParsedImage[] = new Array<ParsedImage>(order.length);
  const reader = new SmallFileReader();
  let polygons = 0;
  let polygonFiles = 0;
  let duplicates = 0;
  let duplicateAt = '';
  for (let i = 0; i < order.length; i++) {
    const { absPath, split } = order[i]!;
    const labelFile = labelPathFor(absPath);
    let text: string | undefined;
    try {
      text = reader.read(labelFile);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        problems.push({ file: labelFile, message: `cannot read label file: ${(err as Error).message}` });
      }
    }
    if (text === undefined) {
      images[i] = { absPath, split, labeled: false, boxes: [] };
    } else {
      const r = parseYoloLabels(text, labelFile, nc, problems);
      if (r.polygons > 0) {
        polygons += r.polygons;
        polygonFiles++;
      }
      if (r.duplicates > 0) {
        if (duplicates === 0) duplicateAt = `${labelFile}:${r.firstDuplicateLine}`;
        duplicates += r.duplicates;
      }
      images[i] = { absPath, split, labeled: true, boxes: r.boxes };
    }
    tick.tick(i + 1);
  }
  tick.end(order.length);
  if (polygons > 0) {
    warnings.push(`${polygons} polygon (segmentation) row(s) in ${polygonFiles} label file(s) were converted to their bounding boxes`);
  }
  if (duplicates > 0) {
    warnings.push(`${duplicates} label row(s) repeat an earlier row of the same file exactly (first at ${duplicateAt}); they were kept`);
  }
  return images;
}

/** A label file holds a few rows (40 bytes each); 64 MiB is over a million boxes. */
const MAX_LABEL_BYTES = 64 * 1024 * 1024;

/**
 * Reads many small files through one reused buffer: open, one pread, close. About a third faster
 * than readFileSync(file, 'utf8') over 100k label files (no per-file buffer or options).
 */
class SmallFileReader {
  private buf = Buffer.allocUnsafe(64 * 1024);

  /** The file's text (UTF-8, BOM dropped); throws the fs error (ENOENT when missing). */
  read(file: string): string {
    const fd = openRegularFile(file);
    try {
      let n = 0;
      for (;;) {
        const got = fs.readSync(fd, this.buf, n, this.buf.length - n, n);
        if (got === 0) break;
        n += got;
        if (n > MAX_LABEL_BYTES) throw new Error(`over ${MAX_LABEL_BYTES / 2 ** 20} MiB: not a YOLO label file`);
        if (n === this.buf.length) {
          const bigger = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, n);
          this.buf = bigger;
        }
      }
      const bom = n >= 3 && this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf ? 3 : 0;
      return this.buf.toString('utf8', bom, n);
    } finally {
      fs.closeSync(fd);
    }
  }
}

// ---- writing ---------------------------------------------------------------------------------

/**
 * Writes `data.yaml`, `images/<split>/<name>` and `labels/<split>/<stem>.txt` for train/val/test.
 * Labeled images always get a label file (empty for a background image), unlabeled ones none.
 */
export function writeYoloDataset(ds: ExportDataset, outDir: string, opts: WriteOptions): WriteResult {
  const out = new OutputFolder(outDir);
  const groups = groupBySplit(ds.images);
  out.writeText('data.yaml', dataYaml(out.root, groups.map(([s]) => s), ds.classes));
  const total = groups.reduce((n, [, imgs]) => n + imgs.length, 0);
  const tick = ticker(opts, 'writing', total, 'export');
  let done = 0;
  for (const [split, imgs] of groups) {
    const names = assignOutputNames(imgs);
    imgs.forEach((img, i) => {
      const name = names[i]!;
      out.placeImage(img.absPath, `images/${split}/${name}`, opts.images);
      if (img.labeled) out.writeText(`labels/${split}/${stemOf(name)}.txt`, labelText(img, ds.classes.length));
      tick.tick(++done);
    });
  }
  tick.end(done);
  return { files: out.files };
}

function dataYaml(root: string, splits: string[], classes: string[]): string {
  const lines = ['# Ultralytics YOLO dataset exported by boxtune', `path: ${yamlScalar(root)}`];
  for (const s of splits) lines.push(`${s}: images/${s}`);
  lines.push(`nc: ${classes.length}`, 'names:');
  classes.forEach((name, i) => lines.push(`  ${i}: ${yamlScalar(name)}`));
  return `${lines.join('\n')}\n`;
}

const YAML_WORDS = new Set(['true', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', 'null', '~']);

/** A plain YAML scalar when that reads back as the same string (also in PyYAML), else JSON-quoted. */
function yamlScalar(s: string): string {
  const plain =
    /^[A-Za-z0-9_/][A-Za-z0-9_ ./()-]*$/.test(s) &&
    !s.endsWith(' ') &&
    !YAML_WORDS.has(s.toLowerCase()) &&
    !Number.isFinite(Number(s));
  return plain ? s : JSON.stringify(s);
}

function labelText(img: ExportImage, nc: number): string {
  if (img.boxes.length === 0) return '';
  const { width: W, height: H } = img;
  if (!(W > 0 && H > 0)) {
    throw new AppError('EXPORT_FAILED', `image ${img.relPath} has no size (${W}x${H}); cannot normalise its boxes`);
  }
  let s = '';
  for (const b of img.boxes) {
    checkExportBox(img.relPath, b.classIndex, nc);
    s += `${b.classIndex} ${formatNormalized((b.x + b.w / 2) / W)} ${formatNormalized((b.y + b.h / 2) / H)} ${formatNormalized(b.w / W)} ${formatNormalized(b.h / H)}\n`;
  }
  return s;
}

/**
 * A normalised coordinate as text: 12 significant digits (pixel round trips stay within 1e-9
 * relative even on 10k-pixel images), no trailing zeros, never exponent notation.
 */
export function formatNormalized(v: number): string {
  if (v === 0) return '0';
  const r = Number(v.toPrecision(12));
  const s = String(r);
  return s.includes('e') ? r.toFixed(20).replace(/\.?0+$/, '') : s;
}
