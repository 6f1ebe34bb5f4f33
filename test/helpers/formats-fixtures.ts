/**
 * @file Small synthetic datasets on disk for the format tests: a temp folder, a file tree writer
 * (text files and tiny valid PNGs made with sharp), and one valid dataset per format with its
 * expected content.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { ExportDataset, ExportImage } from '../../src/main/formats/types';

const pngCache = new Map<string, Buffer>();

/** A valid PNG of the given size (solid colour). */
export async function png(width: number, height: number): Promise<Buffer> {
  const key = `${width}x${height}`;
  let buf = pngCache.get(key);
  if (!buf) {
    buf = await sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .png()
      .toBuffer();
    pngCache.set(key, buf);
  }
  return buf;
}

/** A file of the tree: text, or an image of the given size (written as PNG bytes whatever its extension). */
export type TreeEntry = string | { image: [number, number] };

/** Writes `files` (relative '/' paths) under `root`; returns root. */
export async function writeTree(root: string, files: Record<string, TreeEntry>): Promise<string> {
  for (const [rel, entry] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if (typeof entry === 'string') fs.writeFileSync(abs, entry);
    else fs.writeFileSync(abs, await png(entry.image[0], entry.image[1]));
  }
  return root;
}

/** Absolute path of a '/'-separated path under root. */
export function at(root: string, rel: string): string {
  return path.join(root, ...rel.split('/'));
}

// ---- YOLO ------------------------------------------------------------------------------------

/**
 * A valid YOLO dataset under `<root>/ds`: names as a list (cat, dog, bird), 2 train images (one
 * with two boxes, one background), 1 val image with a box and 1 val image without a label file.
 */
export async function writeYoloFixture(root: string, yaml?: string): Promise<string> {
  const ds = path.join(root, 'ds');
  await writeTree(ds, {
    'data.yaml': yaml ?? 'path: .\ntrain: images/train\nval: images/val\nnames: [cat, dog, bird]\n',
    'images/train/a.jpg': { image: [64, 48] },
    'images/train/b.png': { image: [64, 48] },
    'images/val/c.jpg': { image: [32, 32] },
    'images/val/d.jpg': { image: [32, 32] },
    'labels/train/a.txt': '0 0.5 0.5 0.25 0.5\n2 0.25 0.75 0.1 0.2\n',
    'labels/train/b.txt': '',
    'labels/val/c.txt': '1 0.5 0.5 1 1\r\n',
  });
  return path.join(ds, 'data.yaml');
}

// ---- COCO ------------------------------------------------------------------------------------

/** A COCO json text with one element per line, so line numbers in tests are easy to predict. */
export function cocoText(doc: { images: unknown[]; annotations: unknown[]; categories: unknown[] }): string {
  const arr = (items: unknown[]): string =>
    items.length === 0 ? '[\n]' : `[\n${items.map((v) => `  ${JSON.stringify(v)}`).join(',\n')}\n]`;
  return `{\n"images": ${arr(doc.images)},\n"annotations": ${arr(doc.annotations)},\n"categories": ${arr(doc.categories)}\n}\n`;
}

/**
 * Lines of cocoText(doc): images[k] is on line 3 + k; annotations[k] on 3 + nImages + 2 + k;
 * categories[k] on 3 + nImages + 2 + nAnnotations + 2 + k.
 */
export function cocoLines(nImages: number, nAnnotations: number): {
  image: (k: number) => number;
  annotation: (k: number) => number;
  category: (k: number) => number;
} {
  return {
    image: (k) => 3 + k,
    annotation: (k) => 3 + nImages + 2 + k,
    category: (k) => 3 + nImages + 2 + nAnnotations + 2 + k,
  };
}

/** A valid COCO doc with gapped category ids (3: dog, 1: cat, 7: bird) and 2 images. */
export function cocoDoc(): { images: unknown[]; annotations: unknown[]; categories: unknown[] } {
  return {
    images: [
      { id: 10, file_name: 'a.png', width: 64, height: 48 },
      { id: 11, file_name: 'b.png', width: 32, height: 32 },
    ],
    annotations: [
      { id: 1, image_id: 10, category_id: 3, bbox: [4, 6, 20, 10], area: 200, iscrowd: 0, segmentation: [] },
      { id: 2, image_id: 10, category_id: 7, bbox: [0, 0, 64, 48], area: 3072, iscrowd: 1, segmentation: [] },
      { id: 3, image_id: 11, category_id: 1, bbox: [1.5, 2.25, 10.5, 3.75], area: 1, iscrowd: 0, segmentation: [] },
    ],
    categories: [
      { id: 3, name: 'dog', supercategory: 'animal' },
      { id: 1, name: 'cat', supercategory: 'animal' },
      { id: 7, name: 'bird', supercategory: 'animal' },
    ],
  };
}

