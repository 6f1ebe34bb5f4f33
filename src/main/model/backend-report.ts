/**
 * @file What boxtune can compute with on this machine, and why not the better options: the tfjs
 * training backends (tfjs-node-gpu, tfjs-node, wasm, cpu, best first) and onnxruntime's execution
 * providers for prediction (CUDA, CPU). Answers "why is training not on my GPU?" precisely.
 *
 * Everything is decided from installed files and the dynamic loader's search path, without loading
 * a native library (loading libtensorflow into the app's main process would be slow and
 * irreversible; training runs in a worker). When the training worker has started a backend,
 * pass its BackendChoice: what actually failed to load then replaces the file checks.
 *
 *   const report = describeBackends();
 *   report.training.chosen                         // 'wasm'
 *   report.training.backends[0].detail             // '@tensorflow/tfjs-node-gpu is not installed (...)'
 *   report.inference.chosen                        // 'cpu'
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BackendReport, BackendStatus, InferenceProviderName, TrainingBackendName } from '../../shared/types';
import type { BackendChoice } from './backend';

/** Where to look; every field has a default that probes this machine (overridable for tests). */
export interface ProbeEnv {
  platform: NodeJS.Platform;
  arch: string;
  /** A package's folder, or null when it is not installed. */
  packageDir(pkg: string): string | null;
  /** Folders the dynamic loader searches for shared libraries. */
  libraryDirs(): string[];
  /** Library file names the loader knows from its cache (Linux: ldconfig -p). */
  loaderCache(): Set<string>;
  /** Whether this JavaScript engine validates a WebAssembly SIMD module. */
  wasmSimd(): boolean;
}

export interface DescribeOptions {
  env?: Partial<ProbeEnv>;
  /** The backend the training worker started (initBackend's result), when known. */
  started?: BackendChoice;
}

const TRAINING: { name: TrainingBackendName; label: string; pkg: string }[] = [
  { name: 'tensorflow-gpu', label: 'tfjs-node-gpu (CUDA)', pkg: '@tensorflow/tfjs-node-gpu' },
  { name: 'tensorflow', label: 'tfjs-node (CPU, libtensorflow)', pkg: '@tensorflow/tfjs-node' },
  { name: 'wasm', label: 'WebAssembly (XNNPACK)', pkg: '@tensorflow/tfjs-backend-wasm' },
  { name: 'cpu', label: 'plain JavaScript', pkg: '@tensorflow/tfjs-backend-cpu' },
];

/** libtensorflow 2.9 (tfjs-node 4.x) is built against CUDA 11.2 and cuDNN 8. */
const CUDA11 = { linux: ['libcudart.so.11.0', 'libcublas.so.11', 'libcudnn.so.8'], win32: ['cudart64_110.dll', 'cublas64_11.dll', 'cudnn64_8.dll'] };
/** onnxruntime-node 1.2x/1.3x's CUDA provider needs CUDA 12 and cuDNN 9. */
const CUDA12 = { linux: ['libcudart.so.12', 'libcublas.so.12', 'libcudnn.so.9'], win32: ['cudart64_12.dll', 'cublas64_12.dll', 'cudnn64_9.dll'] };
const DRIVER = { linux: 'libcuda.so.1', win32: 'nvcuda.dll' };

const require = createRequire(import.meta.url);

function defaultPackageDir(pkg: string): string | null {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return null;
  }
}

let ldCache: Set<string> | null = null;

function defaultLoaderCache(): Set<string> {
  if (ldCache) return ldCache;
  ldCache = new Set();
  if (process.platform !== 'linux') return ldCache;
  for (const bin of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const out = execFileSync(bin, ['-p'], { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] });
      for (const line of out.split('\n')) {
        const m = /^\s*(\S+)\s+\(.*\)\s+=>/.exec(line);
        if (m) ldCache.add(m[1]!);
      }
      break;
    } catch {
      // try the next location
    }
  }
  return ldCache;
}

