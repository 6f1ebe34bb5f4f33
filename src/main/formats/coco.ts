/**
 * @file COCO object detection json: `images` [{id, file_name, width, height}], `annotations`
 * [{image_id, category_id, bbox: [x, y, width, height] in pixels, iscrowd}], `categories`
 * [{id, name}]. Category ids are arbitrary (COCO's own run 1..90 with gaps): classes are the
 * categories sorted by id. Problems carry the line where the offending element starts.
 */
import { clampRectToImage } from '../../shared/geometry';
import fs from 'node:fs';
import path from 'node:path';
import { AppError, type Problem } from '../../shared/errors';
import type { Attrs, Split } from '../../shared/types';
import { OutputFolder, assignOutputNames, checkExportBox, groupBySplit, isDirectory, readTextFile, sortPaths } from './files';
import { jsonSyntaxProblem, locateTopLevelArrays } from './json-locate';
import { previewValue } from './preview';
import { ticker, type ReadOptions, type WriteOptions, type WriteResult } from './options';
import type { ExportDataset, ParsedBox, ParsedDataset, ParsedImage } from './types';

/** How far (pixels) a bbox may extend past the image before it is an error (then it is clamped). */
export const PIXEL_TOLERANCE = 1;

export interface CocoReadOptions extends ReadOptions {
  /** Folder the `file_name`s are relative to; default: see resolveImagesDir. */
  imagesDir?: string;
  /** Split of every image; default: guessed from the json's name (guessSplit). */
  split?: Split;
}

/**
 * Reads a COCO json file, or a folder holding `annotations/instances_<split>.json` files (what
 * writeCocoDataset writes): each file's split then comes from its name and classes are merged by name.
 */
export function readCocoDataset(source: string, opts: CocoReadOptions = {}): ParsedDataset {
  const src = path.resolve(source);
  const files = isDirectory(src) ? annotationFiles(src) : [src];
  const merged: ParsedDataset = { classes: [], images: [], problems: [], warnings: [] };
  const classIndex = new Map<string, number>();
  const splitOf = new Map<string, Split>();
  let repeated = 0;
  for (const file of files) {
    const part = readCocoFile(file, opts.split ?? guessSplit(file), opts.imagesDir, opts);
    const remap = part.classes.map((name) => {
      let i = classIndex.get(name);
      if (i === undefined) {
        i = merged.classes.length;
        merged.classes.push(name);
        classIndex.set(name, i);
      }
      return i;
    });
    for (const img of part.images) {
      if (splitOf.has(img.absPath)) {
        repeated++;
        continue;
      }
      splitOf.set(img.absPath, img.split);
      for (const b of img.boxes) b.classIndex = remap[b.classIndex]!;
      merged.images.push(img);
    }
    for (const p of part.problems) merged.problems.push(p); // no spread: there may be 100k+
    merged.warnings.push(...part.warnings);
  }
  if (repeated > 0) {
    merged.warnings.push(`${repeated} image(s) are listed more than once (same file); each was kept where it is first listed`);
  }
  return merged;
}

/** `<dir>/annotations/instances_*.json`, sorted. */
function annotationFiles(dir: string): string[] {
  const annDir = path.join(dir, 'annotations');
  const names = isDirectory(annDir)
    ? fs.readdirSync(annDir).filter((n) => n.startsWith('instances_') && n.toLowerCase().endsWith('.json'))
    : [];
  if (names.length === 0) {
    throw new AppError('FILE_NOT_FOUND', `no COCO annotation files (annotations/instances_*.json) in ${dir}`);
  }
  return sortPaths(names.map((n) => path.join(annDir, n)));
}

const SPLIT_WORDS: Record<string, Split> = {
  train: 'train',
  training: 'train',
  val: 'val',
  valid: 'val',
  validation: 'val',
  test: 'test',
  testing: 'test',
};

/**
 * The split a COCO file's name implies: a train/val/valid/test word in its name
 * (`instances_val2017.json`, `train.json`), else in its folder's name (Roboflow's
 * `valid/_annotations.coco.json`), else 'none'.
 */
