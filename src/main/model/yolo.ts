/**
 * @file YoloModel: an Ultralytics YOLOv8 / YOLO11 detection model in tfjs (NHWC), built from its
 * yaml like Ultralytics' DetectionModel, with weights named by Ultralytics state-dict keys.
 *
 *   const model = YoloModel.fromCheckpoint(readPtFile('yolo11n.pt'));
 *   const raw = model.forward(x);          // x [B, H, W, 3] RGB 0..1 -> [B, H/s, W/s, 4*reg_max + nc] per level
 *   const out = model.decode(raw);         // [B, 4 + nc, N]: xywh in input pixels, then class scores
 *   tf.dispose([raw, out]);
 */
import * as tf from '@tensorflow/tfjs-core';
import { AppError } from '../../shared/errors';
import { Rng } from '../util/rng';
import { classBiasPrior, type Detect } from './modules/head';
import { seededInitializer, StateStore, tfToTorch, type ForwardCtx, type Initializer, type ParamGroup, type StateEntry } from './modules/nn';
import { buildLayer, parseModel, runLayer, validateYaml, type BuiltLayer, type ModelYaml, type ParsedModel } from './parse-model';
import type { PtCheckpoint, TensorView } from './pt/pt-reader';

/** A trainable parameter, for optimizers: Ultralytics name, tfjs Variable, decay group. */
export interface NamedParam {
  name: string;
  variable: tf.Variable;
  group: ParamGroup;
}

export interface ForwardOptions {
  /** Train mode for this call (BN batch stats + running-stat updates); defaults to the model's mode. */
  training?: boolean;
}

/** Draws nothing: for models whose weights are loaded right after building. */
const zeroInit: Initializer = { uniform: (n) => new Float32Array(n) };

export class YoloModel {
  readonly store: StateStore;
  parsed: ParsedModel;
  readonly layers: BuiltLayer[];
  /** The model yaml (nc kept in sync with the head). */
  yaml: ModelYaml;
  /** Class names by index (length nc). */
  names: string[];
  /** Detect strides, e.g. [8, 16, 32]. */
  readonly stride: number[];
  /** Train mode (see train()/eval()); forward() uses it unless told otherwise. */
  training = false;
  /**
   * Leading modules (model.0 .. model.{n-1}) that are frozen: their BatchNorms stay in eval mode
   * even in train mode, as Ultralytics keeps frozen layers' BN in eval.
   */
  frozenLayers = 0;
  /** Which layer's output each later layer needs last, for freeing intermediates early. */
  private readonly lastUse: number[];

  private constructor(yaml: ModelYaml, names: string[], init: Initializer, preset?: Map<string, TensorView>) {
    this.yaml = structuredClone(yaml);
    this.parsed = parseModel(this.yaml);
    this.store = new StateStore(init);
    this.store.preset = preset ?? null;
    try {
      this.layers = this.parsed.layers.map((spec) => buildLayer(spec, this.store, this.parsed));
      this.store.preset = null;
    } catch (err) {
      this.store.dispose();
      throw err instanceof AppError ? err : new AppError('INVALID_INPUT', `cannot build the model: ${(err as Error).message}`);
    }
    this.stride = [...this.parsed.stride];
    this.names = normaliseNames(names, this.parsed.nc);
    this.lastUse = this.parsed.layers.map(() => -1);
    for (const l of this.parsed.layers) for (const j of l.from) if (j >= 0) this.lastUse[j] = Math.max(this.lastUse[j]!, l.i);
  }

  /** Number of classes. */
  get nc(): number {
    return this.parsed.nc;
  }

  /** The Detect head. */
  get head(): Detect {
    const d = this.layers[this.layers.length - 1]?.detect;
    if (!d) throw new Error('model has no Detect head');
    return d;
  }

  /** reg_max of the head's box distributions (16). */
  get regMax(): number {
    return this.parsed.regMax;
  }

