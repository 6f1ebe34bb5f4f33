/**
 * @file ONNX export with Ultralytics' interface: input `images` [1, 3, H, W] float32 RGB 0..1 (NCHW),
 * output `output0` [1, 4 + nc, N] (xywh in input pixels, then sigmoid class scores), opset 17,
 * IR 8, metadata props as Ultralytics writes them. The graph follows what torch.onnx makes of an
 * Ultralytics model after `fuse()`:
 *
 *   Conv + BN + SiLU   -> Conv (BN folded into weight and bias, fp32) -> Sigmoid -> Mul
 *   C2f / C3k2 chunk   -> Split (axis 1)              Bottleneck shortcut -> Add
 *   SPPF               -> MaxPool k, stride 1, pads k/2 (padding never wins, as in torch)
 *   nn.Upsample        -> Resize nearest, scales [1, 1, s, s], asymmetric, floor
 *   Attention (C2PSA)  -> Reshape / Split / Transpose / MatMul / Mul(scale) / Softmax
 *   Detect             -> per level Concat(box, cls) -> Reshape [1, no, -1] -> Concat (axis 2) -> Split;
 *                         DFL: Reshape [1, 4, reg_max, N] -> Transpose -> Softmax -> Conv(0..reg_max-1);
 *                         dist2bbox around anchor points (an initializer for the export size) * stride.
 *
 * @example
 * const model = YoloModel.fromCheckpoint(readPtFile('yolo11n.pt'));
 * const { outputShape } = await exportOnnx(model, { imgsz: 640, path: 'yolo11n.onnx', source: 'yolo11n.pt' });
 * // outputShape: [1, 84, 8400]
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../shared/errors';
import { tempPathFor } from '../../util/atomic-write';
import { Bottleneck, C2f, C2PSA, C3, SPPF, type Attention, type Block, PSABlock } from '../modules/block';
import { Conv } from '../modules/conv';
import type { Detect } from '../modules/head';
import type { BatchNorm2d, Conv2d } from '../modules/nn';
import type { TensorView } from '../pt/pt-reader';
import type { YoloModel } from '../yolo';
import { GraphBuilder } from './graph-builder';
import { exportMetadata } from './metadata';
import { encodeModel, type ModelProto } from './onnx-proto';

/** ONNX opset Ultralytics exports detection models with (and what its shared yolo11n-coco.onnx uses). */
export const ONNX_OPSET = 17;
/** IR version matching opset 17 (onnx 1.12+). */
export const ONNX_IR_VERSION = 8;
/** boxtune's version, written as the producer version and the metadata `version`. */
export const BOXTUNE_VERSION = '0.1.0';

export interface OnnxExportOptions {
  /** Input size: a square side or [height, width]; multiples of the model's largest stride. */
  imgsz: number | [number, number];
  /** The checkpoint the weights came from (a file name), recorded in the metadata. */
  source?: string;
  /** Metadata date (ISO); defaults to now. Tests pin it for reproducible bytes. */
  date?: string;
}

export interface OnnxExportResult {
  path: string;
  /** File size. */
  bytes: number;
  /** [1, 4 + nc, N] */
  outputShape: [number, number, number];
}

/** A tensor in the graph with its NCHW shape (batch 1). */
interface Value {
  name: string;
  c: number;
  h: number;
  w: number;
}

/** Writes the model as an ONNX file (atomically: temp file, then rename). */
export async function exportOnnx(model: YoloModel, opts: OnnxExportOptions & { path: string }): Promise<OnnxExportResult> {
  const { bytes, outputShape } = buildOnnx(model, opts);
  const file = path.resolve(opts.path);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file); // unique per thread: two predict jobs may export the same run
  try {
    await fs.promises.writeFile(tmp, bytes);
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw new AppError('EXPORT_FAILED', `cannot write ${file}: ${(err as Error).message}`);
  }
  return { path: file, bytes: bytes.length, outputShape };
}

