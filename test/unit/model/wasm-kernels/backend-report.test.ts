/**
 * describeBackends(): on this machine (wasm and cpu train, the libtensorflow ones are not installed,
 * onnxruntime predicts on the CPU), and on made-up installs (fake package folders and library
 * folders) for the reasons a user with a GPU would see.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDispatcher } from '../../../../src/main/app/dispatch';
import { BoxtuneService } from '../../../../src/main/app/service';
import { initBackend } from '../../../../src/main/model/backend';
import { describeBackends, type ProbeEnv } from '../../../../src/main/model/backend-report';
import { tmpDir } from '../../../helpers/tmp';

const require = createRequire(import.meta.url);
const realDir = (pkg: string): string | null => {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
};

function touch(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '');
}

/** A fake install: packages from `fake` (folder or null), the real wasm/cpu/onnxruntime otherwise, libraries only in `libDir`. */
function fakeEnv(fake: Record<string, string | null>, libDir: string, over: Partial<ProbeEnv> = {}): Partial<ProbeEnv> {
  return {
    platform: 'linux',
    arch: 'x64',
    packageDir: (pkg) => (pkg in fake ? fake[pkg]! : realDir(pkg)),
    libraryDirs: () => [libDir],
    loaderCache: () => new Set(),
    ...over,
  };
}

/** A tfjs-node(-gpu) folder as its install leaves it: libtensorflow and the built binding. */
function fakeTfjsNode(root: string, name: string, opts: { lib?: boolean; binding?: boolean } = {}): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `@tensorflow/${name}`, version: '4.22.0' }));
  if (opts.lib ?? true) touch(path.join(dir, 'deps/lib/libtensorflow.so.2'));
  if (opts.binding ?? true) touch(path.join(dir, 'lib/napi-v8/tfjs_binding.node'));
  return dir;
}

function fakeOrt(root: string, withCuda: boolean): string {
  const dir = path.join(root, 'onnxruntime-node');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'onnxruntime-node', version: '1.30.0' }));
  touch(path.join(dir, 'bin/napi-v6/linux/x64/onnxruntime_binding.node'));
  if (withCuda) {
    touch(path.join(dir, 'bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so'));
    touch(path.join(dir, 'bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so'));
  }
  return dir;
}

