/**
 * @file Dataset formats: readers (files -> ParsedDataset, never touching the store or the image
 * pixels) and writers (ExportDataset -> files), dispatched by format name.
 */
import { AppError } from '../../shared/errors';
import type { ExportFormat, ImportRequest } from '../../shared/types';
import { readCocoDataset, writeCocoDataset } from './coco';
import { readImageFolder } from './folder';
import type { ReadOptions, WriteOptions, WriteResult } from './options';
import type { ExportDataset, ParsedDataset } from './types';
import { readVocDataset, writeVocDataset } from './voc';
import { readYoloDataset, writeYoloDataset } from './yolo';

export * from './types';
export type { ReadOptions, WriteOptions, WriteResult, Ticker } from './options';
export { ticker, TICK_EVERY } from './options';
export { readYoloDataset, writeYoloDataset, labelPathFor, formatNormalized, TOLERANCE } from './yolo';
export { parseYoloLabels } from './yolo-labels';
export { readCocoDataset, writeCocoDataset, guessSplit, resolveImagesDir, type CocoReadOptions } from './coco';
export { readVocDataset, writeVocDataset } from './voc';
export { readImageFolder } from './folder';
export { locateTopLevelArrays, jsonSyntaxProblem } from './json-locate';
export { assignOutputNames, listImageFiles, isImageFile } from './files';

/** Reads the dataset an import request names. Synchronous: run it in a worker. */
export function readDataset(req: ImportRequest, opts: ReadOptions = {}): ParsedDataset {
  switch (req.format) {
    case 'folder':
      return readImageFolder(req.source, opts);
    case 'yolo':
      return readYoloDataset(req.source, opts);
    case 'coco': {
      const cocoOpts: Parameters<typeof readCocoDataset>[1] = { ...opts };
      if (req.imagesDir !== undefined) cocoOpts.imagesDir = req.imagesDir;
      if (req.split !== undefined) cocoOpts.split = req.split;
      return readCocoDataset(req.source, cocoOpts);
    }
    case 'voc':
      return readVocDataset(req.source, opts);
    default:
      throw new AppError('INVALID_INPUT', `unknown import format: ${String((req as { format: unknown }).format)}`);
  }
}

/** Writes `ds` into `outDir` (which should be empty or absent: writers never overwrite a file). */
export function writeDataset(format: ExportFormat, ds: ExportDataset, outDir: string, opts: WriteOptions): WriteResult {
  switch (format) {
    case 'yolo':
      return writeYoloDataset(ds, outDir, opts);
    case 'coco':
      return writeCocoDataset(ds, outDir, opts);
    case 'voc':
      return writeVocDataset(ds, outDir, opts);
    default:
      throw new AppError('INVALID_INPUT', `unknown export format: ${String(format)}`);
  }
}
