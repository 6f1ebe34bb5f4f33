/**
 * @file Pascal VOC: one xml per image (`filename`, `size`, `object`s with `name`, `bndbox`,
 * `difficult`, `truncated`), either in a VOC root (`Annotations/`, `JPEGImages/`,
 * `ImageSets/Main/<split>.txt`) or in a plain folder next to the images (LabelImg's layout).
 *
 * VOC coordinates are 1-based pixel indices with both ends inside the box. As Ultralytics' VOC
 * converter implies (centre = (xmin + xmax) / 2 - 1, width = xmax - xmin), our top-left pixel box is
 * x = xmin - 1, y = ymin - 1, w = xmax - xmin, h = ymax - ymin; the writer does the exact inverse.
 *
 * VOC has no class list: classes come in order of first appearance (xml files sorted by path). So
 * that an export keeps its class order and unused classes, the writer adds `labels.txt` (one name
 * per line) to the root, and the reader starts its class list from that file when a root has one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError, type Problem } from '../../shared/errors';
import type { Attrs, Split } from '../../shared/types';
import { IMAGE_EXTENSIONS } from '../../shared/types';
import {
  EXPORT_SPLITS,
  OutputFolder,
  assignOutputNames,
  checkExportBox,
  isDirectory,
  isFile,
  listFiles,
  listImageFiles,
  openRegularFile,
  sortPaths,
  stemOf,
} from './files';
import { LineIndex } from './lines';
import { ticker, type ReadOptions, type WriteOptions, type WriteResult } from './options';
import type { ExportDataset, ExportImage, ParsedBox, ParsedDataset, ParsedImage } from './types';

/** How far (pixels) a box may extend past the declared size before it is an error (then it is clamped). */
export const PIXEL_TOLERANCE = 1;
/** A VOC annotation is a few KB; 16 MiB holds ~50k objects, and bounds what one hostile file costs. */
export const MAX_XML_BYTES = 16 * 1024 * 1024;

const COORDS = ['xmin', 'ymin', 'xmax', 'ymax'] as const;

/** Where a VOC dataset keeps its files. */
interface Layout {
  xmlFiles: string[];
  /** Folder an xml's `filename` is relative to. */
  imageDirOf: (xmlFile: string) => string;
  /** Every image file, so images without an xml come in as unlabeled. */
  imageFiles: string[];
  /** Class names listed in `<root>/labels.txt`, in order (empty when there is none). */
  classNames: string[];
  /** Image id (file stem) -> split, from ImageSets/Main. */
  splits: Map<string, Split>;
  splitWarnings: string[];
}

// ---- reading ---------------------------------------------------------------------------------

export function readVocDataset(dir: string, opts: ReadOptions = {}): ParsedDataset {
  const layout = vocLayout(path.resolve(dir));
  const problems: Problem[] = [];
  const warnings = [...layout.splitWarnings];
  const classes: string[] = [];
  const classIndex = new Map<string, number>();
  const classOf = (name: string): number => {
    let i = classIndex.get(name);
    if (i === undefined) {
      i = classes.length;
      classes.push(name);
      classIndex.set(name, i);
    }
    return i;
  };
  layout.classNames.forEach(classOf);

  const parser = new XMLParser({
    ignoreAttributes: true,
    parseTagValue: false,
    trimValues: true,
    isArray: (_name, jpath) => jpath === 'annotation.object',
  });
  const byPath = new Map<string, ParsedImage>();
  let repeated = 0;
  let sizeless = 0;
  const tick = ticker(opts, 'reading labels', layout.xmlFiles.length);
  layout.xmlFiles.forEach((xmlFile, k) => {
    tick.tick(k + 1);
    const parsed = readVocXml(xmlFile, layout.imageDirOf(xmlFile), parser, classOf, problems);
    if (parsed === null) return;
    if (parsed.sizeless) sizeless++;
    const img = parsed.image;
    if (byPath.has(img.absPath)) {
      repeated++;
      return;
    }
    img.split = layout.splits.get(stemOf(img.absPath)) ?? layout.splits.get(stemOf(xmlFile)) ?? 'none';
    byPath.set(img.absPath, img);
  });
  tick.end(layout.xmlFiles.length);

  for (const absPath of layout.imageFiles) {
    if (!byPath.has(absPath)) {
      byPath.set(absPath, { absPath, split: layout.splits.get(stemOf(absPath)) ?? 'none', labeled: false, boxes: [] });
    }
  }
  if (repeated > 0) warnings.push(`${repeated} xml file(s) describe an image another xml already describes; the first was kept`);
  if (sizeless > 0) warnings.push(`${sizeless} xml file(s) declare no valid <size>; their boxes were not checked against the image size`);
  const images = sortPaths([...byPath.keys()]).map((p) => byPath.get(p)!);
  return { classes, images, problems, warnings };
}

