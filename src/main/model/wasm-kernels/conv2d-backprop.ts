/**
 * @file Conv2DBackpropFilter (missing from tfjs-backend-wasm) and Conv2DBackpropInput (present but
 * a scalar C loop, ~10x slower than the forward conv) for the wasm backend, NHWC, dilations 1,
 * any strides and pads ('same', 'valid', a number, explicit).
 *
 * Both turn the work into XNNPACK calls of the wasm backend itself and keep the TypeScript part
 * to memory reshuffles (im2col / col2im), linear in the data:
 *
 *   dW [KH*KW*C, CO] = colsT [KH*KW*C, M] x dy [M, CO]     (M = B*OH*OW; colsT built here)
 *                   (or its transpose dyT x cols when CO > KH*KW*C: XNNPACK wants the larger as rows)
 *   dx, stride 1:   conv2d(dy, W flipped 180 deg, in/out swapped, pads KH-1-top ...)  (XNNPACK conv)
 *   dx, otherwise:  dcols [M, KH*KW*C] = dy [M, CO] x W^T [CO, KH*KW*C], then col2im (scatter-add)
 *
 * M is processed in chunks (see chunkRows): bounded temporaries, and short float32 dot products
 * whose partial results are summed in float64.
 */
import * as tf from '@tensorflow/tfjs-core';
import { alloc, chunkRows, f32, free, matMul, runWasmKernel, type WasmBackend, type WasmKernelArgs } from './wasm-heap';

/** Runs shorter than this are copied by a JS loop; longer ones by copyWithin (a native memmove). */
const MEMMOVE_MIN = 24;
/** Pixels per tile while transposing NHWC rows into channel-major planes. */
const TILE = 64;

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
  };
}

/** The whole wasm heap as floats (valid until the next allocation), and a tensor's float offset in it. */
function heapOf(backend: WasmBackend, info: tf.TensorInfo): { heap: Float32Array; at: number } {
  const v = f32(backend, info);
  return { heap: new Float32Array(v.buffer), at: v.byteOffset >> 2 };
}

function copyRun(h: Float32Array, dst: number, src: number, n: number): void {
  if (n >= MEMMOVE_MIN) h.copyWithin(dst, src, src + n);
  else for (let i = 0; i < n; i++) h[dst + i] = h[src + i]!;
}

/**
 * x split by stride phase and made channel-major: plane (ph, pw) holds x[b, ph + SH*i, pw + SW*j, c]
 * at [c][b][i][j]. Every im2col column of a tap then reads contiguous runs of one plane row, so
 * the expansion by KH*KW is memmoves; only this transpose gathers (once per input element).
 */
class Planes {
  readonly off: number[] = [];
  readonly hp: number[] = [];
  readonly wp: number[] = [];
  readonly size: number;

  constructor(readonly g: ConvGeometry) {
    const { H, W, C, B, SH, SW } = g;
    let size = 0;
    for (let ph = 0; ph < SH; ph++) {
      for (let pw = 0; pw < SW; pw++) {
        const hp = Math.max(0, Math.ceil((H - ph) / SH));
        const wp = Math.max(0, Math.ceil((W - pw) / SW));
        this.off.push(size);
        this.hp.push(hp);
        this.wp.push(wp);
        size += C * B * hp * wp;
      }
    }
    this.size = size;
  }

  /** Fills the planes (at float offset `at` of `h`) from x (at `xAt`). */
  fill(h: Float32Array, at: number, xAt: number): void {
    const { B, H, W, C, SH, SW } = this.g;
    for (let b = 0; b < B; b++) {
      for (let ih = 0; ih < H; ih++) {
        const ph = ih % SH;
        const i = (ih - ph) / SH;
        const rowSrc = xAt + (b * H + ih) * W * C;
        for (let pw = 0; pw < SW; pw++) {
          const p = ph * SW + pw;
          const hp = this.hp[p]!;
          const wp = this.wp[p]!;
          const base = at + this.off[p]! + (b * hp + i) * wp; // + c * B * hp * wp + j
          const cStride = B * hp * wp;
          for (let j0 = 0; j0 < wp; j0 += TILE) {
            const j1 = Math.min(wp, j0 + TILE);
            for (let c = 0; c < C; c++) {
              const d = base + c * cStride;
              for (let j = j0; j < j1; j++) h[d + j] = h[rowSrc + (j * SW + pw) * C + c]!;
            }
          }
        }
      }
    }
  }

