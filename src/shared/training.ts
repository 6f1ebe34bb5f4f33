/**
 * @file Training choices the app, the CLI and the trainer share: the optimizer and device names,
 * and Ultralytics' `optimizer=auto` rule, so the Train form predicts exactly what the trainer does.
 * Pure functions, no dependencies.
 */

export const OPTIMIZER_NAMES = ['SGD', 'Adam', 'AdamW'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
/** What a user may ask for: a named optimizer, or Ultralytics' `auto`. */
export const OPTIMIZER_CHOICES = ['auto', ...OPTIMIZER_NAMES] as const;

/** tfjs backends that train, best first. */
export const TRAINING_BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type TrainingBackendName = (typeof TRAINING_BACKENDS)[number];
/** What `device=` accepts: a backend, or `auto` (the best one that loads). */
export const DEVICE_CHOICES = ['auto', ...TRAINING_BACKENDS] as const;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];

/** Every model's input side must be a multiple of the largest stride. */
export const IMGSZ_MULTIPLE = 32;

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

/** Optimizer iterations Ultralytics feeds `auto`: ceil(n / max(batch, nbs)) * epochs. */
export function autoIterations(trainImages: number, batch: number, epochs: number, nbs = 64): number {
  return Math.ceil(trainImages / Math.max(batch, nbs)) * epochs;
}
