/**
 * @file zod schemas for every Api method's argument: nothing from the UI or the network reaches a
 * service unchecked. Objects are strict, so a misspelt field is an error rather than ignored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ApiMethod } from '../../shared/api';
import { DEVICE_CHOICES, IMGSZ_MULTIPLE, OPTIMIZER_CHOICES } from '../../shared/training';
import { EXPORT_FORMATS, IMAGE_STATUSES, IMPORT_FORMATS, SPLITS } from '../../shared/types';

const empty = z
  .strictObject({})
  .optional()
  .transform(() => ({}));
const id = z.number().int().positive();
const split = z.enum(SPLITS);
/**
 * A path on the machine the service runs on. Absolute: a relative one would be resolved against the
 * server's working folder, which a caller (a browser on another machine) cannot know or mean.
 */
const pathString = z
  .string()
  .trim()
  .min(1, 'a path is required')
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot hold a NUL character')
  .refine((p) => path.isAbsolute(p), 'must be an absolute path (e.g. /data/images), not relative to the server')
  .refine((p) => !isSpecialFile(p), 'names a device, FIFO or socket, not a file or folder');

/**
 * True for a path that exists and is neither a file nor a folder. Reading one never ends (/dev/zero
 * fills memory, a FIFO blocks a thread for good); stat only looks, it never opens.
 */
function isSpecialFile(p: string): boolean {
  try {
    const info = fs.statSync(p, { throwIfNoEntry: false });
    return info !== undefined && !info.isFile() && !info.isDirectory();
  } catch {
    return false; // ENAMETOOLONG, ENOTDIR, EACCES: the service's own check names the problem
  }
}

const imageFilter = z.strictObject({
  split: split.optional(),
  status: z.enum(IMAGE_STATUSES).optional(),
  classId: id.optional(),
  hasPredictions: z.boolean().optional(),
  search: z.string().max(500).optional(),
});

const ratio = z.number().min(0).max(1000);

/** Pixel coordinates: finite, and within any image boxtune can open. */
const coord = z.number().finite().min(-1e6).max(1e6);
const size = z.number().finite().min(0).max(1e6);
const newBox = z.strictObject({ classId: id, x: coord, y: coord, w: size, h: size });
const boxChange = z.strictObject({
  id,
  classId: id.optional(),
  x: coord.optional(),
  y: coord.optional(),
  w: size.optional(),
  h: size.optional(),
});
/** A model input side: the app and the CLI apply the same rule. */
const imgsz = z.number().int().min(IMGSZ_MULTIPLE).max(4096).multipleOf(IMGSZ_MULTIPLE, `imgsz must be a multiple of ${IMGSZ_MULTIPLE}`);
const className = z.string().trim().min(1, 'a class needs a name').max(200);
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'colour must look like #rrggbb');

export const API_SCHEMAS = {
  'app.info': empty,
  'app.backends': empty,
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
  'images.predictions': z.strictObject({ id }),
  'images.neighbors': z.strictObject({ id, filter: imageFilter.optional() }),
  'images.setStatus': z.strictObject({ id, status: z.enum(IMAGE_STATUSES) }),
  'images.view': z.strictObject({ id }),
  'images.generateThumbnails': empty,
  'boxes.create': z.strictObject({ imageId: id, boxes: z.array(newBox).min(1).max(10_000) }),
  'boxes.update': z.strictObject({ imageId: id, changes: z.array(boxChange).min(1).max(10_000) }),
  'boxes.delete': z.strictObject({ imageId: id, ids: z.array(id).min(1).max(10_000) }),
  'boxes.copyFrom': z.strictObject({ imageId: id, fromImageId: id, ids: z.array(id).min(1).max(10_000).optional() }),
  'edits.undo': z.strictObject({ imageId: id }),
  'edits.redo': z.strictObject({ imageId: id }),
  'edits.state': z.strictObject({ imageId: id }),
  'classes.list': empty,
  'classes.create': z.strictObject({ name: className, color: color.optional() }),
  'classes.update': z.strictObject({ id, name: className.optional(), color: color.optional() }),
  'classes.reorder': z.strictObject({ ids: z.array(id).min(1).max(100_000) }),
  'classes.usage': z.strictObject({ id }),
  'classes.merge': z.strictObject({ sourceId: id, targetId: id }),
  'classes.delete': z.strictObject({ id }),
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
    scope: z.enum(['unassigned', 'all', 'train']).optional(),
  }),
  'train.preflight': empty,
  'train.start': z.strictObject({
    model: z
      .string()
      .trim()
      .min(1, 'choose a base model')
      .max(4096)
      .refine((m) => /^run:\d+$/.test(m) || (path.isAbsolute(m) && !m.includes('\0') && !isSpecialFile(m)), 'the base model is an absolute path to a model file, or run:<id>'),
    epochs: z.number().int().min(1).max(10_000).optional(),
    imgsz: imgsz.optional(),
    batch: z.number().int().min(1).max(1024).optional(),
    freeze: z.number().int().min(0).max(100).optional(),
    optimizer: z.enum(OPTIMIZER_CHOICES).optional(),
    lr0: z.number().positive().max(1).optional(),
    patience: z.number().int().min(1).optional(),
    cosLr: z.boolean().optional(),
    closeMosaic: z.number().int().min(0).optional(),
    seed: z.number().int().optional(),
    device: z.enum(DEVICE_CHOICES).optional(),
    resumeRunId: id.optional(),
  }),
  'train.runs': empty,
  'train.run': z.strictObject({ id }),
  'train.csv': z.strictObject({ id }),
  'train.predict': z.strictObject({ runId: id, split: split.optional(), conf: z.number().min(0).max(1).optional() }),
  'models.list': empty,
  'models.download': z.strictObject({ name: z.string().trim().min(1).max(100) }),
  'models.inspect': z.strictObject({ path: pathString }),
  'jobs.list': empty,
  'jobs.get': z.strictObject({ id: z.string().uuid() }),
  'jobs.cancel': z.strictObject({ id: z.string().uuid() }),
} satisfies Record<ApiMethod, z.ZodType>;
