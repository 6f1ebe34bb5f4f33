#!/usr/bin/env node
// Optional native extras that need a download. package.json's allowScripts keeps npm from running
// Electron's and onnxruntime-node's own download scripts, because either one failing (offline, behind
// a proxy) fails the whole `npm install`. This script runs them instead, only where they can help,
// and a failure prints one line and never fails the install: boxtune detects what is missing and
// falls back (no Electron binary -> the UI is served on 127.0.0.1; no CUDA add-on -> CPU inference).
// ELECTRON_SKIP_BINARY_DOWNLOAD=1 and ONNXRUNTIME_NODE_INSTALL=skip skip them on purpose.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

function packageDir(name) {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** Runs a package's own install script quietly; returns its last error line, or null on success. */
function runInstaller(cwd, script, env) {
  const run = spawnSync(process.execPath, [script], { cwd, env, encoding: 'utf8', timeout: DOWNLOAD_TIMEOUT_MS });
  if (run.status === 0) return null;
  if (run.error) return run.error.message;
  const lines = `${run.stderr ?? ''}\n${run.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /error/i.test(l)) ?? lines[0] ?? `exit code ${run.status}`;
}

function hasNvidiaGpu() {
  return fs.existsSync('/proc/driver/nvidia/version') || spawnSync('nvidia-smi', ['-L'], { stdio: 'ignore' }).status === 0;
}

function installElectronBinary() {
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) return;
  const dir = packageDir('electron');
  if (!dir) return;
  const failure = runInstaller(dir, 'install.js', process.env);
  if (failure) {
    console.warn(`boxtune: Electron's binary could not be downloaded (${failure.slice(0, 160)}).`);
    console.warn('boxtune: `npm start` will serve the UI on 127.0.0.1 instead; run `node node_modules/electron/install.js` later to get the window.');
  }
}

function installOnnxruntimeCuda() {
  if (process.env.ONNXRUNTIME_NODE_INSTALL === 'skip') return;
  if (process.platform !== 'linux' || process.arch !== 'x64' || !hasNvidiaGpu()) return;
  const dir = packageDir('onnxruntime-node');
  if (!dir) return;
  const failure = runInstaller(dir, path.join('script', 'install.js'), { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' });
  if (failure) console.warn("boxtune: could not download onnxruntime's CUDA add-on; predictions will run on the CPU.");
}

for (const step of [installElectronBinary, installOnnxruntimeCuda]) {
  try {
    step();
  } catch (err) {
    console.warn(`boxtune: optional install step failed (${err.message}); continuing.`);
  }
}
