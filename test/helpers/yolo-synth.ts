/**
 * Writes a synthetic Ultralytics dataset quickly: one tiny PNG's bytes copied to every image path
 * (the pipeline hashes and sizes them like any image) and random normalised boxes.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export interface SynthOptions {
  images: number;
  boxesPerImage: number;
  classes: string[];
  width?: number;
  height?: number;
}

export async function writeSynthYolo(dir: string, opts: SynthOptions): Promise<string> {
  const width = opts.width ?? 32;
  const height = opts.height ?? 24;
  const png = await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 150 } } }).png().toBuffer();
  let seed = 1;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const split of ['train', 'val']) {
    fs.mkdirSync(path.join(dir, 'images', split), { recursive: true });
    fs.mkdirSync(path.join(dir, 'labels', split), { recursive: true });
  }
  for (let i = 0; i < opts.images; i++) {
    const split = i % 5 === 0 ? 'val' : 'train';
    fs.writeFileSync(path.join(dir, 'images', split, `im${i}.png`), png);
    const lines: string[] = [];
    for (let b = 0; b < opts.boxesPerImage; b++) {
      const w = 0.05 + rand() * 0.3;
      const h = 0.05 + rand() * 0.3;
      const cx = w / 2 + rand() * (1 - w);
      const cy = h / 2 + rand() * (1 - h);
      lines.push(`${Math.floor(rand() * opts.classes.length)} ${cx.toFixed(6)} ${cy.toFixed(6)} ${w.toFixed(6)} ${h.toFixed(6)}`);
    }
    fs.writeFileSync(path.join(dir, 'labels', split, `im${i}.txt`), lines.join('\n'));
  }
  const yaml = path.join(dir, 'data.yaml');
  fs.writeFileSync(yaml, `path: .\ntrain: images/train\nval: images/val\nnames:\n${opts.classes.map((c, i) => `  ${i}: ${c}`).join('\n')}\n`);
  return yaml;
}
