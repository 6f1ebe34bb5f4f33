/**
 * @file DepthwiseConv2dNativeBackpropFilter / BackpropInput for the wasm backend (it has neither),
 * NHWC, any strides, pads and dilations, channel multiplier >= 1. A depthwise conv does C*M MACs
 * per tap and pixel (YOLO11's head and PSA use 3x3 ones on <= 256 channels), so direct loops with
 * the channel innermost (contiguous on both sides) are cheap; filter sums accumulate in float64.
 */
import * as tf from '@tensorflow/tfjs-core';
import { alloc, f32, type WasmKernelArgs } from './wasm-heap';

type DwGeometry = {
  B: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  CO: number;
  MUL: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  DH: number;
  DW: number;
  top: number;
  left: number;
};

function geometry(info: tf.backend_util.Conv2DInfo, op: string): DwGeometry {
  if (info.dataFormat !== 'channelsLast') throw new Error(`wasm ${op}: only NHWC (channelsLast) is supported`);
  return {
    B: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    CO: info.outChannels,
    MUL: info.outChannels / info.inChannels,
    KH: info.filterHeight,
    KW: info.filterWidth,
    SH: info.strideHeight,
    SW: info.strideWidth,
    DH: info.dilationHeight,
    DW: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/** dW for depthwiseConv2d. inputs x [B,H,W,C], dy [B,OH,OW,C*MUL] -> filterShape [KH,KW,C,MUL] */
export function depthwiseConv2dNativeBackpropFilter(args: WasmKernelArgs<'x' | 'dy', tf.DepthwiseConv2dNativeBackpropFilterAttrs>): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const { strides, pad, dimRoundingMode, dilations, filterShape } = attrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const { B, H, W, C, OH, OW, CO, MUL, KH, KW, SH, SW, DH, DW, top, left } = geometry(info, 'DepthwiseConv2dNativeBackpropFilter');
  const out = alloc(backend, [KH, KW, C, MUL]);
  const xv = f32(backend, x);
  const dyv = f32(backend, dy);
  const o = f32(backend, out);
  const acc = new Float64Array(CO);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      acc.fill(0);
      for (let b = 0; b < B; b++) {
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * SH - top + kh * DH;
          if (ih < 0 || ih >= H) continue;
          for (let ow = 0; ow < OW; ow++) {
            const iw = ow * SW - left + kw * DW;
            if (iw < 0 || iw >= W) continue;
            const xo = ((b * H + ih) * W + iw) * C;
            const yo = ((b * OH + oh) * OW + ow) * CO;
            if (MUL === 1) {
              for (let c = 0; c < C; c++) acc[c]! += xv[xo + c]! * dyv[yo + c]!;
            } else {
              for (let c = 0; c < C; c++) {
                const xc = xv[xo + c]!;
                for (let q = 0; q < MUL; q++) acc[c * MUL + q]! += xc * dyv[yo + c * MUL + q]!;
              }
            }
          }
        }
      }
      o.set(acc, (kh * KW + kw) * CO);
    }
  }
  return out;
}

/** dx for depthwiseConv2d. inputs dy [B,OH,OW,C*MUL], filter [KH,KW,C,MUL] -> inputShape [B,H,W,C] */
export function depthwiseConv2dNativeBackpropInput(args: WasmKernelArgs<'dy' | 'filter', tf.DepthwiseConv2dNativeBackpropInputAttrs>): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dimRoundingMode, dilations, inputShape } = attrs;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const { B, H, W, C, OH, OW, CO, MUL, KH, KW, SH, SW, DH, DW, top, left } = geometry(info, 'DepthwiseConv2dNativeBackpropInput');
  const out = alloc(backend, [B, H, W, C]);
  const dyv = f32(backend, dy);
  const fv = f32(backend, filter);
  const dx = f32(backend, out);
  dx.fill(0);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * SH - top + kh * DH;
        if (ih < 0 || ih >= H) continue;
        for (let ow = 0; ow < OW; ow++) {
          const yo = ((b * OH + oh) * OW + ow) * CO;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW - left + kw * DW;
            if (iw < 0 || iw >= W) continue;
            const xo = ((b * H + ih) * W + iw) * C;
            const fo = (kh * KW + kw) * CO;
            if (MUL === 1) {
              for (let c = 0; c < C; c++) dx[xo + c]! += fv[fo + c]! * dyv[yo + c]!;
            } else {
              for (let c = 0; c < C; c++) {
                let s = 0;
                for (let q = 0; q < MUL; q++) s += fv[fo + c * MUL + q]! * dyv[yo + c * MUL + q]!;
                dx[xo + c]! += s;
              }
            }
          }
        }
      }
    }
  }
  return out;
}
