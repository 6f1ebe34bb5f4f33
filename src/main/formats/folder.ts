/**
 * @file A plain folder of images: every image file under it (recursively, hidden folders and
 * node_modules skipped), unlabeled, no split, no classes.
 */
import path from 'node:path';
import { AppError } from '../../shared/errors';
import { isDirectory, listImageFiles } from './files';
import { ticker, type ReadOptions } from './options';
import type { ParsedDataset, ParsedImage } from './types';

export function readImageFolder(dir: string, opts: ReadOptions = {}): ParsedDataset {
  const root = path.resolve(dir);
  if (!isDirectory(root)) throw new AppError('FILE_NOT_FOUND', `image folder not found: ${root}`);
  const files = listImageFiles(root);
  const tick = ticker(opts, 'listing images', files.length);
  const images: ParsedImage[] = files.map((absPath, i) => {
    tick.tick(i + 1);
    return { absPath, split: 'none', labeled: false, boxes: [] };
  });
  tick.end(files.length);
  return { classes: [], images, problems: [], warnings: [] };
}