/** The model as ONNX bytes, without touching the disk. */
export function buildOnnx(model: YoloModel, opts: OnnxExportOptions): { bytes: Uint8Array; outputShape: [number, number, number]; proto: ModelProto } {
  const [h, w] = resolveImgsz(model, opts.imgsz);
  const ex = new Exporter(model);
  const out = ex.run(h, w);
  const nc = model.nc;
  const outputShape: [number, number, number] = [1, 4 + nc, out.n];
  const proto: ModelProto = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'boxtune',
    producer_version: BOXTUNE_VERSION,
    graph: ex.g.graph('main_graph', { name: 'images', dims: [1, model.parsed.ch, h, w] }, { name: 'output0', dims: outputShape }),
    metadata_props: exportMetadata({
      prettyName: prettyName(model),
      names: model.names,
      stride: model.stride,
      imgsz: [h, w],
      yaml: model.yaml,
      source: opts.source ?? null,
      version: BOXTUNE_VERSION,
      ...(opts.date ? { date: opts.date } : {}),
    }),
  };
  return { bytes: encodeModel(proto), outputShape, proto };
}

/** imgsz -> [h, w], checked against the largest stride. */
function resolveImgsz(model: YoloModel, imgsz: number | [number, number]): [number, number] {
  const [h, w] = typeof imgsz === 'number' ? [imgsz, imgsz] : imgsz;
  const smax = Math.max(...model.stride);
  for (const v of [h, w]) {
    if (!Number.isInteger(v) || v < smax || v % smax !== 0) {
      throw new AppError('INVALID_INPUT', `export size must be a positive multiple of the model's largest stride ${smax}, got ${h}x${w}`);
    }
  }
  return [h, w];
}

/** Ultralytics' pretty_name: the yaml file stem with 'yolo' -> 'YOLO' (e.g. YOLO11n), else family + scale. */
function prettyName(model: YoloModel): string {
  const file = typeof model.yaml.yaml_file === 'string' ? model.yaml.yaml_file : '';
  const stem = (file.split(/[\\/]/).pop() ?? '').replace(/\.[^.]*$/, '');
  if (stem) return stem.replace('yolo', 'YOLO');
  return `${model.parsed.legacy ? 'YOLOv8' : 'YOLO11'}${model.parsed.scale}`;
}