function defaultLibraryDirs(): string[] {
  const dirs: string[] = [];
  const add = (d: string | undefined) => d && !dirs.includes(d) && dirs.push(d);
  if (process.platform === 'win32') {
    for (const d of (process.env.PATH ?? '').split(';')) add(d);
    if (process.env.CUDA_PATH) add(path.join(process.env.CUDA_PATH, 'bin'));
    add('C:\\Windows\\System32');
    return dirs;
  }
  for (const d of (process.env.LD_LIBRARY_PATH ?? '').split(':')) add(d);
  for (const d of ['/usr/local/cuda/lib64', '/usr/local/cuda/lib', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib']) add(d);
  try {
    for (const e of fs.readdirSync('/usr/local')) if (/^cuda-\d/.test(e)) add(path.join('/usr/local', e, 'lib64'));
  } catch {
    // no /usr/local
  }
  return dirs;
}

/** The WebAssembly global (typed here: the node lib has no DOM/WebAssembly value declarations). */
const wasmApi = (globalThis as { WebAssembly?: { validate(bytes: Uint8Array): boolean } }).WebAssembly;

/** WebAssembly's SIMD proposal, as tfjs-backend-wasm tests it (wasm-feature-detect's module). */
function defaultWasmSimd(): boolean {
  try {
    return !!wasmApi && wasmApi.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]));
  } catch {
    return false;
  }
}

function probeEnv(over: Partial<ProbeEnv> = {}): ProbeEnv {
  return {
    platform: process.platform,
    arch: process.arch,
    packageDir: defaultPackageDir,
    libraryDirs: defaultLibraryDirs,
    loaderCache: defaultLoaderCache,
    wasmSimd: defaultWasmSimd,
    ...over,
  };
}

class Probe {
  private dirs: string[] | null = null;
  constructor(readonly env: ProbeEnv) {}

  /** Where the dynamic loader would find `lib`, or null. */
  findLib(lib: string): string | null {
    this.dirs ??= this.env.libraryDirs();
    for (const d of this.dirs) {
      const p = path.join(d, lib);
      if (fs.existsSync(p)) return p;
    }
    return this.env.loaderCache().has(lib) ? lib : null;
  }

  missing(libs: string[]): string[] {
    return libs.filter((l) => !this.findLib(l));
  }

  get os(): 'linux' | 'win32' | 'darwin' | 'other' {
    const p = this.env.platform;
    return p === 'linux' || p === 'win32' || p === 'darwin' ? p : 'other';
  }
}

const list = (xs: string[]) => xs.join(', ');

/** The native library and binding a tfjs-node(-gpu) install must have, or why it is incomplete. */
function tfjsNodeProblem(probe: Probe, pkg: string, dir: string): string | null {
  const lib = { linux: 'libtensorflow.so.2', darwin: 'libtensorflow.2.dylib', win32: 'tensorflow.dll', other: 'libtensorflow' }[probe.os];
  if (!fs.existsSync(path.join(dir, 'deps', 'lib', lib))) {
    return `${pkg} is installed but libtensorflow is missing (no deps/lib/${lib}: its download failed or was skipped; run \`npm rebuild ${pkg}\` online)`;
  }
  const libDir = path.join(dir, 'lib');
  const bindings = fs.existsSync(libDir) ? fs.readdirSync(libDir).filter((d) => /^napi-v\d+$/.test(d) && fs.existsSync(path.join(libDir, d, 'tfjs_binding.node'))) : [];
  if (bindings.length === 0) return `${pkg} is installed but its native binding (lib/napi-v*/tfjs_binding.node) was not built; run \`npm rebuild ${pkg}\``;
  return null;
}

/** Why CUDA cannot run here for a library built against `cuda` (null when it can), plus where cudart is. */
function cudaProblem(probe: Probe, cuda: typeof CUDA11, version: string): { problem: string | null; found?: string } {
  const os = probe.os;
  if (os !== 'linux' && os !== 'win32') return { problem: `CUDA is not available on ${probe.env.platform}` };
  if (probe.env.arch !== 'x64') return { problem: `no CUDA build for ${probe.env.platform}-${probe.env.arch}` };
  const driver = DRIVER[os];
  const noDriver = !probe.findLib(driver);
  const missing = probe.missing(cuda[os]);
  if (noDriver && missing.length) return { problem: `no NVIDIA driver (${driver}) and no CUDA ${version} libraries (${list(missing)}) were found` };
  if (noDriver) return { problem: `no NVIDIA GPU driver was found (${driver} is not on the library path)` };
  if (missing.length) return { problem: `CUDA ${version} libraries (${list(missing)}) were not found on the library path` };
  return { problem: null, found: probe.findLib(cuda[os][0]!) ?? undefined };
}

