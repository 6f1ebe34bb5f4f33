/**
 * A project holding real image files, registered the way an import registers them (probed hash and
 * EXIF-rotated size) but without a worker: for tests of the derived files (thumbnails, tiles).
 */
import fs from 'node:fs';
import path from 'node:path';
import { probeImage } from '../../src/main/images/probe';
import { LabelStore } from '../../src/main/store/label-store';
import type { ImageRecord } from '../../src/shared/types';

/** Writes each file under `root`, creates the project and registers them (unreadable ones with a made-up hash). */
export function projectWithImages(root: string, files: Record<string, Buffer>): { store: LabelStore; images: ImageRecord[] } {
  const store = LabelStore.create(root, 'images test');
  const planned = Object.entries(files).map(([rel, bytes], i) => {
    const abs = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, bytes);
    const probe = probeImage(abs);
    const { hash, width, height } = probe.ok ? probe.probe : { hash: `${'0'.repeat(38)}${String(i).padStart(2, '0')}`, width: 100, height: 100 };
    return { path: rel, hash, width, height, split: 'train' as const, labeled: false, boxes: [] };
  });
  store.applyImport({ classes: [], images: planned });
  return { store, images: store.page({ limit: 1000 }).items };
}
