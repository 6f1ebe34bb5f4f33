/**
 * @file Training arguments: Ultralytics' names and defaults (cfg/default.yaml) for what boxtune
 * trains with, parsed from `key=value` strings (CLI) or an object (Api), validated with zod.
 */
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { DEVICE_CHOICES, IMGSZ_MULTIPLE, OPTIMIZER_CHOICES } from '../../shared/training';

export const TRAIN_DEFAULTS = {
  epochs: 100,
  patience: 100,
  batch: 16,
  imgsz: 640,
  seed: 0,
  workers: 1,
  cache: false,
  optimizer: 'auto' as (typeof OPTIMIZER_CHOICES)[number],
  freeze: 0,
  lr0: 0.01,
  lrf: 0.01,
  momentum: 0.937,
  weight_decay: 0.0005,
  warmup_epochs: 3.0,
  warmup_momentum: 0.8,
  warmup_bias_lr: 0.1,
  cos_lr: false,
  close_mosaic: 10,
  nbs: 64,
  box: 7.5,
  cls: 0.5,
  dfl: 1.5,
  hsv_h: 0.015,
  hsv_s: 0.7,
  hsv_v: 0.4,
  degrees: 0.0,
  translate: 0.1,
  scale: 0.5,
  shear: 0.0,
  perspective: 0.0,
  flipud: 0.0,
  fliplr: 0.5,
  mosaic: 1.0,
  mixup: 0.0,
  val: true,
};

const num = z.coerce.number().refine(Number.isFinite, 'must be a number');
const bool = z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False', '1', '0']).transform((v) => v === 'true' || v === 'True' || v === '1')]);

export const trainArgsSchema = z.strictObject({
  model: z.string().min(1, 'model= is required (a .pt or boxtune checkpoint)'),
  data: z.string().min(1, 'data= is required (a data.yaml, or a project folder)'),
  project: z.string().optional(),
  name: z.string().regex(/^[\w.-]+$/, 'use letters, digits, . _ -').optional(),
  resume: bool.optional(),
  epochs: num.pipe(z.number().int().min(1).max(10_000)).default(TRAIN_DEFAULTS.epochs),
  patience: num.pipe(z.number().int().min(1)).default(TRAIN_DEFAULTS.patience),
  batch: num.pipe(z.number().int().min(1).max(1024)).default(TRAIN_DEFAULTS.batch),
  imgsz: num.pipe(z.number().int().min(IMGSZ_MULTIPLE).max(4096).multipleOf(IMGSZ_MULTIPLE, `imgsz must be a multiple of ${IMGSZ_MULTIPLE}`)).default(TRAIN_DEFAULTS.imgsz),
  seed: num.pipe(z.number().int()).default(TRAIN_DEFAULTS.seed),
  workers: num.pipe(z.number().int().min(0).max(64)).default(TRAIN_DEFAULTS.workers),
  cache: bool.default(TRAIN_DEFAULTS.cache),
  optimizer: z.enum(OPTIMIZER_CHOICES).default(TRAIN_DEFAULTS.optimizer),
  freeze: num.pipe(z.number().int().min(0).max(100)).default(TRAIN_DEFAULTS.freeze),
  lr0: num.pipe(z.number().positive()).default(TRAIN_DEFAULTS.lr0),
  lrf: num.pipe(z.number().positive()).default(TRAIN_DEFAULTS.lrf),
  momentum: num.pipe(z.number().min(0).max(1)).default(TRAIN_DEFAULTS.momentum),
  weight_decay: num.pipe(z.number().min(0)).default(TRAIN_DEFAULTS.weight_decay),
  warmup_epochs: num.pipe(z.number().min(0)).default(TRAIN_DEFAULTS.warmup_epochs),
  warmup_momentum: num.pipe(z.number().min(0).max(1)).default(TRAIN_DEFAULTS.warmup_momentum),
  warmup_bias_lr: num.pipe(z.number().min(0)).default(TRAIN_DEFAULTS.warmup_bias_lr),
  cos_lr: bool.default(TRAIN_DEFAULTS.cos_lr),
  close_mosaic: num.pipe(z.number().int().min(0)).default(TRAIN_DEFAULTS.close_mosaic),
  nbs: num.pipe(z.number().int().min(1)).default(TRAIN_DEFAULTS.nbs),
  box: num.default(TRAIN_DEFAULTS.box),
  cls: num.default(TRAIN_DEFAULTS.cls),
  dfl: num.default(TRAIN_DEFAULTS.dfl),
  hsv_h: num.default(TRAIN_DEFAULTS.hsv_h),
  hsv_s: num.default(TRAIN_DEFAULTS.hsv_s),
  hsv_v: num.default(TRAIN_DEFAULTS.hsv_v),
  degrees: num.default(TRAIN_DEFAULTS.degrees),
  translate: num.default(TRAIN_DEFAULTS.translate),
  scale: num.default(TRAIN_DEFAULTS.scale),
  shear: num.default(TRAIN_DEFAULTS.shear),
  perspective: num.default(TRAIN_DEFAULTS.perspective),
  flipud: num.default(TRAIN_DEFAULTS.flipud),
  fliplr: num.default(TRAIN_DEFAULTS.fliplr),
  mosaic: num.default(TRAIN_DEFAULTS.mosaic),
  mixup: num.default(TRAIN_DEFAULTS.mixup),
  val: bool.default(TRAIN_DEFAULTS.val),
  /** Training backend: best available unless named. */
  device: z.enum(DEVICE_CHOICES).default('auto'),
});

export type TrainArgs = z.infer<typeof trainArgsSchema>;
export type TrainArgsInput = z.input<typeof trainArgsSchema>;

/** Validates arguments; an error names the argument and what it must be. */
export function parseTrainArgs(input: Record<string, unknown>): TrainArgs {
  const parsed = trainArgsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || 'arguments';
    const unknown = issue.code === 'unrecognized_keys' ? ` (${(issue as { keys: string[] }).keys.join(', ')})` : '';
    throw new AppError('INVALID_INPUT', `${key}: ${issue.message}${unknown}`);
  }
  return parsed.data;
}