describe('describeBackends', () => {
  it('on this machine: wasm and cpu train, the libtensorflow backends say why not; onnxruntime predicts on the CPU', async () => {
    const r = describeBackends();
    expect(r.training.backends.map((b) => b.name)).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
    const by = Object.fromEntries(r.training.backends.map((b) => [b.name, b]));
    expect(by.wasm!.available).toBe(true);
    expect(by.wasm!.detail).toMatch(/^SIMD supported, 1 thread \(tfjs-backend-wasm runs single-threaded under Node\)/);
    expect(by.cpu!.available).toBe(true);
    if (!realDir('@tensorflow/tfjs-node-gpu')) {
      expect(by['tensorflow-gpu']!.available).toBe(false);
      expect(by['tensorflow-gpu']!.detail).toMatch(/^@tensorflow\/tfjs-node-gpu is not installed \(its install downloads libtensorflow, which failed or was skipped\)/);
    }
    if (!realDir('@tensorflow/tfjs-node')) {
      expect(by.tensorflow!.available).toBe(false);
      expect(by.tensorflow!.detail).toBe('@tensorflow/tfjs-node is not installed (its install downloads libtensorflow, which failed or was skipped)');
    }
    if (!realDir('@tensorflow/tfjs-node') && !realDir('@tensorflow/tfjs-node-gpu')) {
      expect(r.training.chosen).toBe('wasm');
      expect(r.training.summary).toMatch(/^Training runs on WebAssembly \(XNNPACK\), judged from the installed files.* tfjs-node-gpu \(CUDA\): @tensorflow\/tfjs-node-gpu is not installed/);
    }
    expect(r.training.verified).toBe(false);

    expect(r.inference.runtime).toMatch(/^onnxruntime-node \d+\.\d+\.\d+$/);
    expect(r.inference.providers.map((p) => p.name)).toEqual(['cuda', 'cpu']);
    expect(r.inference.providers[1]!.available).toBe(true);
    const ortBin = path.join(realDir('onnxruntime-node')!, 'bin/napi-v6/linux/x64');
    if (process.platform === 'linux' && process.arch === 'x64' && !fs.existsSync(path.join(ortBin, 'libonnxruntime_providers_cuda.so'))) {
      expect(r.inference.providers[0]!.available).toBe(false);
      expect(r.inference.providers[0]!.detail).toMatch(/^onnxruntime-node's CUDA provider is not installed \(no libonnxruntime_providers_cuda\.so in bin\/napi-v6\/linux\/x64/);
      expect(r.inference.chosen).toBe('cpu');
    }

    // With the worker's real choice, the report says what happened rather than what files suggest.
    const choice = await initBackend();
    const verified = describeBackends({ started: choice });
    expect(verified.training.verified).toBe(true);
    expect(verified.training.chosen).toBe(choice.name);
    for (const reason of choice.reasons) expect(verified.training.backends.find((b) => b.name === reason.backend)!.detail).toBe(reason.reason);
  });

  it('tfjs-node-gpu installed without CUDA 11: names the missing libraries', () => {
    const root = tmpDir();
    const libs = path.join(root, 'libs');
    touch(path.join(libs, 'libcuda.so.1'));
    touch(path.join(libs, 'libcublas.so.11'));
    const gpu = fakeTfjsNode(root, 'tfjs-node-gpu');
    const r = describeBackends({ env: fakeEnv({ '@tensorflow/tfjs-node-gpu': gpu, '@tensorflow/tfjs-node': null }, libs) });
    expect(r.training.backends[0]).toMatchObject({
      available: false,
      detail: 'libtensorflow is installed but CUDA 11.x libraries (libcudart.so.11.0, libcudnn.so.8) were not found on the library path',
    });
    expect(r.training.chosen).toBe('wasm');

    const noDriver = describeBackends({ env: fakeEnv({ '@tensorflow/tfjs-node-gpu': gpu }, path.join(root, 'empty')) });
    expect(noDriver.training.backends[0]!.detail).toBe(
      'libtensorflow is installed but no NVIDIA driver (libcuda.so.1) and no CUDA 11.x libraries (libcudart.so.11.0, libcublas.so.11, libcudnn.so.8) were found',
    );
  });

  it('tfjs-node-gpu with the driver and CUDA 11 libraries is chosen', () => {
    const root = tmpDir();
    const libs = path.join(root, 'libs');
    for (const l of ['libcuda.so.1', 'libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8']) touch(path.join(libs, l));
    const r = describeBackends({ env: fakeEnv({ '@tensorflow/tfjs-node-gpu': fakeTfjsNode(root, 'tfjs-node-gpu'), '@tensorflow/tfjs-node': fakeTfjsNode(root, 'tfjs-node') }, libs) });
    expect(r.training.backends[0]).toMatchObject({ name: 'tensorflow-gpu', available: true });
    expect(r.training.backends[0]!.detail).toContain(path.join(libs, 'libcudart.so.11.0'));
    expect(r.training.backends[1]).toMatchObject({ name: 'tensorflow', available: true });
    expect(r.training.chosen).toBe('tensorflow-gpu');
    expect(r.training.summary).toBe('Training runs on tfjs-node-gpu (CUDA), judged from the installed files (the training worker confirms when it starts).');
  });

  it('a half-installed tfjs-node, macOS, a load failure the worker saw, a wasm engine without SIMD', () => {
    const root = tmpDir();
    const libs = path.join(root, 'libs');
    const noLib = fakeTfjsNode(root, 'tfjs-node', { lib: false });
    let r = describeBackends({ env: fakeEnv({ '@tensorflow/tfjs-node': noLib, '@tensorflow/tfjs-node-gpu': null }, libs) });
    expect(r.training.backends[1]!.detail).toBe(
      '@tensorflow/tfjs-node is installed but libtensorflow is missing (no deps/lib/libtensorflow.so.2: its download failed or was skipped; run `npm rebuild @tensorflow/tfjs-node` online)',
    );
    const noBinding = fakeTfjsNode(root, 'tfjs-node-b', { binding: false });
    r = describeBackends({ env: fakeEnv({ '@tensorflow/tfjs-node': noBinding }, libs) });
    expect(r.training.backends[1]!.detail).toMatch(/native binding \(lib\/napi-v\*\/tfjs_binding\.node\) was not built/);

    r = describeBackends({ env: fakeEnv({ '@tensorflow/tfjs-node-gpu': fakeTfjsNode(root, 'gpu-mac') }, libs, { platform: 'darwin', arch: 'arm64' }) });
    expect(r.training.backends[0]!.detail).toBe('@tensorflow/tfjs-node-gpu has no CUDA build for darwin-arm64 (only Linux and Windows on x64)');

    // the files look fine, but loading failed in the worker: its words win
    const good = fakeTfjsNode(root, 'tfjs-node-ok');
    r = describeBackends({
      env: fakeEnv({ '@tensorflow/tfjs-node': good, '@tensorflow/tfjs-node-gpu': null }, libs),
      started: {
        name: 'wasm',
        tfName: 'wasm',
        reasons: [
          { backend: 'tensorflow-gpu', reason: '@tensorflow/tfjs-node-gpu is not installed' },
          { backend: 'tensorflow', reason: 'libtensorflow could not be loaded (libstdc++.so.6: version GLIBCXX_3.4.29 not found)' },
        ],
      },
    });
    expect(r.training.backends[1]).toMatchObject({ available: false, detail: 'libtensorflow could not be loaded (libstdc++.so.6: version GLIBCXX_3.4.29 not found)' });
    expect(r.training.chosen).toBe('wasm');
    expect(r.training.verified).toBe(true);

    r = describeBackends({ env: fakeEnv({}, libs, { wasmSimd: () => false }) });
    expect(r.training.backends[2]!.detail).toMatch(/^no SIMD \(the plain build runs, about 3x slower\), 1 thread/);
  });

  it('onnxruntime: the CUDA provider needs its add-on files, then CUDA 12 and cuDNN 9', () => {
    const root = tmpDir();
    const libs = path.join(root, 'libs');
    touch(path.join(libs, 'libcuda.so.1'));
    let r = describeBackends({ env: fakeEnv({ 'onnxruntime-node': fakeOrt(path.join(root, 'a'), true) }, libs) });
    expect(r.inference.providers[0]).toMatchObject({
      name: 'cuda',
      available: false,
      detail: 'the CUDA provider is installed but CUDA 12.x / cuDNN 9 libraries (libcudart.so.12, libcublas.so.12, libcudnn.so.9) were not found on the library path',
    });
    expect(r.inference.chosen).toBe('cpu');
    for (const l of ['libcudart.so.12', 'libcublas.so.12', 'libcudnn.so.9']) touch(path.join(libs, l));
    r = describeBackends({ env: fakeEnv({ 'onnxruntime-node': fakeOrt(path.join(root, 'b'), true) }, libs) });
    expect(r.inference.providers[0]!.available).toBe(true);
    expect(r.inference.chosen).toBe('cuda');
    expect(r.inference.summary).toBe('Predictions run on ONNX Runtime CUDA, onnxruntime-node 1.30.0.');
    r = describeBackends({ env: fakeEnv({ 'onnxruntime-node': null }, libs) });
    expect(r.inference.chosen).toBeNull();
    expect(r.inference.providers[1]!.detail).toBe('onnxruntime-node is not installed');
  });

  it('is the app.backends Api method', async () => {
    const service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir() });
    try {
      const dispatch = createDispatcher(service);
      const res = await dispatch('app.backends', {});
      expect(res.ok).toBe(true);
      const report = (res as { ok: true; value: ReturnType<typeof describeBackends> }).value;
      expect(report.training.backends).toHaveLength(4);
      expect(report.inference.providers).toHaveLength(2);
      expect((await dispatch('app.backends', { probe: true })).ok).toBe(false); // strict: no arguments
    } finally {
      await service.close();
    }
  });
});
