/**
 * @file Ultralytics' learning-rate schedule and warmup, as pure functions so the trainer and the
 * tests share one definition (the `optimizer=auto` rule is in src/shared/training.ts, for the UI too).
 */
import type { OptimizerName } from '../../shared/training';
import type { GroupSettings } from './optimizer';

/**
 * Python's round(): halves go to the even neighbour (numpy's .round() too), so accumulate and
 * warmup lengths come out as in Ultralytics.
 * @example pyRound(2.5) // => 2
 * @example pyRound(3.5) // => 4
 */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface ScheduleArgs {
  epochs: number;
  lrf: number;
  cosLr: boolean;
}

/**
 * The LambdaLR factor for an epoch: linear `(1 - e/E)(1 - lrf) + lrf`, or one_cycle's cosine
 * from 1 to lrf.
 * @example lrFactor(0, { epochs: 10, lrf: 0.01, cosLr: false }) // => 1
 * @example lrFactor(10, { epochs: 10, lrf: 0.01, cosLr: false }) // => 0.01
 */
export function lrFactor(epoch: number, a: ScheduleArgs): number {
  if (a.cosLr) return ((1 - Math.cos((epoch * Math.PI) / a.epochs)) / 2) * (a.lrf - 1) + 1;
  return Math.max(1 - epoch / a.epochs, 0) * (1 - a.lrf) + a.lrf;
}

/** Warmup length in iterations: warmup_epochs of batches, at least 100 (none when warmup_epochs is 0). */
export function warmupIterations(batchesPerEpoch: number, warmupEpochs: number): number {
  return warmupEpochs > 0 ? Math.max(pyRound(warmupEpochs * batchesPerEpoch), 100) : -1;
}

/** numpy.interp for two points. */
function interp(x: number, x0: number, x1: number, y0: number, y1: number): number {
  if (x <= x0) return y0;
  if (x >= x1) return y1;
  return y0 + ((x - x0) * (y1 - y0)) / (x1 - x0);
}

export interface WarmupArgs {
  warmupBiasLr: number;
  warmupMomentum: number;
  momentum: number;
  nbs: number;
  batch: number;
}

/**
 * Sets each group's lr and momentum for iteration `ni` (global) and returns the gradient
 * accumulation count; outside warmup the groups follow the epoch schedule.
 * Bias lr falls from warmup_bias_lr, the others rise from 0, towards initial_lr * lf(epoch);
 * momentum rises from warmup_momentum (SGD only: Adam's beta1 has no warmup in Ultralytics).
 */
export function applyLearningRates(
  groups: GroupSettings[],
  opt: { name: OptimizerName },
  ni: number,
  nw: number,
  epoch: number,
  sched: ScheduleArgs,
  w: WarmupArgs,
): number {
  const lf = lrFactor(epoch, sched);
  const fullAccumulate = Math.max(pyRound(w.nbs / w.batch), 1);
  if (ni >= nw) {
    for (const g of groups) g.lr = g.initialLr * lf;
    return fullAccumulate;
  }
  for (const g of groups) {
    g.lr = interp(ni, 0, nw, g.group === 'bias' ? w.warmupBiasLr : 0, g.initialLr * lf);
    if (opt.name === 'SGD') g.momentum = interp(ni, 0, nw, w.warmupMomentum, w.momentum);
  }
  return Math.max(1, pyRound(interp(ni, 0, nw, 1, w.nbs / w.batch)));
}

/** Ultralytics' gradient accumulation and decay scaling around the nominal batch size (nbs 64). */
export function batchScaling(batch: number, weightDecay: number, nbs = 64): { accumulate: number; weightDecay: number } {
  const accumulate = Math.max(pyRound(nbs / batch), 1);
  return { accumulate, weightDecay: (weightDecay * batch * accumulate) / nbs };
}

