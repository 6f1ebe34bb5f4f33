/**
 * @file Options every reader and writer takes, and the ticker that reports progress and honours
 * cancellation every few hundred items (calling back per item would dominate a 100k-image import).
 */
import { AppError } from '../../shared/errors';
import type { CancelFn, ProgressFn } from './types';

export interface ReadOptions {
  onProgress?: ProgressFn;
  isCancelled?: CancelFn;
}

export interface WriteOptions {
  /** 'link' hard-links image files (falling back to a copy where linking fails), 'copy' copies them. */
  images: 'link' | 'copy';
  onProgress?: ProgressFn;
  isCancelled?: CancelFn;
}

export interface WriteResult {
  /** Every file written, relative to the output folder, '/' separators. */
  files: string[];
}

/** How many items pass between two progress reports / cancellation checks. */
export const TICK_EVERY = 500;

export interface Ticker {
  /** Call once per item with the number done so far; reports and checks every TICK_EVERY items. */
  tick(done: number): void;
  /** Reports the final count (and checks cancellation once more). */
  end(done: number): void;
}

/**
 * A ticker for one phase. `job` names what a cancellation cancels ('import' or 'export'), so the
 * error reads naturally to the person who pressed cancel.
 */
export function ticker(
  opts: { onProgress?: ProgressFn; isCancelled?: CancelFn },
  phase: string,
  total: number,
  job: 'import' | 'export' = 'import',
): Ticker {
  const { onProgress, isCancelled } = opts;
  const report = (done: number): void => {
    if (isCancelled?.()) throw new AppError('JOB_CANCELLED', `${job} cancelled`);
    onProgress?.(phase, done, total);
  };
  report(0);
  return {
    tick(done) {
      if (done % TICK_EVERY === 0) report(done);
    },
    end(done) {
      report(done);
    },
  };
}
