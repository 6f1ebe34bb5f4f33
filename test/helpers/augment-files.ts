/**
 * Writes the augmentation fixtures (grey images with coloured rectangles) as PNG files for the
 * loader tests, with TrainSample labels in original pixels.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { TrainSample } from '../../src/main/train/data/dataset';
import { drawFixture, fixtureSet } from './augment-fixtures';

export interface FixtureFiles {
  dir: string;
  samples: TrainSample[];
  remove(): void;
}

/** Writes each fixture `copies` times (distinct files) into a fresh temp folder. */
export async function writeFixtureFiles(copies = 1): Promise<FixtureFiles> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boxtune-augment-'));
  const samples: TrainSample[] = [];
  for (let c = 0; c < copies; c++) {
    for (const [i, f] of fixtureSet().entries()) {
      const img = drawFixture(f.width, f.height, f.rects);
      const file = path.join(dir, `fixture-${c}-${i}.png`);
      await sharp(Buffer.from(img.image.data), { raw: { width: f.width, height: f.height, channels: 3 } }).png().toFile(file);
      samples.push({ imagePath: file, cls: img.cls, boxes: img.boxes, width: f.width, height: f.height });
    }
  }
  return { dir, samples, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