function trainingStatus(probe: Probe, b: (typeof TRAINING)[number]): BackendStatus<TrainingBackendName> {
  const status = (available: boolean, detail: string): BackendStatus<TrainingBackendName> => ({ name: b.name, label: b.label, available, detail });
  const dir = probe.env.packageDir(b.pkg);
  switch (b.name) {
    case 'tensorflow-gpu': {
      const cuda = cudaProblem(probe, CUDA11, '11.x');
      if (!dir) {
        const also = cuda.problem ? `; besides, ${cuda.problem}` : '';
        return status(false, `${b.pkg} is not installed (its install downloads libtensorflow, which failed or was skipped)${also}`);
      }
      if ((probe.os !== 'linux' && probe.os !== 'win32') || probe.env.arch !== 'x64') {
        return status(false, `${b.pkg} has no CUDA build for ${probe.env.platform}-${probe.env.arch} (only Linux and Windows on x64)`);
      }
      const broken = tfjsNodeProblem(probe, b.pkg, dir);
      if (broken) return status(false, broken);
      if (cuda.problem) return status(false, `libtensorflow is installed but ${cuda.problem}`);
      return status(true, `libtensorflow with CUDA 11 (${cuda.found ?? 'cudart found'})`);
    }
    case 'tensorflow': {
      if (!dir) return status(false, `${b.pkg} is not installed (its install downloads libtensorflow, which failed or was skipped)`);
      const broken = tfjsNodeProblem(probe, b.pkg, dir);
      if (broken) return status(false, broken);
      return status(true, 'libtensorflow on the CPU, all cores');
    }
    case 'wasm': {
      if (!dir) return status(false, `${b.pkg} is not installed`);
      if (!wasmApi) return status(false, 'this JavaScript engine has no WebAssembly');
      const simd = probe.env.wasmSimd();
      const binary = simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
      if (!fs.existsSync(path.join(dir, 'dist', binary))) return status(false, `${b.pkg} is installed without its binary (dist/${binary})`);
      const simdText = simd ? 'SIMD supported' : 'no SIMD (the plain build runs, about 3x slower)';
      return status(true, `${simdText}, 1 thread (tfjs-backend-wasm runs single-threaded under Node); boxtune supplies the gradient kernels it lacks`);
    }
    case 'cpu':
      if (!dir) return status(false, `${b.pkg} is not installed`);
      return status(true, 'plain JavaScript kernels: always works, but trains convolutions about 100x slower than wasm');
  }
}

