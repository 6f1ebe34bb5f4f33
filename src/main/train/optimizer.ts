/**
 * @file Optimizers with Ultralytics' three parameter groups, written out so they match PyTorch's
 * update rules exactly (tfjs has no AdamW and no per-group settings):
 *   pg0 biases (no decay), pg1 conv/linear weights (decay), pg2 norm weights (no decay).
 * Each group carries lr and momentum that warmup and the schedule change between steps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerName } from '../../shared/training';
import type { ParamGroup } from '../model/modules/nn';


export interface TrainableParam {
  name: string;
  variable: tf.Variable;
  group: ParamGroup;
}

export interface GroupSettings {
  /** Ultralytics' name: pg0 / pg1 / pg2. */
  id: 'pg0' | 'pg1' | 'pg2';
  group: ParamGroup;
  lr: number;
  /** The lr the schedule scales (PyTorch's initial_lr). */
  initialLr: number;
  /** SGD momentum, or Adam's beta1. */
  momentum: number;
  weightDecay: number;
}

export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  momentum: number;
  /** Decay of pg1, already scaled by batch * accumulate / nbs. */
  weightDecay: number;
}

/** Optimizer state for checkpoints: plain arrays keyed by parameter name. */
export interface OptimizerState {
  name: OptimizerName;
  step: number;
  groups: GroupSettings[];
  slots: Record<string, { m?: Float32Array; v?: Float32Array }>;
}

const ADAM_BETA2 = 0.999;
const ADAM_EPS = 1e-8;
const GROUP_ORDER: readonly ParamGroup[] = ['bias', 'weight', 'bn'];

export class GroupedOptimizer {
  readonly name: OptimizerName;
  readonly groups: GroupSettings[];
  private readonly params: TrainableParam[];
  /** SGD: momentum buffer in m. Adam: first moment m, second moment v. */
  private readonly slots = new Map<string, { m?: tf.Variable; v?: tf.Variable }>();
  private stepCount = 0;

  constructor(params: readonly TrainableParam[], cfg: OptimizerConfig) {
    this.name = cfg.name;
    this.params = [...params];
    this.groups = GROUP_ORDER.map((group, i) => ({
      id: `pg${i}` as GroupSettings['id'],
      group,
      lr: cfg.lr,
      initialLr: cfg.lr,
      momentum: cfg.momentum,
      weightDecay: group === 'weight' ? cfg.weightDecay : 0,
    }));
  }

  get steps(): number {
    return this.stepCount;
  }

  group(g: ParamGroup): GroupSettings {
    return this.groups.find((x) => x.group === g)!;
  }

  /** One update of every parameter that has a gradient (frozen ones have none). */
  step(grads: ReadonlyMap<string, tf.Tensor>): void {
    this.stepCount++;
    const t = this.stepCount;
    for (const p of this.params) {
      const grad = grads.get(p.name);
      if (!grad) continue;
      const g = this.group(p.group);
      tf.tidy(() => {
        if (this.name === 'SGD') this.sgd(p, grad, g);
        else this.adam(p, grad, g, t);
      });
    }
  }

  /** torch.optim.SGD(nesterov=True, dampening=0): the first step's buffer is the gradient itself. */
  private sgd(p: TrainableParam, grad: tf.Tensor, g: GroupSettings): void {
    const d = g.weightDecay > 0 ? tf.add(grad, tf.mul(p.variable, g.weightDecay)) : grad;
    const slot = this.slot(p);
    let buf: tf.Tensor;
    if (!slot.m) {
      buf = d;
      slot.m = tf.variable(tf.clone(d), false);
    } else {
      buf = tf.add(tf.mul(slot.m, g.momentum), d);
      slot.m.assign(buf);
    }
    const update = tf.add(d, tf.mul(buf, g.momentum));
    p.variable.assign(tf.sub(p.variable, tf.mul(update, g.lr)));
  }

  /** torch.optim.Adam / AdamW (betas = (momentum, 0.999), eps 1e-8, no amsgrad). */
  private adam(p: TrainableParam, grad: tf.Tensor, g: GroupSettings, t: number): void {
    const beta1 = g.momentum;
    let param: tf.Tensor = p.variable;
    let d = grad;
    if (g.weightDecay > 0) {
      if (this.name === 'AdamW') param = tf.mul(param, 1 - g.lr * g.weightDecay);
      else d = tf.add(d, tf.mul(param, g.weightDecay));
    }
    const slot = this.slot(p);
    slot.m ??= tf.variable(tf.zerosLike(p.variable), false);
    slot.v ??= tf.variable(tf.zerosLike(p.variable), false);
    const m = tf.add(tf.mul(slot.m, beta1), tf.mul(d, 1 - beta1));
    const v = tf.add(tf.mul(slot.v, ADAM_BETA2), tf.mul(tf.square(d), 1 - ADAM_BETA2));
    slot.m.assign(m);
    slot.v.assign(v);
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - ADAM_BETA2 ** t;
    const denom = tf.add(tf.sqrt(tf.div(v, bc2)), ADAM_EPS);
    p.variable.assign(tf.sub(param, tf.mul(tf.div(m, denom), g.lr / bc1)));
  }

  private slot(p: TrainableParam): { m?: tf.Variable; v?: tf.Variable } {
    let s = this.slots.get(p.name);
    if (!s) this.slots.set(p.name, (s = {}));
    return s;
  }

  getState(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [name, s] of this.slots) {
      slots[name] = {
        ...(s.m ? { m: s.m.dataSync() as Float32Array } : {}),
        ...(s.v ? { v: s.v.dataSync() as Float32Array } : {}),
      };
    }
    return { name: this.name, step: this.stepCount, groups: this.groups.map((g) => ({ ...g })), slots };
  }

  setState(state: OptimizerState): void {
    if (state.name !== this.name) throw new Error(`optimizer state is for ${state.name}, not ${this.name}`);
    this.stepCount = state.step;
    state.groups.forEach((g, i) => Object.assign(this.groups[i]!, g));
    for (const p of this.params) {
      const saved = state.slots[p.name];
      if (!saved) continue;
      const s = this.slot(p);
      const shape = p.variable.shape;
      // tidy disposes the temporary tensors; the variables keep their own copy of the data.
      if (saved.m) s.m = tf.tidy(() => tf.variable(tf.tensor(saved.m!, shape), false));
      if (saved.v) s.v = tf.tidy(() => tf.variable(tf.tensor(saved.v!, shape), false));
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.m?.dispose();
      s.v?.dispose();
    }
    this.slots.clear();
  }
}

/**
 * Scales gradients so their global L2 norm is at most maxNorm (torch clip_grad_norm_, eps 1e-6).
 * Returns the norm before clipping and the gradients to use (the same map when no clip was needed).
 */
export function clipGradNorm(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number): { norm: number; grads: Map<string, tf.Tensor> } {
  const norm = tf.tidy(() => {
    const squares = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return squares.length ? tf.sqrt(tf.addN(squares)).dataSync()[0]! : 0;
  });
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return { norm, grads: new Map(grads) };
  const clipped = new Map<string, tf.Tensor>();
  for (const [k, g] of grads) clipped.set(k, tf.mul(g, coef));
  return { norm, grads: clipped };
}
