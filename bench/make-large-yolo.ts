/**
 * @file Generates the store benchmark's dataset: an Ultralytics YOLO dataset of 100,000 tiny images
 * and exactly 1,000,000 boxes, cached on disk and reused while complete.
 *
 *   <dir>/data.yaml                              path (absolute), train/val/test folders, 20 names
 *   <dir>/images/{train,val,test}/NNNNN/NNNNNN.png   (80/10/10, 1,000 files per subfolder)
 *   <dir>/labels/{train,val,test}/NNNNN/NNNNNN.txt
 *   <dir>/.complete                              written last: what was generated (JSON)
 *
 * Boxes per image vary 0..20 (paired images sum to 20, so the total is exactly 10 per image);
 * classes follow a skewed (Zipf-like) distribution. About half of the images drawn with 0 boxes
 * have no label file at all (unlabeled); the rest have an empty one (background). Every image is
 * one 32x24 PNG with a tEXt chunk holding its index, so each file has its own content hash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { Rng } from '../src/main/util/rng';

export interface LargeYoloOptions {
  dir?: string;
  images?: number;
  classes?: number;
  seed?: number;
  /** Regenerate even when a complete copy is cached. */
  force?: boolean;
  log?: (line: string) => void;
}

export interface LargeYoloDataset {
  dir: string;
  yamlPath: string;
  images: number;
  boxes: number;
  classes: string[];
  /** Images without a label file. */
  unlabeled: number;
  perSplit: Record<'train' | 'val' | 'test', number>;
  /** Seconds spent generating (0 when reused from the cache). */
  generatedSec: number;
  reused: boolean;
}

const FORMAT_VERSION = 1;
const PER_FOLDER = 1000;

export const DEFAULT_BENCH_DIR = path.join(os.tmpdir(), 'boxtune-bench', 'yolo-100k');

