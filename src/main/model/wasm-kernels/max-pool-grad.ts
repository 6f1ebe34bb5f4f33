/**
 * @file MaxPoolGrad for the wasm backend. tfjs-backend-wasm 4.22 has one, but it routes gradients
 * to the wrong input pixels for some strided pools (e.g. 2x2 stride 2 on an 8x8 input: wrong in
 * nearly every cell, while 9x9 is right); YOLO's SPPF (5x5, stride 1, pad 2) happens to come out
 * right. This one matches the cpu backend: each output's gradient goes to the first maximum of
 * its window in row-major order (padding never wins), NHWC, channels innermost.
 */
import * as tf from '@tensorflow/tfjs-core';
import { alloc, f32, type WasmKernelArgs } from './wasm-heap';

/** dx for maxPool. inputs dy [B,OH,OW,C], input x [B,H,W,C] (output unused) -> [B,H,W,C] */
export function maxPoolGrad(args: WasmKernelArgs<'dy' | 'input' | 'output', tf.MaxPoolGradAttrs>): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, input } = inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: SH, strideWidth: SW } = info;
  const { effectiveFilterHeight: KH, effectiveFilterWidth: KW, dilationHeight: DH, dilationWidth: DW } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = alloc(backend, input.shape);
  const x = f32(backend, input);
  const g = f32(backend, dy);
  const dx = f32(backend, out);
  dx.fill(0);
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        best.fill(-Infinity);
        at.fill(-1);
        for (let kh = 0; kh < KH; kh += DH) {
          const ih = oh * SH - top + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw += DW) {
            const iw = ow * SW - left + kw;
            if (iw < 0 || iw >= W) continue;
            const xo = ((b * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) {
              const v = x[xo + c]!;
              if (v > best[c]!) {
                best[c] = v;
                at[c] = xo + c;
              }
            }
          }
        }
        const yo = ((b * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          const i = at[c]!;
          if (i >= 0) dx[i]! += g[yo + c]!;
        }
      }
    }
  }
  return out;
}