  /**
   * Transposed im2col of the output rows (b, oh) = r0 .. r0 + rc - 1 (flattened b * OH + oh) into
   * cols [KH*KW*C, rc*OW] at `colsAt`: row (kh*KW + kw)*C + c holds x at the pixel each output
   * position reads through tap (kh, kw), channel c, and 0 in the padding.
   */
  im2colT(h: Float32Array, at: number, colsAt: number, r0: number, rc: number): void {
    const { B, C, OH, OW, KH, KW, SH, SW, top, left } = this.g;
    const mc = rc * OW;
    for (let kh = 0; kh < KH; kh++) {
      const dh = kh - top;
      const ph = ((dh % SH) + SH) % SH;
      const qi = (dh - ph) / SH; // input row = (oh + qi) * SH + ph
      for (let kw = 0; kw < KW; kw++) {
        const dw = kw - left;
        const pw = ((dw % SW) + SW) % SW;
        const qj = (dw - pw) / SW;
        const p = ph * SW + pw;
        const hp = this.hp[p]!;
        const wp = this.wp[p]!;
        const lo = Math.min(OW, Math.max(0, -qj));
        const hi = Math.max(lo, Math.min(OW, wp - qj));
        const cStride = B * hp * wp;
        const planeAt = at + this.off[p]!;
        for (let c = 0; c < C; c++) {
          const rowDst = colsAt + ((kh * KW + kw) * C + c) * mc;
          const cAt = planeAt + c * cStride;
          for (let t = 0; t < rc; t++) {
            const r = r0 + t;
            const oh = r % OH;
            const b = (r - oh) / OH;
            const i = oh + qi;
            const d = rowDst + t * OW;
            if (i < 0 || i >= hp || hi === lo) {
              h.fill(0, d, d + OW);
              continue;
            }
            if (lo > 0) h.fill(0, d, d + lo);
            copyRun(h, d + lo, cAt + (b * hp + i) * wp + lo + qj, hi - lo);
            if (hi < OW) h.fill(0, d + hi, d + OW);
          }
        }
      }
    }
  }
}

/** A [rows, C] block of x (at `src`) transposed into [C, rows] (at `dst`): a 1x1 stride-1 conv's colsT. */
function transposeRows(h: Float32Array, src: number, dst: number, rows: number, C: number): void {
  for (let j0 = 0; j0 < rows; j0 += TILE) {
    const j1 = Math.min(rows, j0 + TILE);
    for (let c = 0; c < C; c++) {
      const d = dst + c * rows;
      for (let j = j0; j < j1; j++) h[d + j] = h[src + j * C + c]!;
    }
  }
}

/**
 * Plain im2col of the output rows r0 .. r0 + rc - 1 into cols [rc*OW, KH*KW*C] at `colsAt`: each
 * row holds, tap by tap, the C channels of the input pixel that output position reads (0 in the
 * padding).
 */