// ---- VOC -------------------------------------------------------------------------------------

export interface VocObject {
  name?: string;
  /** [xmin, ymin, xmax, ymax] as text, so tests can write malformed values; null = no bndbox. */
  box?: [string, string, string, string] | null;
  difficult?: number;
  truncated?: number;
}

/** A VOC xml, one tag per line (so an object's tags have predictable lines). */
export function vocXml(filename: string | null, size: [number, number] | null, objects: VocObject[]): string {
  const lines = ['<annotation>', '  <folder>VOC</folder>'];
  if (filename !== null) lines.push(`  <filename>${filename}</filename>`);
  if (size) lines.push('  <size>', `    <width>${size[0]}</width>`, `    <height>${size[1]}</height>`, '    <depth>3</depth>', '  </size>');
  for (const o of objects) {
    lines.push('  <object>');
    if (o.name !== undefined) lines.push(`    <name>${o.name}</name>`);
    lines.push('    <pose>Unspecified</pose>');
    if (o.truncated !== undefined) lines.push(`    <truncated>${o.truncated}</truncated>`);
    if (o.difficult !== undefined) lines.push(`    <difficult>${o.difficult}</difficult>`);
    if (o.box !== null && o.box !== undefined) {
      lines.push(
        '    <bndbox>',
        `      <xmin>${o.box[0]}</xmin>`,
        `      <ymin>${o.box[1]}</ymin>`,
        `      <xmax>${o.box[2]}</xmax>`,
        `      <ymax>${o.box[3]}</ymax>`,
        '    </bndbox>',
      );
    }
    lines.push('  </object>');
  }
  lines.push('</annotation>');
  return `${lines.join('\n')}\n`;
}

// ---- export datasets -------------------------------------------------------------------------

/**
 * An ExportDataset over real image files under `<root>/project`, with two images named `img.png`
 * in train (folders a/ and b/), fractional pixel boxes, attrs, a background image, an unlabeled
 * image and one image of split 'none'.
 */
export async function writeExportFixture(root: string): Promise<ExportDataset> {
  const project = path.join(root, 'project');
  await writeTree(project, {
    'a/img.png': { image: [64, 48] },
    'b/img.png': { image: [40, 30] },
    'c/bg.png': { image: [20, 20] },
    'c/un.png': { image: [20, 20] },
    'v/val1.png': { image: [50, 70] },
    't/test1.png': { image: [33, 17] },
    'n/none.png': { image: [10, 10] },
  });
  const img = (
    rel: string,
    width: number,
    height: number,
    split: ExportImage['split'],
    labeled: boolean,
    boxes: ExportImage['boxes'],
  ): ExportImage => ({ absPath: at(project, rel), relPath: rel, width, height, split, labeled, boxes });
  return {
    classes: ['cat', 'dog & co', 'yes'],
    images: [
      img('a/img.png', 64, 48, 'train', true, [
        { classIndex: 0, x: 3.25, y: 4.5, w: 20.125, h: 10.333333333333334 },
        { classIndex: 2, x: 0, y: 0, w: 64, h: 48, attrs: { iscrowd: 1, difficult: 1, truncated: 1 } },
      ]),
      img('b/img.png', 40, 30, 'train', true, [{ classIndex: 1, x: 0.1, y: 29, w: 39.9, h: 1 }]),
      img('c/bg.png', 20, 20, 'train', true, []),
      img('c/un.png', 20, 20, 'train', false, []),
      img('v/val1.png', 50, 70, 'val', true, [{ classIndex: 1, x: 10, y: 20, w: 30, h: 40 }]),
      img('t/test1.png', 33, 17, 'test', true, [{ classIndex: 0, x: 1e-7, y: 2, w: 3.000001, h: 0.5 }]),
      img('n/none.png', 10, 10, 'none', true, [{ classIndex: 0, x: 1, y: 1, w: 2, h: 2 }]),
    ],
  };
}
