import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  renderSampleImage,
  SAMPLE_CLASSES,
  SAMPLE_COLORS,
  writeSampleDataset,
  yoloLines,
} from '../../../src/main/project/sample';
import { Rng } from '../../../src/main/util/rng';
import { tmpDir } from '../../helpers/tmp';

interface Label {
  cls: number;
  cx: number;
  cy: number;
  w: number;
  h: number;
}

function parseLabels(file: string): Label[] {
  const text = fs.readFileSync(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const cols = line.trim().split(/\s+/);
      expect(cols).toHaveLength(5);
      const [cls, cx, cy, w, h] = cols.map(Number) as [number, number, number, number, number];
      expect(Number.isInteger(cls)).toBe(true);
      expect(cls).toBeGreaterThanOrEqual(0);
      expect(cls).toBeLessThan(SAMPLE_CLASSES.length);
      for (const v of [cx, cy, w, h]) {
        expect(v).toBeGreaterThan(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(cx - w / 2).toBeGreaterThanOrEqual(0);
      expect(cx + w / 2).toBeLessThanOrEqual(1 + 1e-6);
      return { cls, cx, cy, w, h };
    });
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

describe('writeSampleDataset', () => {
  it('writes an Ultralytics dataset whose labels match the drawn pixels', async () => {
    const dir = tmpDir();
    const progress: [number, number][] = [];
    const res = await writeSampleDataset(dir, { seed: 3, onProgress: (d, t) => progress.push([d, t]) });

    expect(res.yamlPath).toBe(path.join(dir, 'data.yaml'));
    expect(res.classes).toEqual([...SAMPLE_CLASSES]);
    expect(res.images).toBe(60);
    const yaml = fs.readFileSync(res.yamlPath, 'utf8');
    expect(yaml).toMatch(/^path: \.$/m);
    expect(yaml).toMatch(/^train: images\/train$/m);
    expect(yaml).toMatch(/^val: images\/val$/m);
    for (const [i, n] of SAMPLE_CLASSES.entries()) expect(yaml).toContain(`  ${i}: ${n}`);

    const train = listFiles(path.join(dir, 'images', 'train'));
    const val = listFiles(path.join(dir, 'images', 'val'));
    expect(train).toHaveLength(48);
    expect(val).toHaveLength(12);
    expect(progress.at(-1)).toEqual([60, 60]);

    let boxes = 0;
    let backgrounds = 0;
    let checked = 0;
    for (const split of ['train', 'val']) {
      const labelFiles = listFiles(path.join(dir, 'labels', split));
      const images = listFiles(path.join(dir, 'images', split));
      expect(labelFiles).toEqual(images.map((f) => f.replace(/\.jpg$/, '.txt')));
      for (const img of images) {
        const labels = parseLabels(path.join(dir, 'labels', split, img.replace(/\.jpg$/, '.txt')));
        boxes += labels.length;
        if (labels.length === 0) backgrounds++;
        else expect(labels.length).toBeLessThanOrEqual(6);
        const { data, info } = await sharp(path.join(dir, 'images', split, img)).raw().toBuffer({ resolveWithObject: true });
        expect(info.channels).toBe(3);
        expect(Math.abs(info.width - 320)).toBeLessThanOrEqual(24);
        expect(Math.abs(info.height - 240)).toBeLessThanOrEqual(16);
        for (const l of labels) {
          const wPx = l.w * info.width;
          const hPx = l.h * info.height;
          expect(Math.max(wPx, hPx)).toBeGreaterThanOrEqual(11.5);
          expect(Math.max(wPx, hPx)).toBeLessThanOrEqual(151);
          // The box centre is inside every shape (circle, square, isosceles triangle) and never covered.
          const x = Math.floor(l.cx * info.width);
          const y = Math.floor(l.cy * info.height);
          const o = (y * info.width + x) * info.channels;
          const px = [data[o]!, data[o + 1]!, data[o + 2]!];
          const want = SAMPLE_COLORS[l.cls]!;
          const dist = Math.max(...px.map((v, c) => Math.abs(v - want[c]!)));
          expect(dist, `${split}/${img} class ${l.cls} at ${x},${y}: ${px} vs ${want}`).toBeLessThanOrEqual(45);
          checked++;
        }
      }
    }
    expect(boxes).toBe(res.boxes);
    expect(checked).toBe(res.boxes);
    expect(backgrounds).toBe(4); // 60 / 15
    expect(boxes).toBeGreaterThan(60);
  });

  it('is deterministic for a seed', async () => {
    const a = tmpDir();
    const b = tmpDir();
    const c = tmpDir();
    const ra = await writeSampleDataset(a, { images: 12, seed: 7 });
    const rb = await writeSampleDataset(b, { images: 12, seed: 7 });
    const rc = await writeSampleDataset(c, { images: 12, seed: 8 });
    expect(rb).toEqual({ ...ra, yamlPath: path.join(b, 'data.yaml') });
    const read = (root: string) =>
      ['images/train', 'images/val', 'labels/train', 'labels/val'].flatMap((sub) =>
        listFiles(path.join(root, sub)).map((f) => [`${sub}/${f}`, fs.readFileSync(path.join(root, sub, f)).toString('base64')]),
      );
    expect(read(b)).toEqual(read(a));
    expect(read(c)).not.toEqual(read(a));
    void rc;
  });
});

describe('renderSampleImage', () => {
  it('labels are the tight boxes of the painted pixels', () => {
    const rng = new Rng(21);
    let exact = 0;
    for (let n = 0; n < 40; n++) {
      const img = renderSampleImage(rng, false);
      expect(img.shapes.length).toBeGreaterThanOrEqual(1);
      const ext = img.shapes.map(() => ({ x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity }));
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
          const id = img.owner[y * img.width + x]!;
          if (!id) continue;
          const e = ext[id - 1]!;
          e.x0 = Math.min(e.x0, x);
          e.y0 = Math.min(e.y0, y);
          e.x1 = Math.max(e.x1, x);
          e.y1 = Math.max(e.y1, y);
        }
      }
      img.shapes.forEach((s, k) => {
        const e = ext[k]!;
        // Visible pixels lie inside the label box...
        expect(e.x0).toBeGreaterThanOrEqual(s.x);
        expect(e.y0).toBeGreaterThanOrEqual(s.y);
        expect(e.x1).toBeLessThanOrEqual(s.x + s.w - 1);
        expect(e.y1).toBeLessThanOrEqual(s.y + s.h - 1);
        // ...and when no later shape overlaps it, they span it exactly.
        const overlapped = img.shapes.slice(k + 1).some((t) => t.x < s.x + s.w && s.x < t.x + t.w && t.y < s.y + s.h && s.y < t.y + t.h);
        if (!overlapped) {
          expect([e.x0, e.y0, e.x1 - e.x0 + 1, e.y1 - e.y0 + 1]).toEqual([s.x, s.y, s.w, s.h]);
          exact++;
        }
        // The pixel colour is the shape's colour plus a little noise.
        const o = (Math.floor(s.y + s.h / 2) * img.width + Math.floor(s.x + s.w / 2)) * 3;
        for (let c = 0; c < 3; c++) expect(Math.abs(img.rgb[o + c]! - s.color[c]!)).toBeLessThanOrEqual(5);
        expect(Math.max(s.w, s.h)).toBeGreaterThanOrEqual(12);
        expect(Math.max(s.w, s.h)).toBeLessThanOrEqual(151);
      });
    }
    expect(exact).toBeGreaterThan(50);
  });

  it('background images have no shapes and an empty label', () => {
    const img = renderSampleImage(new Rng(1), true);
    expect(img.shapes).toEqual([]);
    expect(yoloLines(img)).toBe('');
  });
});