  /**
   * A fresh model from a yaml, initialised like PyTorch + Ultralytics: kaiming-uniform conv weights,
   * BN ones/zeros (eps 1e-3, momentum 0.03), Detect bias_init. `nc` overrides yaml.nc.
   */
  static fromYaml(yaml: unknown, nc?: number, names?: string[], opts: { seed?: number } = {}): YoloModel {
    const y = validateYaml(structuredClone(yaml));
    if (nc !== undefined) y.nc = nc;
    const model = new YoloModel(y, names ?? [], seededInitializer(new Rng(opts.seed ?? 0)));
    model.head.biasInit(model.stride);
    return model;
  }

  /** A model with an Ultralytics checkpoint's architecture, names and weights (exact key and shape match required). */
  static fromCheckpoint(pt: PtCheckpoint): YoloModel {
    const bn = new Map<string, { eps?: number; momentum?: number }>();
    for (const [name, m] of pt.modules) {
      if (!m.className.endsWith('BatchNorm2d')) continue;
      const { eps, momentum } = m.attrs;
      bn.set(name, { ...(typeof eps === 'number' ? { eps } : {}), ...(typeof momentum === 'number' ? { momentum } : {}) });
    }
    const model = YoloModel.fromStateDict(pt.yaml, pt.names, pt.stateDict, bn);
    if (pt.stride.length > 0 && pt.stride.join(',') !== model.stride.join(',')) {
      model.dispose();
      throw new AppError('INVALID_INPUT', `checkpoint strides [${pt.stride.join(', ')}] differ from its yaml's [${model.stride.join(', ')}]`);
    }
    return model;
  }

  /**
   * A model built from `yaml` holding exactly the weights of `sd` (torch layout, every key present).
   * `bn` overrides BatchNorm eps/momentum by module name (Ultralytics uses 1e-3 / 0.03).
   */
  static fromStateDict(
    yaml: unknown,
    names: string[],
    sd: Map<string, TensorView>,
    bn?: Map<string, { eps?: number; momentum?: number }>,
  ): YoloModel {
    const model = new YoloModel(validateYaml(yaml), names, zeroInit, sd); // built holding sd's values
    try {
      model.checkStateDict(sd, true);
      for (const [name, b] of model.store.batchNorms) {
        const o = bn?.get(name);
        if (o?.eps !== undefined) b.eps = o.eps;
        if (o?.momentum !== undefined) b.momentum = o.momentum;
      }
    } catch (err) {
      model.dispose();
      throw err;
    }
    return model;
  }

  /** BatchNorm eps/momentum that differ from Ultralytics' 1e-3 / 0.03, by module name. */
  batchNormOverrides(): Map<string, { eps: number; momentum: number }> {
    const out = new Map<string, { eps: number; momentum: number }>();
    for (const [name, b] of this.store.batchNorms) if (b.eps !== 1e-3 || b.momentum !== 0.03) out.set(name, { eps: b.eps, momentum: b.momentum });
    return out;
  }

  /** Sets train mode (BN batch statistics and running-stat updates). */
  /**
   * Whether every BatchNorm is the identity a BN-folding export leaves behind (weight 1, running mean
   * 0, running var 1 - eps): the convs carry the statistics, so train-mode BN (batch statistics)
   * changes what the network computes until the running statistics catch up.
   */
  hasFoldedBatchNorm(): boolean {
    if (this.store.batchNorms.size === 0) return false;
    for (const bn of this.store.batchNorms.values()) {
      const w = bn.weight.variable.dataSync();
      const m = bn.runningMean.variable.dataSync();
      const v = bn.runningVar.variable.dataSync();
      const one = 1 - bn.eps;
      for (let i = 0; i < w.length; i++) if (w[i] !== 1 || m[i] !== 0 || Math.abs(v[i]! - one) > 5e-4) return false; // fp16 checkpoints round 0.999
    }
    return true;
  }

  train(mode = true): this {
    this.training = mode;
    return this;
  }

  /** Sets eval mode (BN running statistics). */
  eval(): this {
    return this.train(false);
  }