/** `model.2.m.0.cv1` -> `/model.2/m.0/cv1` (torch.onnx's scope names, near enough to read side by side). */
function scopeOf(moduleName: string): string {
  const parts: string[] = [];
  for (const p of moduleName.split('.')) {
    if (/^\d+$/.test(p) && parts.length) parts[parts.length - 1] += `.${p}`;
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}

/** Walks the built model, emitting nodes. Weights come from its state dict (torch layout). */
class Exporter {
  readonly g = new GraphBuilder();
  private readonly sd: Map<string, TensorView>;

  constructor(private readonly model: YoloModel) {
    this.sd = model.stateDict();
  }

  run(h: number, w: number): { n: number } {
    const input: Value = { name: 'images', c: this.model.parsed.ch, h, w };
    const outs: Value[] = [];
    for (const layer of this.model.layers) {
      const { spec } = layer;
      const ins = spec.from.map((j) => (j === -1 ? input : outs[j]!));
      const scope = `/model.${spec.i}`;
      if (layer.detect) return this.detect(layer.detect, ins, scope);
      let y: Value;
      if (spec.module === 'Concat') {
        y = { name: this.g.op('Concat', scope, ins.map((v) => v.name), { axis: 1 }), c: ins.reduce((a, v) => a + v.c, 0), h: ins[0]!.h, w: ins[0]!.w };
      } else if (spec.module === 'nn.Upsample') {
        const s = spec.args[1] as number;
        const x = ins[0]!;
        const scales = this.g.f32(`${scope.slice(1)}/scales`, [4], Float32Array.from([1, 1, s, s]));
        const name = this.g.op('Resize', scope, [x.name, '', scales], { coordinate_transformation_mode: 'asymmetric', mode: 'nearest', nearest_mode: 'floor' });
        y = { name, c: x.c, h: x.h * s, w: x.w * s };
      } else {
        y = ins[0]!;
        for (const b of layer.blocks) y = this.block(b, y);
      }
      outs.push(y);
    }
    throw new AppError('INVALID_INPUT', 'model has no Detect head to export');
  }

  /** One block of a layer. */
  private block(b: Block, x: Value): Value {
    if (b instanceof Conv) return this.conv(b, x);
    if (b instanceof Bottleneck) {
      const y = this.conv(b.cv2, this.conv(b.cv1, x));
      return b.add ? this.add(scopeOf(b.cv1.name.replace(/\.cv1$/, '')), x, y) : y;
    }
    if (b instanceof C2f) {
      // C2f and C3k2: cv1 -> chunk(2) -> each block on the last chunk -> concat all -> cv2
      const scope = scopeOf(b.name);
      const y0 = this.conv(b.cv1, x);
      const [a, c] = this.g.node('Split', scope, [y0.name, this.g.i64([b.c, b.c], 'split')], { axis: 1 }, 2);
      const ys: Value[] = [
        { ...y0, name: a!, c: b.c },
        { ...y0, name: c!, c: b.c },
      ];
      for (const m of b.m) ys.push(this.block(m, ys[ys.length - 1]!));
      return this.conv(b.cv2, this.concat(scope, ys));
    }
    if (b instanceof C3) {
      // C3 and C3k: cv3(cat(m(cv1(x)), cv2(x)))
      const scope = scopeOf(b.cv1.name.replace(/\.cv1$/, ''));
      let a = this.conv(b.cv1, x);
      for (const m of b.m) a = this.block(m, a);
      return this.conv(b.cv3, this.concat(scope, [a, this.conv(b.cv2, x)]));
    }
    if (b instanceof SPPF) {
      const scope = scopeOf(b.cv1.name.replace(/\.cv1$/, ''));
      const ys = [this.conv(b.cv1, x)];
      const p = Math.floor(b.k / 2);
      for (let i = 0; i < 3; i++) {
        const prev = ys[ys.length - 1]!;
        const name = this.g.op('MaxPool', `${scope}/m`, [prev.name], { kernel_shape: [b.k, b.k], pads: [p, p, p, p], strides: [1, 1], ceil_mode: 0 });
        ys.push({ ...prev, name });
      }
      return this.conv(b.cv2, this.concat(scope, ys));
    }
    if (b instanceof C2PSA) {
      const scope = scopeOf(b.cv1.name.replace(/\.cv1$/, ''));
      const y0 = this.conv(b.cv1, x);
      const [a, c] = this.g.node('Split', scope, [y0.name, this.g.i64([b.c, b.c], 'split')], { axis: 1 }, 2);
      let v: Value = { ...y0, name: c!, c: b.c };
      for (const m of b.m) v = this.block(m, v);
      return this.conv(b.cv2, this.concat(scope, [{ ...y0, name: a!, c: b.c }, v]));
    }
    if (b instanceof PSABlock) {
      const scope = scopeOf(b.ffn[0].name.replace(/\.ffn\.0$/, ''));
      const a = this.attention(b.attn, x);
      const x1 = b.add ? this.add(scope, x, a) : a;
      const f = this.conv(b.ffn[1], this.conv(b.ffn[0], x1));
      return b.add ? this.add(scope, x1, f) : f;
    }
    throw new AppError('INVALID_INPUT', `ONNX export does not know the block ${b.constructor.name}`);
  }

  /**
   * Attention as Ultralytics computes it in NCHW: qkv [1, nh*(2kd+hd), H, W] -> [1, nh, 2kd+hd, N],
   * split (q, k, v), attn = softmax(q^T k * scale) [1, nh, N, N], x = v attn^T -> [1, C, H, W],
   * plus pe(v), then proj.
   */
  private attention(att: Attention, x: Value): Value {
    const scope = scopeOf(att.qkv.name.replace(/\.qkv$/, ''));
    const { numHeads: nh, keyDim: kd, headDim: hd } = att;
    const n = x.h * x.w;
    const qkv = this.conv(att.qkv, x);
    const heads = this.g.op('Reshape', scope, [qkv.name, this.g.i64([1, nh, 2 * kd + hd, n], 'shape')]); // [1, nh, 2kd+hd, N]
    const [q, k, v] = this.g.node('Split', scope, [heads, this.g.i64([kd, kd, hd], 'split')], { axis: 2 }, 3);
    const qT = this.g.op('Transpose', scope, [q!], { perm: [0, 1, 3, 2] }); // [1, nh, N, kd]
    const scores = this.g.op('MatMul', scope, [qT, k!]); // [1, nh, N, N]
    const scale = this.g.f32(`${scope.slice(1)}/scale`, [], Float32Array.of(att.scale));
    const attn = this.g.op('Softmax', scope, [this.g.op('Mul', scope, [scores, scale])], { axis: -1 });
    const attnT = this.g.op('Transpose', scope, [attn], { perm: [0, 1, 3, 2] });
    const o = this.g.op('MatMul', scope, [v!, attnT]); // [1, nh, hd, N]
    const mapShape = this.g.i64([1, x.c, x.h, x.w], 'shape');
    const oMap = this.g.op('Reshape', scope, [o, mapShape]); // channel = head * hd + d
    const vMap: Value = { ...x, name: this.g.op('Reshape', scope, [v!, mapShape]) };
    const pe = this.conv(att.pe, vMap);
    return this.conv(att.proj, this.add(scope, { ...x, name: oMap }, pe));
  }

  /** Detect: raw per-level outputs -> [1, no, N] -> DFL + dist2bbox + sigmoid -> output0 [1, 4 + nc, N]. */
  private detect(d: Detect, xs: Value[], scope: string): { n: number } {
    const g = this.g;
    const levels: string[] = [];
    const hw: [number, number][] = [];
    xs.forEach((x, i) => {
      const branch = (b: Detect['cv2'][number]) => this.conv2d(b.pred, b.convs.reduce((y, c) => this.conv(c, y), x));
      const cat = this.concat(scope, [branch(d.cv2[i]!), branch(d.cv3[i]!)]); // [1, no, H, W]
      levels.push(g.op('Reshape', scope, [cat.name, g.i64([1, d.no, -1], 'shape')])); // [1, no, H*W]
      hw.push([x.h, x.w]);
    });
    const n = hw.reduce((a, [h, w]) => a + h * w, 0);
    const flat = g.op('Concat', scope, levels, { axis: 2 }); // [1, no, N]
    const [box, cls] = g.node('Split', scope, [flat, g.i64([4 * d.regMax, d.nc], 'split')], { axis: 1 }, 2);
    let dist = box!; // [1, 4, N] after DFL
    if (d.dfl) {
      const dfl = `${scope}/dfl`;
      const r = g.op('Reshape', dfl, [box!, g.i64([1, 4, d.regMax, n], 'shape')]); // [1, 4, reg_max, N]
      const p = g.op('Softmax', dfl, [g.op('Transpose', dfl, [r], { perm: [0, 2, 1, 3] })], { axis: 1 }); // [1, reg_max, 4, N]
      const wName = d.dfl.weight.name;
      const weight = g.f32(wName, [1, d.regMax, 1, 1], this.tensor(wName).data);
      const e = g.op('Conv', `${dfl}/conv`, [p, weight], { dilations: [1, 1], group: 1, kernel_shape: [1, 1], pads: [0, 0, 0, 0], strides: [1, 1] }); // [1, 1, 4, N]
      dist = g.op('Reshape', dfl, [e, g.i64([1, 4, n], 'shape')]);
    }
    // dist2bbox(xywh=True) around the anchor points, times the stride (Ultralytics' Detect._inference).
    const anchors = new Float32Array(2 * n); // [1, 2, N]: row 0 x, row 1 y
    const strides = new Float32Array(n); // [1, N]
    let k = 0;
    hw.forEach(([h, w], i) => {
      const s = this.model.stride[i]!;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++, k++) {
          anchors[k] = x + 0.5;
          anchors[n + k] = y + 0.5;
          strides[k] = s;
        }
      }
    });
    const anchorName = g.f32(`${scope.slice(1)}/anchors`, [1, 2, n], anchors);
    const strideName = g.f32(`${scope.slice(1)}/strides`, [1, n], strides);
    const [lt, rb] = g.node('Split', scope, [dist, g.i64([2, 2], 'split')], { axis: 1 }, 2);
    const x1y1 = g.op('Sub', scope, [anchorName, lt!]);
    const x2y2 = g.op('Add', scope, [anchorName, rb!]);
    const two = g.f32(`${scope.slice(1)}/two`, [], Float32Array.of(2));
    const cxy = g.op('Div', scope, [g.op('Add', scope, [x1y1, x2y2]), two]);
    const wh = g.op('Sub', scope, [x2y2, x1y1]);
    const dbox = g.op('Mul', scope, [g.op('Concat', scope, [cxy, wh], { axis: 1 }), strideName]); // [1, 4, N]
    const out = g.op('Concat', scope, [dbox, g.op('Sigmoid', scope, [cls!])], { axis: 1 }); // [1, 4 + nc, N]
    g.renameOutput(out, 'output0');
    return { n };
  }

  /** Conv (+ BN folded) (+ SiLU as Sigmoid -> Mul). */
  private conv(c: Conv, x: Value): Value {
    const scope = scopeOf(c.name);
    const { weight, bias } = this.foldBn(c.conv, c.bn);
    const y = this.convNode(c.conv, x, `${scope}/conv`, weight, bias);
    if (!c.act) return y;
    const s = this.g.op('Sigmoid', `${scope}/act`, [y.name]);
    return { ...y, name: this.g.op('Mul', `${scope}/act`, [y.name, s]) };
  }

  /** A plain Conv2d with its own bias (the head's last convs). */
  private conv2d(c: Conv2d, x: Value): Value {
    const w = this.tensor(c.weight.name).data;
    const b = c.bias ? this.tensor(c.bias.name).data : new Float32Array(c.c2);
    return this.convNode(c, x, scopeOf(c.name), w, b);
  }

  private convNode(c: Conv2d, x: Value, scope: string, weight: Float32Array, bias: Float32Array): Value {
    const wName = this.g.f32(`${c.name}.weight`, [c.c2, c.c1 / c.g, c.k, c.k], weight);
    const bName = this.g.f32(`${c.name}.bias`, [c.c2], bias);
    const name = this.g.op('Conv', scope, [x.name, wName, bName], {
      dilations: [c.d, c.d],
      group: c.g,
      kernel_shape: [c.k, c.k],
      pads: [c.p, c.p, c.p, c.p],
      strides: [c.s, c.s],
    });
    const out = (v: number) => Math.floor((v + 2 * c.p - c.d * (c.k - 1) - 1) / c.s) + 1;
    return { name, c: c.c2, h: out(x.h), w: out(x.w) };
  }

  /**
   * BN folded into the conv (eval mode, running statistics), as Ultralytics' fuse_conv_and_bn:
   * W' = W * gamma / sqrt(var + eps) per output channel, b' = beta - mean * gamma / sqrt(var + eps).
   * Computed in float64, rounded once to float32.
   */
  private foldBn(conv: Conv2d, bn: BatchNorm2d): { weight: Float32Array; bias: Float32Array } {
    const w = this.tensor(conv.weight.name).data; // [c2, c1/g, k, k]
    const gamma = this.tensor(bn.weight.name).data;
    const beta = this.tensor(bn.bias.name).data;
    const mean = this.tensor(bn.runningMean.name).data;
    const variance = this.tensor(bn.runningVar.name).data;
    const c2 = conv.c2;
    const per = w.length / c2;
    const weight = new Float32Array(w.length);
    const bias = new Float32Array(c2);
    for (let o = 0; o < c2; o++) {
      const scale = gamma[o]! / Math.sqrt(variance[o]! + bn.eps);
      for (let j = 0; j < per; j++) weight[o * per + j] = w[o * per + j]! * scale;
      bias[o] = beta[o]! - mean[o]! * scale;
    }
    return { weight, bias };
  }

  private add(scope: string, a: Value, b: Value): Value {
    return { ...a, name: this.g.op('Add', scope, [a.name, b.name]) };
  }

  private concat(scope: string, xs: Value[]): Value {
    return { ...xs[0]!, name: this.g.op('Concat', scope, xs.map((v) => v.name), { axis: 1 }), c: xs.reduce((a, v) => a + v.c, 0) };
  }

  private tensor(name: string): TensorView {
    const t = this.sd.get(name);
    if (!t) throw new Error(`state dict has no ${name}`);
    return t;
  }
}
