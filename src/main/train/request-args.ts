/**
 * @file The Api's training options (TrainRequest, camelCase) and the Ultralytics train arguments
 * (args.ts, snake_case) they set, in one typed table. The compiler refuses a table without every
 * option, an argument name args.ts does not have, and an option whose values the argument does
 * not take; test/unit/train/request-args.test.ts holds the Api's schema to the table too.
 */
import type { TrainRequest } from '../../shared/types';
import type { TrainArgs } from './args';

/** The request fields that set a training argument (model and resumeRunId choose what trains). */
export type TrainOption = Exclude<keyof TrainRequest, 'model' | 'resumeRunId'>;

/** The train arguments that take every value of option K. */
type ArgFor<K extends TrainOption> = {
  [A in keyof TrainArgs]-?: NonNullable<TrainRequest[K]> extends TrainArgs[A] ? A : never;
}[keyof TrainArgs];

/** Option -> the train argument it sets, in the order a run's settings are stored. */
export const TRAIN_OPTION_ARGS = {
  epochs: 'epochs',
  imgsz: 'imgsz',
  batch: 'batch',
  freeze: 'freeze',
  optimizer: 'optimizer',
  lr0: 'lr0',
  patience: 'patience',
  cosLr: 'cos_lr',
  closeMosaic: 'close_mosaic',
  seed: 'seed',
  device: 'device',
} as const satisfies { readonly [K in TrainOption]: ArgFor<K> };

export type TrainOptionArgs = { -readonly [K in TrainOption as (typeof TRAIN_OPTION_ARGS)[K]]?: TrainRequest[K] };

/** The train arguments the request's options set (options left out are left to the defaults). */
export function trainOptionArgs(req: Pick<TrainRequest, TrainOption>): TrainOptionArgs {
  const out: Record<string, unknown> = {};
  for (const option of Object.keys(TRAIN_OPTION_ARGS) as TrainOption[]) {
    if (req[option] !== undefined) out[TRAIN_OPTION_ARGS[option]] = req[option];
  }
  return out as TrainOptionArgs;
}