export function guessSplit(jsonPath: string): Split {
  const words = (s: string): string[] => s.toLowerCase().split(/[^a-z]+/);
  for (const name of [path.basename(jsonPath, path.extname(jsonPath)), path.basename(path.dirname(jsonPath))]) {
    for (const w of words(name)) {
      const split = SPLIT_WORDS[w];
      if (split) return split;
    }
  }
  return 'none';
}

/**
 * The folder `file_name`s are relative to. `imagesDir` when given. Otherwise the first of these
 * in which the first image's file exists: the json's folder, `<jsonDir>/images`,
 * `<jsonDir>/../images/<set>`, `<jsonDir>/../<set>` and `<jsonDir>/../images/<split>`, where `<set>`
 * is the json's name without `instances_` (COCO's `val2017`; our exports' `val`). When none holds
 * it, the json's folder (the image prober then reports the missing files).
 */
export function resolveImagesDir(jsonPath: string, firstFileName: string | undefined, split: Split, imagesDir?: string): string {
  if (imagesDir !== undefined) return path.resolve(imagesDir);
  const jsonDir = path.dirname(jsonPath);
  if (firstFileName === undefined) return jsonDir;
  const set = path.basename(jsonPath, path.extname(jsonPath)).replace(/^instances_/, '');
  const candidates = [
    jsonDir,
    path.join(jsonDir, 'images'),
    path.join(jsonDir, '..', 'images', set),
    path.join(jsonDir, '..', set),
  ];
  if (split !== 'none') candidates.push(path.join(jsonDir, '..', 'images', split));
  return path.resolve(candidates.find((dir) => fs.existsSync(path.join(dir, firstFileName))) ?? jsonDir);
}

type Id = number | string;
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is Id => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v !== '');
const isPositive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const show = (v: unknown): string => previewValue(v);

/** A problem inside a top-level array element; its line is filled in once, at the end. */
interface Located {
  problem: Problem;
  array: string;
  index: number;
}