export async function makeLargeYolo(opts: LargeYoloOptions = {}): Promise<LargeYoloDataset> {
  const dir = path.resolve(opts.dir ?? DEFAULT_BENCH_DIR);
  const nImages = opts.images ?? 100_000;
  const nClasses = opts.classes ?? 20;
  const seed = opts.seed ?? 1;
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const marker = path.join(dir, '.complete');
  const key = { version: FORMAT_VERSION, images: nImages, classes: nClasses, seed };

  if (!opts.force && fs.existsSync(marker)) {
    try {
      const done = JSON.parse(fs.readFileSync(marker, 'utf8')) as LargeYoloDataset & { key: typeof key };
      if (JSON.stringify(done.key) === JSON.stringify(key)) {
        log(`dataset: reusing ${dir} (${done.images} images, ${done.boxes} boxes)`);
        return { ...done, dir, yamlPath: path.join(dir, 'data.yaml'), generatedSec: 0, reused: true };
      }
    } catch {
      // unreadable marker: regenerate
    }
  }

  const t0 = performance.now();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const classes = Array.from({ length: nClasses }, (_, i) => `class_${String(i).padStart(2, '0')}`);
  // Zipf-like class frequencies: p(c) ~ 1 / (c + 1)^1.1; cumulative table for sampling.
  const weights = classes.map((_, c) => 1 / (c + 1) ** 1.1);
  const wsum = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w / wsum));
  const sampleClass = (): number => {
    const u = rng.next();
    let c = 0;
    while (c < nClasses - 1 && u >= (cdf[c] as number)) c++;
    return c;
  };

  const png = await basePng();
  const splitOf = (i: number): 'train' | 'val' | 'test' => {
    const r = i % 10; // interleaved 80/10/10
    return r < 8 ? 'train' : r === 8 ? 'val' : 'test';
  };
  const perSplit = { train: 0, val: 0, test: 0 };
  const madeDirs = new Set<string>();
  let boxes = 0;
  let unlabeled = 0;
  let pairCount = 0;
  const lastReport = { t: performance.now() };
  for (let i = 0; i < nImages; i++) {
    const split = splitOf(i);
    const idx = perSplit[split]++;
    const sub = String(Math.floor(idx / PER_FOLDER)).padStart(5, '0');
    const stem = String(i).padStart(6, '0');
    const imgDir = path.join(dir, 'images', split, sub);
    const lblDir = path.join(dir, 'labels', split, sub);
    if (!madeDirs.has(imgDir)) {
      fs.mkdirSync(imgDir, { recursive: true });
      fs.mkdirSync(lblDir, { recursive: true });
      madeDirs.add(imgDir);
    }
    // Box counts in pairs k, 20 - k: uniform over 0..20 and exactly 10 per image on average.
    let k: number;
    if (i % 2 === 0) {
      pairCount = rng.int(21);
      k = pairCount;
    } else k = 20 - pairCount;
    if (i === nImages - 1 && i % 2 === 0) k = 10; // odd total: keep the mean exact

    fs.writeFileSync(path.join(imgDir, `${stem}.png`), withTextChunk(png, 'boxtune-bench', String(i)));
    if (k === 0 && rng.next() < 0.5) {
      unlabeled++;
    } else {
      let text = '';
      for (let b = 0; b < k; b++) {
        const c = sampleClass();
        const w = 0.02 + rng.next() * 0.4;
        const h = 0.02 + rng.next() * 0.4;
        const cx = w / 2 + rng.next() * (1 - w);
        const cy = h / 2 + rng.next() * (1 - h);
        text += `${c} ${cx.toFixed(6)} ${cy.toFixed(6)} ${w.toFixed(6)} ${h.toFixed(6)}\n`;
      }
      fs.writeFileSync(path.join(lblDir, `${stem}.txt`), text);
      boxes += k;
    }
    if ((i + 1) % 10_000 === 0 || i === nImages - 1) {
      const now = performance.now();
      const rate = (10_000 / ((now - lastReport.t) / 1000)).toFixed(0);
      lastReport.t = now;
      log(`dataset: ${i + 1}/${nImages} images, ${boxes} boxes (${rate} img/s)`);
    }
  }

  const yaml = [
    '# boxtune bench: synthetic 100k-image YOLO dataset (generated; safe to delete)',
    `path: ${JSON.stringify(dir)}`,
    'train: images/train',
    'val: images/val',
    'test: images/test',
    `nc: ${nClasses}`,
    'names:',
    ...classes.map((n, i) => `  ${i}: ${n}`),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'data.yaml'), yaml);

  const generatedSec = (performance.now() - t0) / 1000;
  const result: LargeYoloDataset = {
    dir,
    yamlPath: path.join(dir, 'data.yaml'),
    images: nImages,
    boxes,
    classes,
    unlabeled,
    perSplit,
    generatedSec,
    reused: false,
  };
  fs.writeFileSync(marker, JSON.stringify({ ...result, key }, null, 2));
  log(`dataset: wrote ${nImages} images and ${boxes} boxes to ${dir} in ${generatedSec.toFixed(1)} s`);
  return result;
}

/** One tiny valid PNG (32x24, a small gradient), made once. */
async function basePng(): Promise<Buffer> {
  const w = 32;
  const h = 24;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      raw[o] = x * 8;
      raw[o + 1] = y * 10;
      raw[o + 2] = 128;
    }
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

/** The PNG with a tEXt chunk inserted before IEND (valid PNG; makes each file's hash unique). */
function withTextChunk(png: Buffer, keyword: string, text: string): Buffer {
  const data = Buffer.from(`${keyword}\0${text}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  const iend = png.length - 12; // IEND is always the last 12 bytes
  return Buffer.concat([png.subarray(0, iend), chunk, png.subarray(iend)]);
}

// Run directly: `tsx bench/make-large-yolo.ts [--force] [--dir D] [--images N]`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const val = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const images = val('--images');
  await makeLargeYolo({
    force: args.includes('--force'),
    ...(val('--dir') ? { dir: val('--dir') } : {}),
    ...(images ? { images: Number(images) } : {}),
  });
}