function im2col(h: Float32Array, xAt: number, colsAt: number, g: ConvGeometry, r0: number, rc: number): void {
  const { H, W, C, OH, OW, KH, KW, SH, SW, top, left } = g;
  const K = KH * KW * C;
  for (let t = 0; t < rc; t++) {
    const r = r0 + t;
    const oh = r % OH;
    const b = (r - oh) / OH;
    for (let ow = 0; ow < OW; ow++) {
      let d = colsAt + (t * OW + ow) * K;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * SH - top + kh;
        for (let kw = 0; kw < KW; kw++, d += C) {
          const iw = ow * SW - left + kw;
          if (ih < 0 || ih >= H || iw < 0 || iw >= W) h.fill(0, d, d + C);
          else copyRun(h, d, xAt + ((b * H + ih) * W + iw) * C, C);
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
  const { B, OH, OW, C, CO, KH, KW, SH, SW, top, left } = g;
  const M = B * OH * OW;
  const K = KH * KW * C;
  const outShape = [KH, KW, C, CO];
  if (M === 0 || K === 0 || CO === 0) {
    const out = alloc(backend, outShape);
    f32(backend, out).fill(0);
    return out;
  }
  // XNNPACK's GEMM runs fastest with the larger of K and CO as its rows (2-4x on skinny shapes), so
  // when CO > K (1x1 expansions) we compute dW^T [CO, K] = dyT [CO, M] x cols [M, K] instead.
  const byRowsOfDy = CO > K;
  // 1x1, stride 1, no padding: x's rows are the im2col rows already.
  const pointwise = KH === 1 && KW === 1 && SH === 1 && SW === 1 && top === 0 && left === 0 && OH === g.H && OW === g.W;
  const planes = pointwise || byRowsOfDy ? null : new Planes(g);
  const planesT = planes ? alloc(backend, [planes.size]) : null;
  if (planes && planesT) {
    const { heap, at } = heapOf(backend, planesT);
    planes.fill(heap, at, heapOf(backend, x).at);
  }
  const rowsPerChunk = Math.max(1, Math.floor(chunkRows(M, Math.max(K, CO)) / OW)); // whole output rows
  const totalRows = B * OH;
  let acc: Float64Array | null = null;
  let out: tf.TensorInfo | null = null;
  for (let r0 = 0; r0 < totalRows; r0 += rowsPerChunk) {
    const rc = Math.min(rowsPerChunk, totalRows - r0);
    const m0 = r0 * OW;
    const mc = rc * OW;
    // b gets a fresh id every chunk: XNNPACK caches its packing of b by id.
    const a = alloc(backend, byRowsOfDy ? [1, CO, mc] : [1, K, mc]);
    const b = alloc(backend, byRowsOfDy ? [1, mc, K] : [1, mc, CO]);
    const { heap, at: aAt } = heapOf(backend, a);
    const bAt = heapOf(backend, b).at;
    const dyAt = heapOf(backend, dy).at;
    const xAt = heapOf(backend, x).at;
    if (byRowsOfDy) {
      transposeRows(heap, dyAt + m0 * CO, aAt, mc, CO); // dyT
      if (pointwise) heap.copyWithin(bAt, xAt + m0 * C, xAt + (m0 + mc) * C);
      else im2col(heap, xAt, bAt, g, r0, rc);
    } else {
      heap.copyWithin(bAt, dyAt + m0 * CO, dyAt + (m0 + mc) * CO);
      if (planes && planesT) planes.im2colT(heap, heapOf(backend, planesT).at, aAt, r0, rc);
      else transposeRows(heap, xAt + m0 * C, aAt, mc, C); // colsT
    }
    const prod = matMul(backend, a, b); // [1, K, CO], or [1, CO, K] by rows of dy
    free(backend, a, b);
    if (mc === M && !byRowsOfDy) {
      out = { dataId: prod.dataId, shape: outShape, dtype: 'float32' };
      break;
    }
    const p = f32(backend, prod);
    acc ??= new Float64Array(K * CO);
    if (byRowsOfDy) {
      for (let o = 0; o < CO; o++) for (let k = 0; k < K; k++) acc[k * CO + o]! += p[o * K + k]!;
    } else {
      for (let i = 0; i < p.length; i++) acc[i]! += p[i]!;
    }
    free(backend, prod);
  }
  if (planesT) free(backend, planesT);
  if (out) return out;
  out = alloc(backend, outShape);
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

