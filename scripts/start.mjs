#!/usr/bin/env node
/**
 * `npm start`: the desktop window where Electron's binary is installed, else the same UI served on
 * 127.0.0.1. `npm run serve` (`--serve`) always serves, e.g. on a GPU box reached by an SSH tunnel.
 * Passes `--port N` and `--project DIR` through.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const serveOnPurpose = args.includes('--serve');
const passthrough = args.filter((a) => a !== '--serve');

/** The Electron binary's path, or null when the optional download did not happen. */
function electronBinary() {
  try {
    // The electron package's main export is the binary's path; it throws when the binary is missing.
    const bin = createRequire(import.meta.url)('electron');
    return typeof bin === 'string' && existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the web UI when out/renderer is missing or older than any source under src/renderer. */
function ensureWebBuild() {
  const index = path.join(root, 'out/renderer/index.html');
  const sources = [path.join(root, 'src/renderer'), path.join(root, 'src/shared')];
  const stale = !existsSync(index) || Math.max(...sources.map(newestMtime)) > statSync(index).mtimeMs;
  if (!stale) return;
  console.log('Building the UI (first run, or sources changed)...');
  const built = spawnSync('npx', ['vite', 'build', '--config', 'vite.web.config.ts', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

/** Runs a child in the foreground: signals go to it, its exit code becomes ours. */
function runForeground(command, commandArgs) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const electron = serveOnPurpose ? null : electronBinary();
if (electron === null) {
  console.log(
    serveOnPurpose
      ? 'Serving the boxtune UI on 127.0.0.1 only; from another machine, forward the port with ssh -L.'
      : "Electron's binary is not installed here, so boxtune is serving its UI at the URL below instead.",
  );
  ensureWebBuild();
  runForeground(process.execPath, ['--import', 'tsx', path.join(root, 'src/main/serve.ts'), ...passthrough]);
} else {
  const built = spawnSync('npx', ['electron-vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
  const binding = electronSqliteBinding(electron);
  if (binding) {
    process.env.BOXTUNE_SQLITE_BINDING = binding;
    runForeground(electron, [root, ...passthrough]);
  } else {
    console.error('Could not get better-sqlite3 built for Electron, so boxtune is serving its UI at the URL below instead.');
    ensureWebBuild();
    runForeground(process.execPath, ['--import', 'tsx', path.join(root, 'src/main/serve.ts'), ...passthrough]);
  }
}

/**
 * better-sqlite3 talks to V8 directly, so Electron needs a build for its own ABI, while the CLI
 * and tests keep the Node build in node_modules. The Electron copy lives in .cache/ (prebuilt
 * download first, compile as the fallback) and db.ts picks it through BOXTUNE_SQLITE_BINDING.
 */
function electronSqliteBinding(electronBin) {
  const version = spawnSync(electronBin, ['--version'], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } })
    .stdout?.trim()
    .replace(/^v/, '');
  if (!version) return null;
  const dir = path.join(root, '.cache', 'electron-native', version, 'better-sqlite3');
  const binding = path.join(dir, 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(binding)) return binding;
  console.log(`Building better-sqlite3 for Electron ${version} (once)...`);
  const pkg = path.dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
  cpSync(pkg, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}build${path.sep}`) });
  const env = { ...process.env, npm_config_runtime: 'electron', npm_config_target: version, npm_config_disturl: 'https://electronjs.org/headers' };
  const prebuilt = spawnSync('npx', ['--no-install', 'prebuild-install', '--runtime', 'electron', '--target', version], { cwd: dir, stdio: 'inherit', env });
  if (prebuilt.status !== 0) {
    spawnSync('npx', ['--no-install', 'node-gyp', 'rebuild', '--release', `--target=${version}`, '--dist-url=https://electronjs.org/headers'], { cwd: dir, stdio: 'inherit', env });
  }
  return existsSync(binding) ? binding : null;
}
