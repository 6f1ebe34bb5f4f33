/**
 * @file Conv2DBackpropFilter (missing from tfjs-backend-wasm) and Conv2DBackpropInput (present but
 * a scalar C loop, ~10x slower than the forward conv) for the wasm backend, NHWC, dilations 1,
 * any strides and pads ('same', 'valid', a number, explicit).
 *
 * Both turn the work into XNNPACK calls of the wasm backend itself and keep the TypeScript part
 * to memory reshuffles (im2col / col2im), linear in the data:
 *
 *   dW [KH*KW*C, CO] = colsT [KH*KW*C, M] x dy [M, CO]     (M = B*OH*OW; colsT built here)
 *   dx, stride 1:   conv2d(dy, W flipped 180 deg, in/out swapped, pads KH-1-top ...)  (XNNPACK conv)
 *   dx, otherwise:  dcols [M, KH*KW*C] = dy [M, CO] x W^T [CO, KH*KW*C], then col2im (scatter-add)
 *
 * M is processed in chunks (see chunkRows): bounded temporaries, and short float32 dot products
 * whose partial results are summed in float64.
 */
import * as tf from '@tensorflow/tfjs-core';
import { alloc, chunkRows, f32, free, matMul, runWasmKernel, type WasmBackend, type WasmKernelArgs } from './wasm-heap';

/** Rows processed per im2col sub-block: keeps the gathered input rows in L1 while writing columns. */
const BLOCK = 256;

type ConvGeometry = {
  B: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  CO: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  top: number;
  left: number;
  bottom: number;
  right: number;
};

function geometry(info: tf.backend_util.Conv2DInfo, op: string): ConvGeometry {
  if (info.dataFormat !== 'channelsLast') throw new Error(`wasm ${op}: only NHWC (channelsLast) is supported, got ${info.dataFormat}`);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) throw new Error(`wasm ${op}: dilations must be 1`);
  return {
    B: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    CO: info.outChannels,
    KH: info.filterHeight,
    KW: info.filterWidth,
    SH: info.strideHeight,
    SW: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
    bottom: info.padInfo.bottom,
    right: info.padInfo.right,
  };
}

/**
 * Transposed im2col of output rows [m0, m0 + mc): colsT[(kh*KW + kw)*C + c][j] = x at the input
 * pixel output row m0 + j reads through tap (kh, kw), channel c (0 in the padding). [K, mc]
 */
function im2colT(x: Float32Array, cols: Float32Array, g: ConvGeometry, m0: number, mc: number): void {
  const { H, W, C, OH, OW, KH, KW, SH, SW, top, left } = g;
  const ih0 = new Int32Array(mc);
  const iw0 = new Int32Array(mc);
  const base = new Int32Array(mc);
  const src = new Int32Array(mc);
  for (let j = 0; j < mc; j++) {
    const m = m0 + j;
    const ow = m % OW;
    const t = (m - ow) / OW;
    const oh = t % OH;
    const b = (t - oh) / OH;
    ih0[j] = oh * SH - top;
    iw0[j] = ow * SW - left;
    base[j] = b * H * W * C;
  }
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      for (let j = 0; j < mc; j++) {
        const ih = ih0[j]! + kh;
        const iw = iw0[j]! + kw;
        src[j] = ih >= 0 && ih < H && iw >= 0 && iw < W ? base[j]! + (ih * W + iw) * C : -1;
      }
      const rowBase = (kh * KW + kw) * C;
      for (let j0 = 0; j0 < mc; j0 += BLOCK) {
        const j1 = Math.min(mc, j0 + BLOCK);
        for (let c = 0; c < C; c++) {
          const row = (rowBase + c) * mc;
          for (let j = j0; j < j1; j++) {
            const s = src[j]!;
            cols[row + j] = s < 0 ? 0 : x[s + c]!;
          }
        }
      }
    }
  }
}

