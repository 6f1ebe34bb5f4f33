/**
 * @file `npm run bench` (`tsx bench/index.ts`): runs the benchmark parts, prints one table
 * (figure, measured, target, ratio = measured / target, pass mark) and writes each part's results
 * to bench-results/<part>.json.
 *
 *   npm run bench                      every part but finetune (which takes about an hour)
 *   npm run bench -- --only store      just these parts (comma-separated; finetune only this way)
 *   options: --queries N   --keep (keep the bench project)   --strict (exit 1 when a figure fails)
 *            --epochs N (finetune: shorter runs, for trying it out)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFinetuneBench } from './finetune';
import { runModelBench } from './model';
import { runPredictBench } from './predict';
import { runBrowserGridBench } from './browser-grid';
import { runCanvasBench } from './canvas';
import { runStoreBench } from './store';
import { runTrainBench } from './train';
import { runTrainApiBench } from './train-api';
import type { Figure, Log, PartResult } from './types';

interface Args {
  only: string[] | null;
  queries: number | undefined;
  epochs: number | undefined;
  keep: boolean;
  strict: boolean;
}

const PARTS: Record<string, (args: Args, log: Log) => Promise<PartResult>> = {
  store: (args, log) =>
    runStoreBench({ log, keepProject: args.keep, ...(args.queries !== undefined ? { queries: args.queries } : {}) }),
  browser: (_args, log) => runBrowserGridBench({ log }),
  predict: (_args, log) => runPredictBench({ log }),
  model: (_args, log) => runModelBench({ log }),
  canvas: (args, log) => runCanvasBench({ log, keepProject: args.keep }),
  train: (_args, log) => runTrainBench({ log }),
  'train-api': (_args, log) => runTrainApiBench({ log }),
  finetune: (args, log) => runFinetuneBench({ log, ...(args.epochs !== undefined ? { epochs: args.epochs } : {}) }),
};
/** Parts too long for a plain `npm run bench`; they run when named with --only. */
const ON_REQUEST = new Set(['finetune']);

function parseArgs(argv: string[]): Args {
  const args: Args = { only: null, queries: undefined, epochs: undefined, keep: false, strict: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') args.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a?.startsWith('--only=')) args.only = a.slice(7).split(',').filter(Boolean);
    else if (a === '--queries') args.queries = Number(argv[++i]);
    else if (a === '--epochs') args.epochs = Number(argv[++i]);
    else if (a === '--keep') args.keep = true;
    else if (a === '--strict') args.strict = true;
    else throw new Error(`unknown argument ${a}; use --only ${Object.keys(PARTS).join(',')}`);
  }
  for (const p of args.only ?? []) {
    if (!PARTS[p]) throw new Error(`unknown bench part '${p}'; known: ${Object.keys(PARTS).join(', ')}`);
  }
  return args;
}

export function formatTable(results: PartResult[]): string {
  const rows: string[][] = [['part', 'figure', 'measured', 'target', 'ratio', '']];
  for (const r of results) {
    for (const f of r.figures) {
      const ratio = f.target ? f.measured / f.target : null;
      rows.push([
        r.part,
        f.name,
        `${fmt(f.measured)} ${f.unit}`,
        f.target === null ? '-' : `<= ${fmt(f.target)} ${f.unit}`,
        ratio === null ? '-' : ratio.toFixed(2),
        mark(f),
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (c === 2 || c === 3 || c === 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function passes(f: Figure): boolean | null {
  return f.target === null ? null : f.measured <= f.target;
}

function mark(f: Figure): string {
  const p = passes(f);
  return p === null ? '' : p ? 'PASS' : 'FAIL';
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const names = args.only ?? Object.keys(PARTS).filter((p) => !ON_REQUEST.has(p));
  const log: Log = (line) => process.stdout.write(`${line}\n`);
  const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  const results: PartResult[] = [];
  for (const name of names) {
    log(`== bench: ${name}`);
    const result = await PARTS[name]!(args, log);
    results.push(result);
    const file = path.join(outDir, `${name}.json`);
    fs.writeFileSync(
      file,
      `${JSON.stringify({ ...result, figures: result.figures.map((f) => ({ ...f, ratio: f.target ? f.measured / f.target : null, pass: passes(f) })), at: new Date().toISOString() }, null, 2)}\n`,
    );
    log(`== bench: ${name}: results in ${path.relative(process.cwd(), file)}`);
  }
  log('');
  log(formatTable(results));
  const failed = results.flatMap((r) => r.figures).filter((f) => passes(f) === false);
  if (failed.length && args.strict) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