  /**
   * The network on a batch of images. x: [B, H, W, 3] RGB in 0..1, H and W multiples of the
   * largest stride. Returns the raw head output per level: [B, H/s, W/s, 4*reg_max + nc]
   * (box distribution logits, then class logits). The caller disposes the returned tensors.
   */
  forward(x: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor4D[] {
    const ctx: ForwardCtx = { training: opts.training ?? this.training };
    const frozenCtx: ForwardCtx = { training: false };
    const [, h, w, c] = x.shape;
    const smax = Math.max(...this.stride);
    if (c !== this.parsed.ch) throw new AppError('INVALID_INPUT', `model input must have ${this.parsed.ch} channels (NHWC), got shape [${x.shape.join(', ')}]`);
    if (h % smax !== 0 || w % smax !== 0) throw new AppError('INVALID_INPUT', `model input height and width must be multiples of ${smax}, got ${h}x${w}`);
    return tf.tidy(() => {
      const outs: (tf.Tensor4D | null)[] = [];
      for (const layer of this.layers) {
        const inputs = layer.spec.from.map((j) => (j === -1 ? x : outs[j]!));
        const layerCtx = layer.spec.i < this.frozenLayers ? frozenCtx : ctx;
        if (layer.detect) return layer.detect.forward(inputs, layerCtx);
        outs.push(runLayer(layer, inputs, layerCtx));
        // Free intermediates no later layer reads (kept alive for gradients by the tape when one records).
        for (const j of layer.spec.from) {
          if (j >= 0 && this.lastUse[j] === layer.spec.i) {
            outs[j]!.dispose();
            outs[j] = null;
          }
        }
      }
      throw new Error('model has no Detect head');
    });
  }

  /** Raw outputs -> [B, 4 + nc, N]: xywh boxes in input pixels, then sigmoid class scores (Ultralytics' inference output). */
  decode(raw: tf.Tensor4D[]): tf.Tensor3D {
    return this.head.decode(raw, this.stride);
  }

  /** Eval-mode forward + decode in one tidy. [B, H, W, 3] -> [B, 4 + nc, N] */
  predict(x: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => this.decode(this.forward(x, { training: false })));
  }

  /** Trainable parameters with their Ultralytics names and optimizer groups (DFL's fixed weights excluded). */
  params(): NamedParam[] {
    const out: NamedParam[] = [];
    for (const e of this.store.entries.values()) {
      if (e.role === 'param' && e.group) out.push({ name: e.name, variable: e.variable, group: e.group });
    }
    return out;
  }

  /** Every state entry (parameters and buffers) in state-dict order. */
  entries(): StateEntry[] {
    return [...this.store.entries.values()];
  }

  /** Number of parameters (as Ultralytics counts them: parameters, not buffers). */
  numParams(): number {
    let n = 0;
    for (const e of this.store.entries.values()) if (e.role === 'param' || e.role === 'fixed') n += e.torchShape.reduce((a, b) => a * b, 1);
    return n;
  }

  /** Ultralytics-style state dict: key -> torch-layout fp32 values (num_batches_tracked as int64). */
  stateDict(): Map<string, TensorView> {
    const sd = new Map<string, TensorView>();
    for (const e of this.store.entries.values()) {
      sd.set(e.name, { dtype: e.dtype, shape: [...e.torchShape], data: tfToTorch(e.variable, e) });
    }
    return sd;
  }

  /**
   * Loads a state dict in torch layout. strict: every key present, none extra, shapes equal
   * (the .pt and the yaml must describe the same network).
   */
  loadStateDict(sd: Map<string, TensorView>, opts: { strict?: boolean } = {}): void {
    this.checkStateDict(sd, opts.strict ?? true);
    for (const e of this.store.entries.values()) {
      const t = sd.get(e.name);
      if (t) this.store.assign(e.name, t.data);
    }
  }