function readCocoFile(file: string, split: Split, imagesDir: string | undefined, opts: ReadOptions): ParsedDataset {
  const text = readTextFile(file, 'COCO annotation file');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const problem = jsonSyntaxProblem(text, file, err);
    throw new AppError('IMPORT_INVALID', `${file} is not valid JSON: ${problem.message}`, { problems: [problem] });
  }
  if (!isObject(doc)) {
    const message = 'expected a COCO json object with images, annotations and categories';
    throw new AppError('IMPORT_INVALID', `${file}: ${message}`, { problems: [{ file, line: 1, message }] });
  }

  const problems: Problem[] = [];
  const located: Located[] = [];
  const at = (array: string, index: number, field: string, message: string): void => {
    located.push({ problem: { file, field: `${array}[${index}]${field}`, message }, array, index });
  };
  const topArray = (key: string, required: boolean): unknown[] => {
    const v = doc[key];
    if (Array.isArray(v)) return v;
    if (v !== undefined || required) problems.push({ file, field: key, message: `expected '${key}' to be an array, found ${show(v)}` });
    return [];
  };
  const annotations = topArray('annotations', false);
  const categories = topArray('categories', annotations.length > 0);
  const imageList = topArray('images', true);

  // Categories -> classes, sorted by id.
  const catById = new Map<Id, number>();
  const catByName = new Map<string, number>();
  const valid: { id: Id; name: string }[] = [];
  categories.forEach((c, k) => {
    if (!isObject(c)) return at('categories', k, '', `expected an object {id, name}, found ${show(c)}`);
    const { id, name } = c;
    let ok = true;
    if (!isId(id)) {
      at('categories', k, '.id', `missing or invalid category id ${show(id)} (expected a number)`);
      ok = false;
    } else if (catById.has(id)) {
      at('categories', k, '.id', `duplicate category id ${show(id)} (also categories[${catById.get(id)}])`);
      ok = false;
    }
    if (typeof name !== 'string' || name.trim() === '') {
      at('categories', k, '.name', `missing category name (expected text), found ${show(name)}`);
      ok = false;
    } else if (catByName.has(name.trim())) {
      at('categories', k, '.name', `duplicate category name '${name.trim()}' (also categories[${catByName.get(name.trim())}])`);
      ok = false;
    }
    if (isId(id) && !catById.has(id)) catById.set(id, k);
    if (typeof name === 'string' && !catByName.has(name.trim())) catByName.set(name.trim(), k);
    if (ok) valid.push({ id: id as Id, name: (name as string).trim() });
  });
  valid.sort((a, b) => compareIds(a.id, b.id));
  const classes = valid.map((c) => c.name);
  const classOf = new Map<Id, number>(valid.map((c, i) => [c.id, i]));

  // Images.
  const firstName = imageList.find((im): im is Json => isObject(im) && typeof im.file_name === 'string')?.file_name as
    | string
    | undefined;
  const base = resolveImagesDir(file, firstName, split, imagesDir);
  const images: ParsedImage[] = [];
  const imageById = new Map<Id, { img: ParsedImage | null; index: number }>();
  imageList.forEach((im, k) => {
    if (!isObject(im)) return at('images', k, '', `expected an object {id, file_name, width, height}, found ${show(im)}`);
    const { id, file_name: fileName, width, height } = im;
    let ok = true;
    if (!isId(id)) {
      at('images', k, '.id', `missing or invalid image id ${show(id)} (expected a number)`);
      ok = false;
    } else if (imageById.has(id)) {
      at('images', k, '.id', `duplicate image id ${show(id)} (also images[${imageById.get(id)!.index}])`);
      return;
    }
    if (typeof fileName !== 'string' || fileName === '') {
      at('images', k, '.file_name', `missing file_name (expected the image's path relative to ${base})`);
      ok = false;
    }
    for (const [key, v] of [['width', width], ['height', height]] as const) {
      if (!isPositive(v)) {
        at('images', k, `.${key}`, `missing or invalid ${key} ${show(v)} (expected a positive number of pixels)`);
        ok = false;
      }
    }
    const img: ParsedImage | null = ok
      ? {
          absPath: path.resolve(base, fileName as string),
          split,
          labeled: true,
          boxes: [],
          declaredSize: { width: width as number, height: height as number },
        }
      : null;
    if (img) images.push(img);
    if (isId(id)) imageById.set(id, { img, index: k });
  });

  // Annotations.
  const tick = ticker(opts, 'reading labels', annotations.length);
  annotations.forEach((a, k) => {
    tick.tick(k + 1);
    if (!isObject(a)) return at('annotations', k, '', `expected an object {image_id, category_id, bbox}, found ${show(a)}`);
    const { image_id: imageId, category_id: categoryId, bbox, iscrowd } = a;
    const entry = isId(imageId) ? imageById.get(imageId) : undefined;
    const classIndex = isId(categoryId) ? classOf.get(categoryId) : undefined;
    let ok = true;
    if (entry === undefined) {
      at('annotations', k, '.image_id', `image_id ${show(imageId)} is not in images`);
      ok = false;
    }
    if (classIndex === undefined && !(isId(categoryId) && catById.has(categoryId))) {
      at('annotations', k, '.category_id', `unknown category ${show(categoryId)} (not an id in categories)`);
      ok = false;
    }
    const box = checkBbox(bbox, entry?.img?.declaredSize, (field, message) => at('annotations', k, field, message));
    if (!ok || box === null || classIndex === undefined || !entry?.img) return;
    const parsed: ParsedBox = { classIndex, ...box, normalized: false };
    if (iscrowd) parsed.attrs = { iscrowd: 1 } satisfies Attrs;
    entry.img.boxes.push(parsed);
  });
  tick.end(annotations.length);

  if (located.length > 0) {
    const lines = locateTopLevelArrays(text);
    for (const { problem, array, index } of located) {
      const line = lines.get(array)?.[index];
      problems.push(line === undefined ? problem : { ...problem, line });
    }
  }
  return { classes, images, problems, warnings: [] };
}

