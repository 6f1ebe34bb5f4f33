#!/usr/bin/env node
// Optional native extras that need a download. Each is tried only where it can help, and a failure
// prints one line and never fails `npm install`: boxtune detects what is missing and falls back.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

function hasNvidiaGpu() {
  return fs.existsSync('/proc/driver/nvidia/version') || spawnSync('nvidia-smi', ['-L'], { stdio: 'ignore' }).status === 0;
}

function installOnnxruntimeCuda() {
  if (process.env.ONNXRUNTIME_NODE_INSTALL === 'skip') return;
  if (process.platform !== 'linux' || process.arch !== 'x64' || !hasNvidiaGpu()) return;
  let script;
  try {
    script = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'script', 'install.js');
  } catch {
    return;
  }
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' };
  delete env.npm_config_onnxruntime_node_install;
  const run = spawnSync(process.execPath, [script], { env, stdio: 'inherit', cwd: path.dirname(path.dirname(script)) });
  if (run.status !== 0) {
    console.warn('boxtune: could not download onnxruntime\'s CUDA add-on; predictions will run on the CPU.');
  }
}

try {
  installOnnxruntimeCuda();
} catch (err) {
  console.warn(`boxtune: optional install step failed (${err.message}); continuing.`);
}