/** A VOC root (or its Annotations folder), else a plain folder of xml files beside their images. */
function vocLayout(dir: string): Layout {
  if (!isDirectory(dir)) throw new AppError('FILE_NOT_FOUND', `VOC folder not found: ${dir}`);
  const isXml = (name: string): boolean => name.toLowerCase().endsWith('.xml');
  let root: string | null = null;
  if (isDirectory(path.join(dir, 'Annotations'))) root = dir;
  else if (path.basename(dir) === 'Annotations' && isDirectory(path.join(dir, '..', 'JPEGImages'))) root = path.dirname(dir);

  if (root === null) {
    return {
      xmlFiles: listFiles(dir, isXml),
      imageDirOf: (xml) => path.dirname(xml),
      imageFiles: listImageFiles(dir),
      classNames: [],
      splits: new Map(),
      splitWarnings: [],
    };
  }
  const jpegDir = path.join(root, 'JPEGImages');
  return {
    xmlFiles: listFiles(path.join(root, 'Annotations'), isXml),
    imageDirOf: () => jpegDir,
    imageFiles: isDirectory(jpegDir) ? listImageFiles(jpegDir) : [],
    classNames: readLines(path.join(root, LABELS_FILE)),
    ...readImageSets(path.join(root, 'ImageSets', 'Main')),
  };
}

const LABELS_FILE = 'labels.txt';

