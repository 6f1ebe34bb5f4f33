/**
 * @file Model fixtures for tests: the YOLO11 and YOLOv8 detection yamls (as the model dicts
 * Ultralytics models carry), two tiny yamls that use every module boxtune builds, and the tfjs
 * backend the model tests run on (wasm: ~70x faster than the plain-JS cpu backend here).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendChoice } from '../../src/main/model/backend';

type Row = [number | number[], number, string, unknown[]];

/** ultralytics/cfg/models/11/yolo11.yaml as a dict. */
export function yolo11Yaml(scale = 'n'): Record<string, unknown> {
  return {
    nc: 80,
    scales: { n: [0.5, 0.25, 1024], s: [0.5, 0.5, 1024], m: [0.5, 1.0, 512], l: [1.0, 1.0, 512], x: [1.0, 1.5, 512] },
    scale,
    backbone: [
      [-1, 1, 'Conv', [64, 3, 2]],
      [-1, 1, 'Conv', [128, 3, 2]],
      [-1, 2, 'C3k2', [256, false, 0.25]],
      [-1, 1, 'Conv', [256, 3, 2]],
      [-1, 2, 'C3k2', [512, false, 0.25]],
      [-1, 1, 'Conv', [512, 3, 2]],
      [-1, 2, 'C3k2', [512, true]],
      [-1, 1, 'Conv', [1024, 3, 2]],
      [-1, 2, 'C3k2', [1024, true]],
      [-1, 1, 'SPPF', [1024, 5]],
      [-1, 2, 'C2PSA', [1024]],
    ] as Row[],
    head: [
      [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']],
      [[-1, 6], 1, 'Concat', [1]],
      [-1, 2, 'C3k2', [512, false]],
      [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']],
      [[-1, 4], 1, 'Concat', [1]],
      [-1, 2, 'C3k2', [256, false]],
      [-1, 1, 'Conv', [256, 3, 2]],
      [[-1, 13], 1, 'Concat', [1]],
      [-1, 2, 'C3k2', [512, false]],
      [-1, 1, 'Conv', [512, 3, 2]],
      [[-1, 10], 1, 'Concat', [1]],
      [-1, 2, 'C3k2', [1024, true]],
      [[16, 19, 22], 1, 'Detect', ['nc']],
    ] as Row[],
  };
}

/** ultralytics/cfg/models/v8/yolov8.yaml as a dict. */
export function yolov8Yaml(scale = 'n'): Record<string, unknown> {
  return {
    nc: 80,
    scales: { n: [0.33, 0.25, 1024], s: [0.33, 0.5, 1024], m: [0.67, 0.75, 768], l: [1.0, 1.0, 512], x: [1.0, 1.25, 512] },
    scale,
    backbone: [
      [-1, 1, 'Conv', [64, 3, 2]],
      [-1, 1, 'Conv', [128, 3, 2]],
      [-1, 3, 'C2f', [128, true]],
      [-1, 1, 'Conv', [256, 3, 2]],
      [-1, 6, 'C2f', [256, true]],
      [-1, 1, 'Conv', [512, 3, 2]],
      [-1, 6, 'C2f', [512, true]],
      [-1, 1, 'Conv', [1024, 3, 2]],
      [-1, 3, 'C2f', [1024, true]],
      [-1, 1, 'SPPF', [1024, 5]],
    ] as Row[],
    head: [
      [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']],
      [[-1, 6], 1, 'Concat', [1]],
      [-1, 3, 'C2f', [512]],
      [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']],
      [[-1, 4], 1, 'Concat', [1]],
      [-1, 3, 'C2f', [256]],
      [-1, 1, 'Conv', [256, 3, 2]],
      [[-1, 12], 1, 'Concat', [1]],
      [-1, 3, 'C2f', [512]],
      [-1, 1, 'Conv', [512, 3, 2]],
      [[-1, 9], 1, 'Concat', [1]],
      [-1, 3, 'C2f', [1024]],
      [[15, 18, 21], 1, 'Detect', ['nc']],
    ] as Row[],
  };
}

/**
 * A tiny YOLO11-style model (about 0.3M parameters) that still uses every module: Conv, C3k2 with
 * Bottleneck and with C3k, C2f, SPPF, C2PSA (one attention head), Upsample, Concat, YOLO11 Detect.
 */
export function tinyYolo11Yaml(nc = 3): Record<string, unknown> {
  return {
    nc,
    scales: { t: [0.5, 0.25, 1024] },
    scale: 't',
    backbone: [
      [-1, 1, 'Conv', [32, 3, 2]],
      [-1, 1, 'Conv', [64, 3, 2]],
      [-1, 2, 'C3k2', [128, false, 0.25]],
      [-1, 1, 'Conv', [128, 3, 2]],
      [-1, 2, 'C3k2', [128, true]],
      [-1, 1, 'Conv', [256, 3, 2]],
      [-1, 1, 'C2f', [256, true]],
      [-1, 1, 'Conv', [512, 3, 2]],
      [-1, 1, 'SPPF', [512, 5]],
      [-1, 2, 'C2PSA', [512]],
    ] as Row[],
    head: [
      [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']],
      [[-1, 6], 1, 'Concat', [1]],
      [-1, 1, 'C3k2', [256, false]],
      [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']],
      [[-1, 4], 1, 'Concat', [1]],
      [-1, 1, 'C3k2', [128, false]],
      [-1, 1, 'Conv', [128, 3, 2]],
      [[-1, 12], 1, 'Concat', [1]],
      [-1, 1, 'C3k2', [256, false]],
      [-1, 1, 'Conv', [256, 3, 2]],
      [[-1, 9], 1, 'Concat', [1]],
      [-1, 1, 'C3k2', [512, true]],
      [[15, 18, 21], 1, 'Detect', ['nc']],
    ] as Row[],
  };
}

/**
 * tinyYolo11Yaml without its SPPF: a network that is smooth everywhere (max pooling has kinks),
 * for finite-difference gradient checks.
 */
export function smoothYolo11Yaml(nc = 3): Record<string, unknown> {
  const y = tinyYolo11Yaml(nc) as { backbone: Row[]; head: Row[] };
  const backbone = y.backbone.filter((r) => r[2] !== 'SPPF');
  const head: Row[] = [
    [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']],
    [[-1, 6], 1, 'Concat', [1]],
    [-1, 1, 'C3k2', [256, false]],
    [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']],
    [[-1, 4], 1, 'Concat', [1]],
    [-1, 1, 'C3k2', [128, false]],
    [-1, 1, 'Conv', [128, 3, 2]],
    [[-1, 11], 1, 'Concat', [1]],
    [-1, 1, 'C3k2', [256, false]],
    [-1, 1, 'Conv', [256, 3, 2]],
    [[-1, 8], 1, 'Concat', [1]],
    [-1, 1, 'C3k2', [512, true]],
    [[14, 17, 20], 1, 'Detect', ['nc']],
  ];
  return { ...y, backbone, head };
}

/** A tiny YOLOv8-style model (C2f only, so the legacy Detect head). */
export function tinyYolov8Yaml(nc = 2): Record<string, unknown> {
  return {
    nc,
    depth_multiple: 0.33,
    width_multiple: 0.125,
    backbone: [
      [-1, 1, 'Conv', [64, 3, 2]],
      [-1, 1, 'Conv', [128, 3, 2]],
      [-1, 3, 'C2f', [128, true]],
      [-1, 1, 'Conv', [256, 3, 2]],
      [-1, 1, 'C2f', [256, true]],
      [-1, 1, 'Conv', [512, 3, 2]],
      [-1, 1, 'SPPF', [512, 5]],
    ] as Row[],
    head: [
      [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']],
      [[-1, 4], 1, 'Concat', [1]],
      [-1, 1, 'C2f', [256]],
      [-1, 1, 'Conv', [256, 3, 2]],
      [[-1, 6], 1, 'Concat', [1]],
      [-1, 1, 'C2f', [512]],
      [[9, 12], 1, 'Detect', ['nc']],
    ] as Row[],
  };
}

let backend: Promise<BackendChoice> | null = null;

/** Starts the backend model tests use: wasm when it loads, else cpu. Idempotent. */
export function useModelTestBackend(): Promise<BackendChoice> {
  backend ??= initBackend('wasm');
  return backend;
}

/** A deterministic pseudo-random image batch in 0..1. [b, h, w, 3] */
export function randomImages(b: number, h: number, w: number, seed = 1): tf.Tensor4D {
  const n = b * h * w * 3;
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 4294967296;
  }
  return tf.tensor4d(v, [b, h, w, 3]);
}

/** Max |a - b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
