/** @file train.*: preflight, fine-tuning runs in a worker (train-service.ts), and predicting with a run's weights. */
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../shared/errors';
import { DEVICE_CHOICES, IMGSZ_MULTIPLE, OPTIMIZER_CHOICES } from '../../../shared/training';
import type { PredictSplitResult } from '../../infer/predict-split';
import { inspectModelFileInWorker } from '../../model/zoo';
import { preflight } from '../train-service';
import { runTask } from '../worker-tasks';
import { projectChanged, type ArgsMatchApi, type Handlers, type ServiceContext } from './context';
import { empty, id, isSpecialFile, split } from './schema-parts';

/** A model input side: the app and the CLI apply the same rule. */
const imgsz = z.number().int().min(IMGSZ_MULTIPLE).max(4096).multipleOf(IMGSZ_MULTIPLE, `imgsz must be a multiple of ${IMGSZ_MULTIPLE}`);

export const trainSchemas = {
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
};
const _argsMatch: ArgsMatchApi<typeof trainSchemas> = true;
void _argsMatch;

type Args<M extends keyof typeof trainSchemas> = z.output<(typeof trainSchemas)[M]>;

export const trainHandlers = {
  'train.preflight': (ctx) => preflight(ctx.requireStore()),
  'train.start': async (ctx, args) => {
    const store = ctx.requireStore();
    if (args.resumeRunId === undefined && !args.model.startsWith('run:')) {
      // A file that is no trainable detection model gets the reader's error now, before a run is recorded.
      const model = await inspectModelFileInWorker(args.model);
      if (model.format === 'onnx') throw new AppError('INVALID_INPUT', `${path.basename(args.model)} is an ONNX file, which cannot be fine-tuned: pick its .pt or .safetensors`);
    }
    return ctx.training.start(store, args);
  },
  'train.runs': (ctx) => ctx.training.runs(ctx.requireStore()),
  'train.run': (ctx, args) => ctx.training.run(ctx.requireStore(), args.id),
  'train.csv': (ctx, args) => ctx.training.csv(ctx.requireStore(), args.id),
  'train.predict': (ctx, args) => startPredict(ctx, args),
} satisfies Handlers<typeof trainSchemas>;

/** Runs a run's best weights over a split (default val) in a worker; its predictions replace the split's old ones. */
function startPredict(ctx: ServiceContext, args: Args<'train.predict'>): { jobId: string } {
  const store = ctx.requireStore();
  const { weights, imgsz, name } = ctx.training.weightsOf(store, args.runId);
  const split = args.split ?? 'val';
  const root = store.root;
  const request = { runId: args.runId, weights, imgsz, split, ...(args.conf !== undefined ? { conf: args.conf } : {}) };
  const job = ctx.jobs.start(
    'predict',
    `Predict ${split} with ${name}`,
    (jobCtx) => runTask<PredictSplitResult>({ kind: 'predict', root, request }, jobCtx),
    () => projectChanged(ctx, root),
  );
  return { jobId: job.id };
}