/** Trimmed non-empty lines of a text file; none when it does not exist. */
function readLines(file: string): string[] {
  if (!isFile(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/**
 * ImageSets/Main/{train,val,test}.txt: one image id (file stem) per line. An id listed in two keeps
 * the first (train, val, test order); ids only in trainval.txt count as train.
 */
function readImageSets(dir: string): { splits: Map<string, Split>; splitWarnings: string[] } {
  const splits = new Map<string, Split>();
  let repeated = 0;
  for (const [file, split] of [...EXPORT_SPLITS.map((s) => [s, s] as const), ['trainval', 'train'] as const]) {
    const p = path.join(dir, `${file}.txt`);
    if (!isFile(p)) continue;
    for (const line of readLines(p)) {
      const id = line.split(/\s+/)[0];
      if (!id) continue;
      if (!splits.has(id)) splits.set(id, split);
      else if (file !== 'trainval') repeated++;
    }
  }
  const splitWarnings =
    repeated > 0 ? [`${repeated} image id(s) are listed in more than one of ImageSets/Main/{train,val,test}.txt; each kept the first`] : [];
  return { splits, splitWarnings };
}

/** `<!ENTITY` anywhere (inside a DOCTYPE's internal subset is the only place it means something). */
const ENTITY_DECLARATION = /<!ENTITY\b/i;

type Xml = Record<string, unknown>;
const isObject = (v: unknown): v is Xml => typeof v === 'object' && v !== null && !Array.isArray(v);
const textOf = (v: unknown): string | undefined =>
  typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined;

function readVocXml(
  file: string,
  imageDir: string,
  parser: XMLParser,
  classOf: (name: string) => number,
  problems: Problem[],
): { image: ParsedImage; sizeless: boolean } | null {
  let text: string;
  try {
    const fd = openRegularFile(file);
    try {
      const bytes = fs.fstatSync(fd).size;
      if (bytes > MAX_XML_BYTES) {
        problems.push({ file, message: `xml file is ${bytes} bytes, over the ${MAX_XML_BYTES}-byte limit for a VOC annotation` });
        return null;
      }
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    problems.push({ file, message: `cannot read xml file: ${(err as Error).message}` });
    return null;
  }
  const entity = ENTITY_DECLARATION.exec(text);
  if (entity) {
    // VOC never needs them, and they can name other files (SYSTEM) or expand without bound (nesting).
    const line = new LineIndex(text).lineOf(entity.index);
    problems.push({ file, line, message: 'declares XML entities (<!ENTITY> in a DOCTYPE), which a VOC file never needs; refused' });
    return null;
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    problems.push({ file, line: valid.err.line, field: `column ${valid.err.col}`, message: `malformed XML: ${valid.err.msg}` });
    return null;
  }
  let doc: Xml;
  try {
    doc = parser.parse(text) as Xml;
  } catch (err) {
    // What the validator lets through and the parser does not (a DOCTYPE it cannot read).
    problems.push({ file, line: 1, message: `malformed XML: ${(err as Error).message}` });
    return null;
  }
  const ann = doc['annotation'];
  if (!isObject(ann)) {
    problems.push({ file, line: 1, message: 'expected an <annotation> root element (Pascal VOC xml)' });
    return null;
  }

  const where = new TagFinder(text);
  const size = isObject(ann['size']) ? ann['size'] : {};
  const width = Number(textOf(size['width']));
  const height = Number(textOf(size['height']));
  const declaredSize = width > 0 && height > 0 ? { width, height } : undefined;

  const boxes: ParsedBox[] = [];
  const objects = Array.isArray(ann['object']) ? ann['object'] : [];
  objects.forEach((obj: unknown, n) => {
    const field = (f: string): string => `object[${n}]${f ? `.${f}` : ''}`;
    const o = isObject(obj) ? obj : {};
    let ok = true;
    const name = textOf(o['name']);
    if (!name) {
      problems.push({ file, line: where.object(n), field: field('name'), message: 'object has no <name> (its class)' });
      ok = false;
    }
    const bndbox = o['bndbox'];
    if (!isObject(bndbox)) {
      problems.push({ file, line: where.object(n), field: field('bndbox'), message: 'object has no <bndbox> with xmin, ymin, xmax, ymax' });
      return;
    }
    const v: Record<string, number> = {};
    for (const key of COORDS) {
      const raw = textOf(bndbox[key]);
      const num = Number(raw);
      if (raw === undefined || raw === '') {
        problems.push({ file, line: where.tag(n, 'bndbox'), field: field(`bndbox.${key}`), message: `missing <${key}> in <bndbox>` });
        ok = false;
      } else if (!Number.isFinite(num)) {
        problems.push({ file, line: where.tag(n, key), field: field(`bndbox.${key}`), message: `${key} '${raw}' is not a number` });
        ok = false;
      }
      v[key] = num;
    }
    if (!ok) return;
    const { xmin, ymin, xmax, ymax } = v as Record<(typeof COORDS)[number], number>;
    for (const [lo, hi, a, b] of [[xmin, xmax, 'xmin', 'xmax'], [ymin, ymax, 'ymin', 'ymax']] as const) {
      if (hi <= lo) {
        problems.push({ file, line: where.tag(n, b), field: field(`bndbox.${b}`), message: `${b} ${hi} must be greater than ${a} ${lo}` });
        ok = false;
      }
    }
    if (!ok) return;
    let x = xmin - 1;
    let y = ymin - 1;
    let w = xmax - xmin;
    let h = ymax - ymin;
    if (declaredSize) {
      const { width: W, height: H } = declaredSize;
      const t = PIXEL_TOLERANCE;
      if (x < -t || y < -t || x + w > W + t || y + h > H + t) {
        problems.push({
          file,
          line: where.tag(n, 'bndbox'),
          field: field('bndbox'),
          message: `box (xmin ${xmin}, ymin ${ymin}, xmax ${xmax}, ymax ${ymax}) extends outside the ${W}x${H} image declared in <size> by more than ${t} px`,
        });
        return;
      }
      // Clamp; sizes stay as given when nothing overhangs, so round trips are exact.
      if (x < 0) {
        w += x;
        x = 0;
      }
      if (y < 0) {
        h += y;
        y = 0;
      }
      if (x + w > W) w = W - x;
      if (y + h > H) h = H - y;
    }
    const box: ParsedBox = { classIndex: classOf(name!), x, y, w, h, normalized: false };
    const attrs: Attrs = {};
    for (const flag of ['difficult', 'truncated'] as const) if (Number(textOf(o[flag])) === 1) attrs[flag] = 1;
    if (Object.keys(attrs).length > 0) box.attrs = attrs;
    boxes.push(box);
  });

  const image: ParsedImage = {
    absPath: findImage(imageDir, textOf(ann['filename']), stemOf(file)),
    split: 'none',
    labeled: true,
    boxes,
  };
  if (declaredSize) image.declaredSize = declaredSize;
  return { image, sizeless: declaredSize === undefined };
}

/**
 * The image an xml describes: `<imageDir>/<filename>` when it exists, else the xml's stem with an
 * image extension that exists, else `<imageDir>/<filename>` anyway (the prober reports it missing).
 */
function findImage(imageDir: string, filename: string | undefined, xmlStem: string): string {
  const named = filename ? path.resolve(imageDir, filename) : undefined;
  if (named && fs.existsSync(named)) return named;
  for (const ext of IMAGE_EXTENSIONS) {
    for (const e of [ext, ext.toUpperCase()]) {
      const p = path.resolve(imageDir, xmlStem + e);
      if (fs.existsSync(p)) return p;
    }
  }
  return named ?? path.resolve(imageDir, `${xmlStem}.jpg`);
}

/** Lines of `<object>` elements and tags inside them, found in the raw text when a problem needs one. */
class TagFinder {
  private objects: number[] | null = null;
  private lines: LineIndex | null = null;
  constructor(private readonly text: string) {}

  /** Line of the n-th `<object>` tag. */
  object(n: number): number | undefined {
    const at = this.objectOffsets()[n];
    return at === undefined ? undefined : this.lineOf(at);
  }

  /** Line of the first `<tag>` inside the n-th object (its own line when there is none). */
  tag(n: number, tag: string): number | undefined {
    const offsets = this.objectOffsets();
    const from = offsets[n];
    if (from === undefined) return undefined;
    const at = findTag(this.text, tag, from + 1, offsets[n + 1] ?? this.text.length);
    return this.lineOf(at ?? from);
  }

  private objectOffsets(): number[] {
    if (this.objects === null) {
      this.objects = [];
      for (let at = findTag(this.text, 'object', 0, this.text.length); at !== undefined; ) {
        this.objects.push(at);
        at = findTag(this.text, 'object', at + 1, this.text.length);
      }
    }
    return this.objects;
  }

  private lineOf(offset: number): number {
    this.lines ??= new LineIndex(this.text);
    return this.lines.lineOf(offset);
  }
}

/** Offset of the first `<tag` followed by `>`, `/` or whitespace in text[from, to). */
function findTag(text: string, tag: string, from: number, to: number): number | undefined {
  const open = `<${tag}`;
  for (let i = text.indexOf(open, from); i >= 0 && i < to; i = text.indexOf(open, i + 1)) {
    const next = text.charAt(i + open.length);
    if (next === '>' || next === '/' || next === ' ' || next === '\t' || next === '\n' || next === '\r') return i;
  }
  return undefined;
}

// ---- writing ---------------------------------------------------------------------------------

/**
 * Writes `JPEGImages/<name>` for every image, `Annotations/<stem>.xml` for labeled ones,
 * `ImageSets/Main/<split>.txt` for train/val/test (images of split 'none' are exported without a
 * set) and `labels.txt` with the class names in order.
 */
export function writeVocDataset(ds: ExportDataset, outDir: string, opts: WriteOptions): WriteResult {
  const out = new OutputFolder(outDir);
  const names = assignOutputNames(ds.images); // one JPEGImages folder: names unique across splits
  const sets = new Map<Split, string[]>();
  const tick = ticker(opts, 'writing', ds.images.length, 'export');
  ds.images.forEach((img, i) => {
    const name = names[i]!;
    const stem = stemOf(name);
    out.placeImage(img.absPath, `JPEGImages/${name}`, opts.images);
    if (img.labeled) out.writeText(`Annotations/${stem}.xml`, vocXml(img, name, ds.classes));
    if (img.split !== 'none') {
      let ids = sets.get(img.split);
      if (!ids) sets.set(img.split, (ids = []));
      ids.push(stem);
    }
    tick.tick(i + 1);
  });
  for (const split of EXPORT_SPLITS) {
    const ids = sets.get(split);
    if (ids) out.writeText(`ImageSets/Main/${split}.txt`, `${ids.join('\n')}\n`);
  }
  out.writeText(LABELS_FILE, ds.classes.map((c) => `${c}\n`).join(''));
  tick.end(ds.images.length);
  return { files: out.files };
}

function vocXml(img: ExportImage, name: string, classes: string[]): string {
  const lines = [
    '<annotation>',
    '  <folder>JPEGImages</folder>',
    `  <filename>${escapeXml(name)}</filename>`,
    `  <size><width>${img.width}</width><height>${img.height}</height><depth>3</depth></size>`,
    '  <segmented>0</segmented>',
  ];
  for (const b of img.boxes) {
    checkExportBox(img.relPath, b.classIndex, classes.length);
    const flag = (key: string): number => (b.attrs?.[key] ? 1 : 0);
    lines.push(
      '  <object>',
      `    <name>${escapeXml(classes[b.classIndex]!)}</name>`,
      '    <pose>Unspecified</pose>',
      `    <truncated>${flag('truncated')}</truncated>`,
      `    <difficult>${flag('difficult')}</difficult>`,
      // Inverse of the reader: 1-based, full precision (String gives the shortest exact form).
      `    <bndbox><xmin>${b.x + 1}</xmin><ymin>${b.y + 1}</ymin><xmax>${b.x + b.w + 1}</xmax><ymax>${b.y + b.h + 1}</ymax></bndbox>`,
      '  </object>',
    );
  }
  lines.push('</annotation>');
  return `${lines.join('\n')}\n`;
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}
