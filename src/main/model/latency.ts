/**
 * @file Forward-pass latency of a model on the active backend, for `npm run bench` and the UI's
 * backend report: eval-mode forward + decode of one image, read back to the CPU, as predict does.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { YoloModel } from './yolo';

export interface LatencyResult {
  backend: string;
  imgsz: number;
  batch: number;
  runs: number;
  /** Milliseconds per forward (batch), after warm-up. */
  medianMs: number;
  minMs: number;
  meanMs: number;
}

/** Times `runs` forwards of a [batch, imgsz, imgsz, 3] input after `warmup` untimed ones. */
export async function measureForwardLatency(
  model: YoloModel,
  opts: { imgsz: number; batch?: number; warmup?: number; runs?: number },
): Promise<LatencyResult> {
  const batch = opts.batch ?? 1;
  const runs = opts.runs ?? 10;
  const x = tf.fill([batch, opts.imgsz, opts.imgsz, 3], 0.5) as tf.Tensor4D;
  try {
    for (let i = 0; i < (opts.warmup ?? 2); i++) {
      const out = model.predict(x);
      await out.data();
      out.dispose();
    }
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const out = model.predict(x);
      await out.data();
      times.push(performance.now() - t0);
      out.dispose();
    }
    times.sort((a, b) => a - b);
    return {
      backend: tf.getBackend(),
      imgsz: opts.imgsz,
      batch,
      runs,
      medianMs: times[Math.floor(times.length / 2)]!,
      minMs: times[0]!,
      meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    };
  } finally {
    x.dispose();
  }
}
