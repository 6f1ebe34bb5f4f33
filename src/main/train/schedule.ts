/**
 * @file Ultralytics' learning-rate schedule, warmup and `optimizer=auto` choice, as pure
 * functions so the trainer, the UI ("effective lr") and the tests share one definition.
 */
import type { OptimizerName } from './optimizer';
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

export interface OptimizerChoice {
  name: OptimizerName;
  lr: number;
  momentum: number;
  warmupBiasLr: number;
  /** Why this choice, in words the user sees beside the run. */
  reason: string;
}

/**
 * Ultralytics' `optimizer=auto`: AdamW with lr fitted to the class count for short runs
 * (<= 10k iterations), SGD 0.01 for long ones; either way warmup_bias_lr becomes 0 and the
 * user's lr0/momentum are not used (we say so).
 */
export function chooseOptimizer(
  requested: OptimizerName | 'auto',
  a: { lr0: number; momentum: number; warmupBiasLr: number; nc: number; iterations: number },
): OptimizerChoice {
  if (requested !== 'auto') {
    return { name: requested, lr: a.lr0, momentum: a.momentum, warmupBiasLr: a.warmupBiasLr, reason: `optimizer=${requested} as requested` };
  }
  if (a.iterations > 10_000) {
    return { name: 'SGD', lr: 0.01, momentum: 0.9, warmupBiasLr: 0, reason: `auto: ${a.iterations} iterations > 10000, so SGD(lr=0.01, momentum=0.9); lr0 and momentum are not used` };
  }
  const lrFit = Math.round((0.002 * 5 * 1e6) / (4 + a.nc)) / 1e6;
  return {
    name: 'AdamW',
    lr: lrFit,
    momentum: 0.9,
    warmupBiasLr: 0,
    reason: `auto: ${a.iterations} iterations <= 10000, so AdamW(lr=${lrFit}, momentum=0.9) fitted to nc=${a.nc}; lr0 and momentum are not used`,
  };
}

/** Ultralytics' gradient accumulation and decay scaling around the nominal batch size (nbs 64). */
export function batchScaling(batch: number, weightDecay: number, nbs = 64): { accumulate: number; weightDecay: number } {
  const accumulate = Math.max(pyRound(nbs / batch), 1);
  return { accumulate, weightDecay: (weightDecay * batch * accumulate) / nbs };
}

/** Optimizer iterations Ultralytics feeds `auto`: ceil(n / max(batch, nbs)) * epochs. */
export function autoIterations(trainImages: number, batch: number, epochs: number, nbs = 64): number {
  return Math.ceil(trainImages / Math.max(batch, nbs)) * epochs;
}
