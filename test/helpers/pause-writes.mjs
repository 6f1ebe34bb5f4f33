// Test-only preload (`node --import test/helpers/pause-writes.mjs ...`) for the checkpoint kill
// tests: it watches the file operations that put a file in place (fs.renameSync onto it,
// fs.copyFileSync onto it) and freezes the process at a chosen one, printing a marker on stderr,
// so the parent can SIGKILL it exactly there. It patches node:fs itself, so it pauses the code
// under test without any hook in that code. Configured by BOXTUNE_TEST_WRITES, a JSON object:
//   pause:    "best.safetensors#1"  freeze at the 1st operation onto a file of that name (a copy
//             first copies half the bytes, as a kill in the middle of the copy leaves them)
//   snapshot: { after: "last.state.safetensors#1", copy: "last.train.safetensors", to: "/x.bin" }
//             once that operation is done, copy a sibling file to `to` (what was there then)
import fs from 'node:fs';
import path from 'node:path';

const config = JSON.parse(process.env.BOXTUNE_TEST_WRITES ?? '{}');
const counts = new Map();

function parsePoint(point) {
  const [name, n] = String(point).split('#');
  return { name, n: Number(n ?? 1) };
}

/** Counts operations onto `dest` by file name; true when this one is `point`. */
function isPoint(point, dest, count) {
  if (!point) return false;
  const p = parsePoint(point);
  return path.basename(String(dest)) === p.name && count === p.n;
}

function freeze(op, dest) {
  fs.writeSync(2, `BOXTUNE-PAUSED ${op} ${dest}\n`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 60_000);
}

function around(op, dest, run) {
  const name = path.basename(String(dest));
  const count = (counts.get(name) ?? 0) + 1;
  counts.set(name, count);
  if (isPoint(config.pause, dest, count)) freeze(op, dest);
  const result = run();
  const snap = config.snapshot;
  if (snap && isPoint(snap.after, dest, count)) realCopy(path.join(path.dirname(String(dest)), snap.copy), snap.to);
  return result;
}

const realRename = fs.renameSync;
const realCopy = fs.copyFileSync;

fs.renameSync = function renameSync(from, to) {
  return around('rename', to, () => realRename(from, to));
};

fs.copyFileSync = function copyFileSync(from, to, mode) {
  const name = path.basename(String(to));
  const count = (counts.get(name) ?? 0) + 1;
  if (isPoint(config.pause, to, count)) {
    counts.set(name, count);
    const bytes = fs.readFileSync(from);
    fs.writeFileSync(to, bytes.subarray(0, Math.floor(bytes.length / 2)));
    freeze('copy', to);
  }
  return around('copy', to, () => realCopy(from, to, mode));
};