/** dW = d(sum dy * conv2d(x, W)) / dW. inputs x [B,H,W,C], dy [B,OH,OW,CO] -> [KH,KW,C,CO] */
export function conv2DBackpropFilter(args: WasmKernelArgs<'x' | 'dy', tf.Conv2DBackpropFilterAttrs>): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  const g = geometry(info, 'Conv2DBackpropFilter');
  const { B, OH, OW, C, CO, KH, KW } = g;
  const M = B * OH * OW;
  const K = KH * KW * C;
  const outShape = [KH, KW, C, CO];
  if (M === 0 || K === 0 || CO === 0) {
    const out = alloc(backend, outShape);
    f32(backend, out).fill(0);
    return out;
  }
  const rows = chunkRows(M, Math.max(K, CO));
  let acc: Float64Array | null = null;
  for (let m0 = 0; m0 < M; m0 += rows) {
    const mc = Math.min(rows, M - m0);
    const a = alloc(backend, [1, K, mc]); // colsT
    const b = alloc(backend, [1, mc, CO]); // dy rows m0.. (a fresh id: XNNPACK caches its packing of b by id)
    f32(backend, b).set(f32(backend, dy).subarray(m0 * CO, (m0 + mc) * CO));
    im2colT(f32(backend, x), f32(backend, a), g, m0, mc);
    const prod = matMul(backend, a, b); // [1, K, CO]
    free(backend, a, b);
    if (mc === M) return { dataId: prod.dataId, shape: outShape, dtype: 'float32' };
    const p = f32(backend, prod);
    if (!acc) acc = new Float64Array(K * CO);
    for (let i = 0; i < p.length; i++) acc[i]! += p[i]!;
    free(backend, prod);
  }
  const out = alloc(backend, outShape);
  f32(backend, out).set(acc!);
  return out;
}

/**
 * dx = d(sum dy * conv2d(x, W)) / dx. inputs dy [B,OH,OW,CO], filter [KH,KW,C,CO] -> inputShape.
 * Stride 1 runs as one XNNPACK convolution of dy; other strides as a matmul plus col2im.
 */
export function conv2DBackpropInput(args: WasmKernelArgs<'dy' | 'filter', tf.Conv2DBackpropInputAttrs>): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat),
  );
  const g = geometry(info, 'Conv2DBackpropInput');
  const { B, H, W, C, OH, OW, CO, KH, KW, SH, SW, top, left } = g;
  if (B * H * W * C === 0 || B * OH * OW * CO === 0) {
    const out = alloc(backend, [B, H, W, C]);
    f32(backend, out).fill(0);
    return out;
  }
  // Stride 1: dx[ih, iw] = sum over taps of dy[ih + top - kh, iw + left - kw] W[kh, kw]: a convolution
  // of dy, padded by KH-1-top above and whatever makes the output H tall below, with W rotated.
  const pt = KH - 1 - top;
  const pl = KW - 1 - left;
  const pb = H + KH - 1 - pt - OH;
  const pr = W + KW - 1 - pl - OW;
  if (SH === 1 && SW === 1 && pt >= 0 && pl >= 0 && pb >= 0 && pr >= 0) {
    const rot = alloc(backend, [KH, KW, CO, C]);
    const w = f32(backend, filter);
    const r = f32(backend, rot);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const s0 = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * C * CO;
        const d0 = (kh * KW + kw) * CO * C;
        for (let c = 0; c < C; c++) for (let o = 0; o < CO; o++) r[d0 + o * C + c] = w[s0 + c * CO + o]!;
      }
    }
    const dx = runWasmKernel(tf.Conv2D, backend, { x: dy, filter: rot }, {
      strides: [1, 1],
      pad: [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined,
    });
    free(backend, rot);
    return dx;
  }
  // General: dcols = dy x W^T, scattered back onto the input pixels each column came from.
  const K = KH * KW * C;
  const M = B * OH * OW;
  const wt = alloc(backend, [1, CO, K]); // packed once by XNNPACK, reused by every chunk
  {
    const w = f32(backend, filter);
    const t = f32(backend, wt);
    for (let k = 0; k < K; k++) for (let o = 0; o < CO; o++) t[o * K + k] = w[k * CO + o]!;
  }
  const out = alloc(backend, [B, H, W, C]);
  f32(backend, out).fill(0);
  const rows = chunkRows(M, Math.max(K, CO));
  for (let m0 = 0; m0 < M; m0 += rows) {
    const mc = Math.min(rows, M - m0);
    const a = alloc(backend, [1, mc, CO]);
    f32(backend, a).set(f32(backend, dy).subarray(m0 * CO, (m0 + mc) * CO));
    const prod = matMul(backend, a, wt); // [1, mc, K]
    free(backend, a);
    const p = f32(backend, prod);
    const d = f32(backend, out);
    for (let j = 0; j < mc; j++) {
      const m = m0 + j;
      const ow = m % OW;
      const t = (m - ow) / OW;
      const oh = t % OH;
      const b = (t - oh) / OH;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * SH - top + kh;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * SW - left + kw;
          if (iw < 0 || iw >= W) continue;
          const dst = ((b * H + ih) * W + iw) * C;
          const src = j * K + (kh * KW + kw) * C;
          for (let c = 0; c < C; c++) d[dst + c]! += p[src + c]!;
        }
      }
    }
    free(backend, prod);
  }
  free(backend, wt);
  return out;
}

export type { WasmBackend };