function inferenceStatuses(probe: Probe): { runtime: string; providers: BackendStatus<InferenceProviderName>[] } {
  const pkg = 'onnxruntime-node';
  const dir = probe.env.packageDir(pkg);
  const cpu = (available: boolean, detail: string): BackendStatus<InferenceProviderName> => ({ name: 'cpu', label: 'ONNX Runtime CPU', available, detail });
  const cuda = (available: boolean, detail: string): BackendStatus<InferenceProviderName> => ({ name: 'cuda', label: 'ONNX Runtime CUDA', available, detail });
  if (!dir) return { runtime: pkg, providers: [cuda(false, `${pkg} is not installed`), cpu(false, `${pkg} is not installed`)] };
  let version = '';
  try {
    version = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? '';
  } catch {
    // unreadable package.json: no version shown
  }
  const runtime = version ? `${pkg} ${version}` : pkg;
  const { platform, arch } = probe.env;
  const binRoot = path.join(dir, 'bin');
  const napi = fs.existsSync(binRoot) ? fs.readdirSync(binRoot).filter((d) => /^napi-v\d+$/.test(d)).sort() : [];
  const binDir = napi.map((n) => path.join(binRoot, n, platform, arch)).find((d) => fs.existsSync(path.join(d, 'onnxruntime_binding.node')));
  if (!binDir) {
    const why = `${pkg} has no build for ${platform}-${arch} (no bin/napi-v*/${platform}/${arch}/onnxruntime_binding.node)`;
    return { runtime, providers: [cuda(false, why), cpu(false, why)] };
  }
  const rel = path.relative(dir, binDir).split(path.sep).join('/');
  const cpuStatus = cpu(true, `${rel}, all cores`);
  const os = probe.os;
  if ((os !== 'linux' && os !== 'win32') || arch !== 'x64') return { runtime, providers: [cuda(false, `${pkg} has no CUDA provider for ${platform}-${arch}`), cpuStatus] };
  const providerLib = os === 'linux' ? 'libonnxruntime_providers_cuda.so' : 'onnxruntime_providers_cuda.dll';
  if (!fs.existsSync(path.join(binDir, providerLib))) {
    return {
      runtime,
      providers: [
        cuda(false, `${pkg}'s CUDA provider is not installed (no ${providerLib} in ${rel}; \`npm install\` fetches it only where an NVIDIA GPU is present: run \`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/${pkg}/script/install.js\`)`),
        cpuStatus,
      ],
    };
  }
  const c = cudaProblem(probe, CUDA12, '12.x / cuDNN 9');
  if (c.problem) return { runtime, providers: [cuda(false, `the CUDA provider is installed but ${c.problem}`), cpuStatus] };
  return { runtime, providers: [cuda(true, `${providerLib} with CUDA 12 (${c.found ?? 'cudart found'})`), cpuStatus] };
}

/**
 * What trains and what predicts on this machine, best option first, each with why it can or cannot
 * run. `started` (the training worker's initBackend result) makes the training choice and its
 * load failures authoritative; without it the choice is the best backend whose files are present.
 */
/** onnxruntime's providers on this machine (CUDA first), each with why it can or cannot run. */
export function describeInferenceProviders(env?: Partial<ProbeEnv>): BackendStatus<InferenceProviderName>[] {
  return inferenceStatuses(new Probe(probeEnv(env))).providers;
}

export function describeBackends(opts: DescribeOptions = {}): BackendReport {
  const probe = new Probe(probeEnv(opts.env));
  const backends = TRAINING.map((b) => trainingStatus(probe, b));
  const started = opts.started;
  if (started) {
    const rank = TRAINING.findIndex((b) => b.name === started.name);
    backends.forEach((s, i) => {
      const tried = started.reasons.find((r) => r.backend === s.name);
      if (i < rank && tried && !tried.reason.startsWith('not tried')) {
        s.available = false;
        s.detail = tried.reason; // what loading it actually said
      }
      if (i === rank) s.available = true;
    });
  }
  const chosenTraining = started?.name ?? backends.find((s) => s.available)?.name ?? null;
  const { runtime, providers } = inferenceStatuses(probe);
  const chosenInference = providers.find((p) => p.available)?.name ?? null;

  const label = (n: string | null, list: BackendStatus[]) => list.find((s) => s.name === n)?.label ?? 'nothing';
  const better = (list: BackendStatus[], n: string | null) => {
    const i = list.findIndex((s) => s.name === n);
    return (i < 0 ? list : list.slice(0, i)).map((s) => `${s.label}: ${s.detail}.`);
  };
  const judged = started ? '' : ', judged from the installed files (the training worker confirms when it starts)';
  const trainingSummary = [`Training runs on ${label(chosenTraining, backends)}${judged}.`, ...better(backends, chosenTraining)].join(' ');
  const inferenceSummary = [`Predictions run on ${label(chosenInference, providers)}, ${runtime}.`, ...better(providers, chosenInference)].join(' ');
  return {
    training: { backends, chosen: chosenTraining, verified: !!started, summary: trainingSummary },
    inference: { runtime, providers, chosen: chosenInference, summary: inferenceSummary },
  };
}
