/** coco8's val split from ../shared as evaluation samples (labels read from disk, normalised). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EvalSample } from '../../src/main/infer/evaluate';

export const COCO8 = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/coco8');

export function coco8Val(): EvalSample[] {
  const dir = path.join(COCO8, 'images/val');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .map((f) => ({
      image: path.join(dir, f),
      normalized: true,
      labels: fs
        .readFileSync(path.join(COCO8, 'labels/val', f.replace(/\.jpg$/, '.txt')), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => {
          const [c, x, y, w, h] = l.trim().split(/\s+/).map(Number) as [number, number, number, number, number];
          return { classId: c, x: x - w / 2, y: y - h / 2, w, h };
        }),
    }));
}