/** Numbers before strings, numbers by value: COCO ids are numbers, so this is "by id". */
function compareIds(a: Id, b: Id): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Checks a bbox [x, y, width, height] in pixels against the image's declared size and clamps it
 * into the image; null (after reporting) when it is unusable.
 */
function checkBbox(
  bbox: unknown,
  size: { width: number; height: number } | undefined,
  report: (field: string, message: string) => void,
): { x: number; y: number; w: number; h: number } | null {
  if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    report('.bbox', `bbox must be [x, y, width, height] (4 finite numbers in pixels), found ${show(bbox)}`);
    return null;
  }
  const [x, y, w, h] = bbox as [number, number, number, number];
  let ok = true;
  if (w <= 0) {
    report('.bbox', `bbox width ${w} must be > 0`);
    ok = false;
  }
  if (h <= 0) {
    report('.bbox', `bbox height ${h} must be > 0`);
    ok = false;
  }
  if (!ok || size === undefined) return ok ? { x, y, w, h } : null;
  const { width: W, height: H } = size;
  const t = PIXEL_TOLERANCE;
  if (x < -t || y < -t || x + w > W + t || y + h > H + t) {
    report('.bbox', `bbox ${show(bbox)} extends outside the ${W}x${H} image by more than ${t} px`);
    return null;
  }
  const clamped = clampRectToImage({ x, y, w, h }, size);
  if (!clamped) report('.bbox', `bbox ${show(bbox)} lies outside the ${W}x${H} image`);
  return clamped;
}

// ---- writing ---------------------------------------------------------------------------------

/**
 * Writes `annotations/instances_<split>.json` and `images/<split>/<name>` for train/val/test.
 * Categories get ids 1..n in class order. COCO cannot say "not labeled yet": unlabeled images are
 * written like background images (no annotations).
 */
export function writeCocoDataset(ds: ExportDataset, outDir: string, opts: WriteOptions): WriteResult {
  const out = new OutputFolder(outDir);
  const nc = ds.classes.length;
  const categories = ds.classes.map((name, i) => ({ id: i + 1, name, supercategory: 'none' }));
  const groups = groupBySplit(ds.images);
  const total = groups.reduce((n, [, imgs]) => n + imgs.length, 0);
  const tick = ticker(opts, 'writing', total, 'export');
  let done = 0;
  for (const [split, imgs] of groups) {
    const names = assignOutputNames(imgs);
    const images: Json[] = [];
    const annotations: Json[] = [];
    imgs.forEach((img, i) => {
      const name = names[i]!;
      out.placeImage(img.absPath, `images/${split}/${name}`, opts.images);
      const id = i + 1;
      images.push({ id, file_name: name, width: img.width, height: img.height });
      for (const b of img.boxes) {
        checkExportBox(img.relPath, b.classIndex, nc);
        annotations.push({
          id: annotations.length + 1,
          image_id: id,
          category_id: b.classIndex + 1,
          bbox: [b.x, b.y, b.w, b.h],
          area: b.w * b.h,
          iscrowd: b.attrs?.iscrowd ? 1 : 0,
          segmentation: [],
        });
      }
      tick.tick(++done);
    });
    out.writeText(`annotations/instances_${split}.json`, cocoJson(images, annotations, categories));
  }
  tick.end(done);
  return { files: out.files };
}

/** One array element per line: compact, diffable, and problems on re-import point at a real line. */
function cocoJson(images: Json[], annotations: Json[], categories: Json[]): string {
  const arr = (items: Json[]): string =>
    items.length === 0 ? '[]' : `[\n${items.map((v) => JSON.stringify(v)).join(',\n')}\n]`;
  return (
    `{\n"info": ${JSON.stringify({ description: 'exported by boxtune' })},\n` +
    `"images": ${arr(images)},\n"annotations": ${arr(annotations)},\n"categories": ${arr(categories)}\n}\n`
  );
}