  /** Throws an AppError naming what in `sd` does not fit this model (wrong shapes; with strict, missing or extra keys). */
  private checkStateDict(sd: Map<string, TensorView>, strict: boolean): void {
    const missing: string[] = [];
    const wrongShape: string[] = [];
    for (const e of this.store.entries.values()) {
      const t = sd.get(e.name);
      if (!t) missing.push(e.name);
      else if (t.shape.join(',') !== e.torchShape.join(',')) wrongShape.push(`${e.name} [${t.shape.join(', ')}] vs [${e.torchShape.join(', ')}]`);
    }
    const unexpected = [...sd.keys()].filter((k) => !this.store.entries.has(k));
    if (wrongShape.length || (strict && (missing.length || unexpected.length))) {
      const parts: string[] = [];
      const list = (xs: string[]) => xs.slice(0, 5).join(', ') + (xs.length > 5 ? `, ... (${xs.length} in all)` : '');
      if (missing.length) parts.push(`missing ${list(missing)}`);
      if (unexpected.length) parts.push(`unexpected ${list(unexpected)}`);
      if (wrongShape.length) parts.push(`shape mismatch ${list(wrongShape)}`);
      throw new AppError('INVALID_INPUT', `weights do not fit the model built from the yaml: ${parts.join('; ')}`, { missing, unexpected, wrongShape });
    }
  }

  /**
   * New classes, as Ultralytics does when a pretrained model is trained with a different nc: the
   * head is rebuilt for `nc` (class width c3 = max(ch0, min(nc, 100)) may change), every tensor
   * whose key and shape still match is kept (intersect_dicts), the rest is freshly initialised, and
   * the final class convs cv3.*.2 are always re-initialised with the class-bias prior
   * log(5 / nc / (640 / s)^2). The backbone, neck and box branch cv2 are untouched.
   * Returns the names of the re-initialised entries.
   */
  resetClassHead(nc: number, names?: string[], opts: { seed?: number } = {}): string[] {
    if (!Number.isInteger(nc) || nc < 1) throw new AppError('INVALID_INPUT', `nc must be an integer >= 1, got ${nc}`);
    const headLayer = this.layers[this.layers.length - 1]!;
    const prefix = `model.${headLayer.spec.i}.`;
    const old = new Map<string, TensorView>();
    for (const [k, v] of this.stateDict()) if (k.startsWith(prefix)) old.set(k, v);

    const yaml = structuredClone(this.yaml);
    yaml.nc = nc;
    const parsed = parseModel(yaml);
    const spec = parsed.layers[parsed.layers.length - 1]!;
    // The new head's BatchNorms keep the old ones' eps/momentum (a checkpoint may override them).
    const bnSettings = new Map([...this.store.batchNorms].filter(([k]) => k.startsWith(prefix)).map(([k, b]) => [k, { eps: b.eps, momentum: b.momentum }]));
    const savedInit = this.store.init;
    this.store.init = seededInitializer(new Rng(opts.seed ?? 0));
    this.store.remove([...this.store.entries.keys()].filter((k) => k.startsWith(prefix)));
    let rebuilt: BuiltLayer;
    try {
      rebuilt = buildLayer(spec, this.store, parsed);
    } finally {
      this.store.init = savedInit;
    }
    for (const [k, b] of this.store.batchNorms) {
      const o = bnSettings.get(k);
      if (o) Object.assign(b, o);
    }
    rebuilt.detect!.biasInit(this.stride);
    const reinit: string[] = [];
    const isClassPred = (k: string) => new RegExp(`^${prefix.replace(/\./g, '\\.')}cv3\\.\\d+\\.2\\.`).test(k);
    for (const e of this.store.entries.values()) {
      if (!e.name.startsWith(prefix)) continue;
      const o = old.get(e.name);
      if (o && !isClassPred(e.name) && o.shape.join(',') === e.torchShape.join(',')) this.store.assign(e.name, o.data);
      else reinit.push(e.name);
    }
    this.layers[this.layers.length - 1] = rebuilt;
    this.yaml = yaml;
    this.parsed = parsed;
    this.names = normaliseNames(names ?? [], nc);
    return reinit;
  }

  /** The class-logit prior of a fresh head at stride s. */
  static classBiasPrior(nc: number, stride: number): number {
    return classBiasPrior(nc, stride);
  }

  /** Frees the eval-mode folded weights (rebuilt on the next eval forward), e.g. before training. */
  releaseCaches(): void {
    for (const c of this.store.caches) c.dispose();
  }

  /** Frees every Variable. The model is unusable afterwards. */
  dispose(): void {
    this.store.dispose();
  }
}

function normaliseNames(names: string[], nc: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < nc; i++) out.push(names[i] ?? String(i));
  return out;
}
