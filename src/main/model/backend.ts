/**
 * @file Picks the tfjs backend, best first: tfjs-node-gpu (CUDA), tfjs-node (CPU libtensorflow),
 * wasm (XNNPACK, SIMD), cpu (plain JS). The native ones are optional dependencies that may be
 * absent or fail to load (no CUDA, no libtensorflow); each failure becomes a reason the app can
 * show ("why not the GPU?") instead of a crash.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { TRAINING_BACKENDS, type TrainingBackendName } from '../../shared/training';
import { registerWasmTrainingKernels } from './wasm-kernels/index';

export type BackendName = TrainingBackendName;

export interface BackendChoice {
  /** The backend now active, as boxtune names it. */
  name: BackendName;
  /** tfjs' own name for it (tensorflow, wasm, cpu). */
  tfName: string;
  /** Why each better backend is not in use, best first. */
  reasons: { backend: BackendName; reason: string }[];
}

const ORDER: readonly BackendName[] = TRAINING_BACKENDS;

const require = createRequire(import.meta.url);

/** Folder holding tfjs-backend-wasm's .wasm binaries. */
export function wasmDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep;
}

/** Imports a package that may not be installed, without the bundler or tsc needing it. */
async function importOptional(spec: string): Promise<unknown> {
  return import(/* @vite-ignore */ spec);
}

function explain(pkg: string, err: unknown): string {
  const msg = (err as Error)?.message ?? String(err);
  if (/Cannot find (module|package)/i.test(msg) || (err as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND') return `${pkg} is not installed`;
  if (/libtensorflow/i.test(msg)) return `libtensorflow could not be loaded (${firstLine(msg)})`;
  if (/libcud|cuda|cudnn/i.test(msg)) return `CUDA libraries not found (${firstLine(msg)})`;
  return `${pkg} failed to load: ${firstLine(msg)}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 200);
}

async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    switch (name) {
      case 'tensorflow-gpu':
      case 'tensorflow': {
        const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
        try {
          await importOptional(pkg);
        } catch (err) {
          return explain(pkg, err);
        }
        if (!tf.findBackend('tensorflow')) return `${pkg} loaded but did not register a backend (a second copy of tfjs-core?)`;
        if (!(await tf.setBackend('tensorflow'))) return `${pkg} backend failed to initialise`;
        if (name === 'tensorflow-gpu') {
          // tfjs-node-gpu silently falls back to CPU when CUDA is missing; ask the backend.
          const gpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
          if (gpu === false) return 'CUDA libraries not found (tfjs-node-gpu is running on CPU)';
        }
        return null;
      }
      case 'wasm': {
        const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(wasmDir());
        registerWasmTrainingKernels(); // the backward kernels tfjs-backend-wasm lacks (Conv2DBackpropFilter, ...)
        if (!(await tf.setBackend('wasm'))) return 'the wasm backend failed to initialise';
        return null;
      }
      case 'cpu':
        await import('@tensorflow/tfjs-backend-cpu');
        if (!(await tf.setBackend('cpu'))) return 'the cpu backend failed to initialise';
        return null;
    }
  } catch (err) {
    return firstLine((err as Error)?.message ?? String(err));
  }
}

/**
 * Activates the best backend that works, or `preferred` (and only those after it) when given.
 * @example const { name, reasons } = await initBackend(); // reasons: [{ backend: 'tensorflow-gpu', reason: '@tensorflow/tfjs-node-gpu is not installed' }, ...]
 */
export async function initBackend(preferred?: BackendName): Promise<BackendChoice> {
  const reasons: BackendChoice['reasons'] = [];
  const start = preferred ? ORDER.indexOf(preferred) : 0;
  for (let i = 0; i < ORDER.length; i++) {
    const name = ORDER[i]!;
    if (i < start) {
      reasons.push({ backend: name, reason: `not tried: ${preferred} was requested` });
      continue;
    }
    const why = await tryBackend(name);
    if (why === null) {
      await tf.ready();
      return { name, tfName: tf.getBackend(), reasons };
    }
    reasons.push({ backend: name, reason: why });
  }
  throw new Error(`no tfjs backend could start: ${reasons.map((r) => `${r.backend}: ${r.reason}`).join('; ')}`);
}
