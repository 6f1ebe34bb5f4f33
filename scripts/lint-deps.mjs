#!/usr/bin/env node
/**
 * `npm run lint:deps`: the import rules of DESIGN.md's "Shape", checked on every TypeScript file.
 * - src/shared imports nothing outside itself; src/renderer and src/preload import only src/shared
 *   (and themselves); nothing imports src/renderer or src/preload from outside.
 * - src/main's folders form a one-way graph: no cycle between two folders (a -> b -> ... -> a).
 * - The entry layer (app/, server/, cli/, cli.ts, index.ts, serve.ts) is imported by nothing below it.
 * Prints each violation with the file that makes it, and exits 1 if there is any.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'src');
const ENTRY = new Set(['app', 'server', 'cli', 'cli.ts', 'index.ts', 'serve.ts']);

function* files(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (/\.(ts|mts|svelte)$/.test(e.name) && !e.name.endsWith('.d.ts')) yield p;
  }
}

/** Relative imports of a file, resolved to absolute paths (extension-less is fine: we only need folders). */
function importsOf(file) {
  let text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.svelte')) text = [...text.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => f.fileName).filter((n) => n.startsWith('.')).map((n) => path.resolve(path.dirname(file), n));
}

/** 'shared' | 'renderer' | 'preload' | 'main/<folder or file>' */
function area(abs) {
  const rel = path.relative(src, abs).split(path.sep);
  if (rel[0] !== 'main') return rel[0];
  return rel.length === 2 ? `main/${rel[1].replace(/\.(ts|mts|mjs)$/, '.ts')}` : `main/${rel[1]}`;
}

const problems = [];
const edges = new Map(); // 'main/a' -> Map('main/b' -> example file)
for (const file of files(src)) {
  const from = area(file);
  for (const target of importsOf(file)) {
    if (!target.startsWith(src)) continue;
    const to = area(target);
    if (from === to) continue;
    const where = path.relative(root, file);
    if (from === 'shared') problems.push(`${where}: src/shared imports ${to} (the contract depends on nothing)`);
    else if ((from === 'renderer' || from === 'preload') && to !== 'shared') problems.push(`${where}: src/${from} imports ${to} (only src/shared is allowed)`);
    else if (from.startsWith('main/') && (to === 'renderer' || to === 'preload')) problems.push(`${where}: src/main imports src/${to}`);
    else if (from.startsWith('main/') && to.startsWith('main/')) {
      const top = to.slice(5);
      if (ENTRY.has(top) && !ENTRY.has(from.slice(5))) problems.push(`${where}: ${from} imports the entry layer ${to} (upward)`);
      if (!edges.has(from)) edges.set(from, new Map());
      if (!edges.get(from).has(to)) edges.get(from).set(to, where);
    }
  }
}

// Folder cycles: a depth-first search that reports each cycle once, with one file per edge.
const seen = new Set();
const reported = new Set();
function visit(node, stack) {
  if (stack.includes(node)) {
    const cycle = stack.slice(stack.indexOf(node));
    const key = [...cycle].sort().join(' ');
    if (!reported.has(key)) {
      reported.add(key);
      const hops = cycle.map((a, i) => `${a} -> ${cycle[(i + 1) % cycle.length]} (${edges.get(a).get(cycle[(i + 1) % cycle.length])})`);
      problems.push(`import cycle between folders:\n    ${hops.join('\n    ')}`);
    }
    return;
  }
  if (seen.has(node)) return;
  for (const next of edges.get(node)?.keys() ?? []) visit(next, [...stack, node]);
  seen.add(node);
}
for (const node of edges.keys()) visit(node, []);

if (problems.length) {
  for (const p of problems) console.error(p);
  console.error(`lint:deps: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  process.exit(1);
}
console.log(`lint:deps: ${edges.size} src/main areas, no cycles, no upward imports`);
