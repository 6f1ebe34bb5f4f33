/**
 * @file The fine-tuning loop, Ultralytics' BaseTrainer in TypeScript, in its named phases: setup
 * (train-setup.ts), then per epoch train, validate the EMA weights, the results row, save the
 * checkpoints, end of epoch (results.csv, early stop) (train-session.ts).
 * A run killed at any point resumes from its last checkpoint (the end of its last whole epoch):
 * every file is replaced atomically, the resume pair first; the files derived from it (last, best,
 * results.csv) are checked and rewritten from it when a resume finds them behind (run-files.ts).
 * Runs wherever tfjs is owned: the training worker, the CLI, tests.
 */
import type { TrainArgs } from './args';
import { setupTraining } from './train-setup';
import type { TrainEvent } from './train-events';
import type { EpochRow } from './train-state';

export type { BatchProgress, PerClassAp, TrainEvent } from './train-events';
export type { EpochRow } from './train-state';

export interface TrainOptions {
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
}

export async function train(args: TrainArgs, opts: TrainOptions = {}): Promise<{ runDir: string; rows: EpochRow[] }> {
  const session = await setupTraining(args, opts.onEvent ?? (() => {}), opts.signal);
  try {
    for (let epoch = session.startEpoch; epoch < args.epochs; epoch++) {
      const trained = await session.trainEpoch(epoch);
      const metrics = await session.validateEpoch(epoch);
      const { row, isBest } = session.recordEpoch(epoch, trained, metrics);
      session.saveCheckpoints(epoch, row, isBest);
      if (session.endEpoch(row, isBest)) break; // patience ran out
    }
    return session.finish();
  } finally {
    await session.close();
  }
}
