/**
 * @file zod schemas for every Api method's argument: nothing from the UI or the network reaches a
 * service unchecked. Objects are strict, so a misspelt field is an error rather than ignored.
 */
import { z } from 'zod';
import type { ApiMethod } from '../../shared/api';
import { EXPORT_FORMATS, IMAGE_STATUSES, IMPORT_FORMATS, SPLITS } from '../../shared/types';

const empty = z
  .strictObject({})
  .optional()
  .transform(() => ({}));
const id = z.number().int().positive();
const split = z.enum(SPLITS);
const pathString = z.string().trim().min(1, 'a path is required').max(4096);

const imageFilter = z.strictObject({
  split: split.optional(),
  status: z.enum(IMAGE_STATUSES).optional(),
  classId: id.optional(),
  hasPredictions: z.boolean().optional(),
  search: z.string().max(500).optional(),
});

const ratio = z.number().min(0).max(1000);

export const API_SCHEMAS = {
  'app.info': empty,
  'project.create': z.strictObject({ dir: pathString, name: z.string().trim().max(200).optional() }),
  'project.open': z.strictObject({ dir: pathString }),
  'project.openSample': z.strictObject({
    dir: pathString.optional(),
    images: z.number().int().min(4).max(5000).optional(),
  }),
  'project.close': empty,
  'project.info': empty,
  'images.page': z.strictObject({
    filter: imageFilter.optional(),
    afterId: z.number().int().min(0).optional(),
    offset: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  }),
  'images.get': z.strictObject({ id }),
  'images.boxes': z.strictObject({ id }),
  'classes.list': empty,
  'dataset.import': z.strictObject({
    format: z.enum(IMPORT_FORMATS),
    source: pathString,
    imagesDir: pathString.optional(),
    split: split.optional(),
    copy: z.boolean().optional(),
  }),
  'dataset.export': z.strictObject({
    format: z.enum(EXPORT_FORMATS),
    dir: pathString,
    images: z.enum(['link', 'copy']).optional(),
    splits: z.array(split).min(1).optional(),
  }),
  'dataset.assignSplits': z.strictObject({
    ratios: z.strictObject({ train: ratio, val: ratio, test: ratio }),
    seed: z.number().int().optional(),
    scope: z.enum(['unassigned', 'all']).optional(),
  }),
  'jobs.list': empty,
  'jobs.get': z.strictObject({ id: z.string().uuid() }),
  'jobs.cancel': z.strictObject({ id: z.string().uuid() }),
} satisfies Record<ApiMethod, z.ZodType>;
