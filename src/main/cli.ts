/**
 * @file `boxtune` on the command line: the same services as the app, headless.
 *   boxtune create  [project=DIR] [name=NAME]
 *   boxtune import  SOURCE [project=DIR] [format=yolo|coco|voc|folder] [copy] [images_dir=DIR] [split=S]
 *   boxtune export  OUTDIR [project=DIR] format=yolo|coco|voc [images=copy|link]   (also: export-dataset)
 *   boxtune splits  [project=DIR] [train=0.8 val=0.1 test=0.1] [seed=0] [all]
 *   boxtune info    [project=DIR]
 * Options may also be written --key value. The project defaults to the current folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError, formatProblem, type Problem } from '../shared/errors';
import { formatCount, formatDuration } from '../shared/format';
import type { ExportFormat, ImportFormat, Split } from '../shared/types';
import { EXPORT_FORMATS, IMPORT_FORMATS, SPLITS } from '../shared/types';
import { boolOption, parseArgs, type ParsedArgs } from './cli/args';
import { TerminalProgress } from './cli/progress';
import { exportDataset } from './dataset/export';
import { importDataset } from './dataset/import';
import { planSplits } from './dataset/splits';
import { DB_FILE } from './store/db';
import { LabelStore } from './store/label-store';

const USAGE = `boxtune: label, check, fine-tune and review YOLO detectors.

Usage:
  boxtune create  [project=DIR] [name=NAME]
  boxtune import  SOURCE [project=DIR] [format=yolo|coco|voc|folder] [copy] [images_dir=DIR] [split=train|val|test]
                  (makes the project when DIR has none)
  boxtune export  OUTDIR [project=DIR] format=yolo|coco|voc [images=copy|link]   (also: export-dataset)
  boxtune splits  [project=DIR] [train=0.8] [val=0.1] [test=0.1] [seed=0] [all]
  boxtune info    [project=DIR]
  boxtune train   model=yolo11n.pt data=coco8.yaml [epochs=100] [imgsz=640] [batch=16] [freeze=0] [optimizer=auto]
                  [lr0=0.01] [device=auto|wasm|cpu|tensorflow|tensorflow-gpu] [project=DIR] [name=NAME] [resume] ...
                  (Ultralytics' train arguments; data may also be a boxtune project folder)
  boxtune val     model=best.safetensors data=data.yaml [imgsz=640] [batch=16] [split=val]
  boxtune predict model=best.onnx|.pt|.safetensors source=IMAGE|FOLDER [conf=0.25] [iou=0.7] [project=DIR]
  boxtune export  model=best.safetensors format=onnx [imgsz=640]   (a model; as Ultralytics' export)

SOURCE for import: a data.yaml (Ultralytics), a COCO .json, a Pascal VOC folder, or a folder of images;
the format is guessed from it unless format= is given. Options also work as --key value.
export copies the images by default; images=link hard-links them instead (no extra disk space, but the
exported file IS the project's image: editing it changes the source).`;

type Out = (line: string) => void;

/** Switches that may be written as bare words (`copy`, `all`, `create`). */
const FLAGS = ['copy', 'all', 'create', 'resume'];

export async function main(argv: readonly string[], out: Out = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const args = parseArgs(argv, FLAGS);
  try {
    switch (args.command) {
      case 'create':
        return create(args, out);
      case 'import':
        return runImport(args, out);
      case 'export':
        // Ultralytics' `export model=... format=onnx` exports a model; format=yolo|coco|voc a dataset.
        if (args.options.has('model') || args.options.get('format') === 'onnx') {
          return await (await import('./cli/model-commands')).runExportModel(args, out);
        }
        return runExport(args, out);
      case 'export-dataset':
        return runExport(args, out);
      case 'splits':
        return splits(args, out);
      case 'info':
        return info(args, out);
      case 'train':
        return await runTrain(args, out);
      case 'val':
        return await (await import('./cli/model-commands')).runVal(args, out);
      case 'predict':
        return await (await import('./cli/model-commands')).runPredict(args, out);

      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return args.command === undefined ? 1 : 0;
      default:
        throw new AppError('INVALID_INPUT', `unknown command "${args.command}"\n\n${USAGE}`);
    }
  } catch (err) {
    process.stderr.write(`error: ${describeError(err)}\n`);
    return err instanceof AppError && err.code === 'INVALID_INPUT' ? 2 : 1;
  }
}

function describeError(err: unknown): string {
  if (!(err instanceof AppError)) return err instanceof Error ? (err.stack ?? err.message) : String(err);
  const problems = (err.details as { problems?: Problem[] } | undefined)?.problems;
  // The message lists the first problems; print all of them, one per line, for editors to jump to.
  if (err.code === 'IMPORT_INVALID' && problems?.length) {
    return [err.message.split('\n')[0], ...problems.map((p) => `  ${formatProblem(p)}`)].join('\n');
  }
  return err.message;
}

function projectDir(args: ParsedArgs): string {
  return path.resolve(args.options.get('project') ?? process.cwd());
}

function create(args: ParsedArgs, out: Out): number {
  const store = LabelStore.create(projectDir(args), args.options.get('name'));
  out(`created project "${store.name}" in ${store.root}`);
  store.close();
  return 0;
}

function runImport(args: ParsedArgs, out: Out): number {
  const source = args.positional[0] ?? args.options.get('data') ?? args.options.get('source');
  if (!source) throw new AppError('INVALID_INPUT', 'import needs a SOURCE (a data.yaml, COCO json, VOC folder or image folder)');
  const format = (args.options.get('format') ?? guessFormat(source)) as ImportFormat;
  if (!IMPORT_FORMATS.includes(format)) {
    throw new AppError('INVALID_INPUT', `format must be one of ${IMPORT_FORMATS.join(', ')}, not "${format}"`);
  }
  const root = projectDir(args);
  // No project there yet: make one, as a user who names a fresh folder expects, and say so. If the
  // import then fails (it is all-or-nothing), the empty project made for it is removed again,
  // unless `create` asked for it.
  const created = !LabelStore.isProject(root) ? createdProject(root) : null;
  const store = created?.store ?? LabelStore.open(root);
  if (created) out(`created project "${store.name}" in ${store.root}`);
  const progress = new TerminalProgress();
  let imported = false;
  try {
    const split = args.options.get('split');
    if (split !== undefined && !SPLITS.includes(split as Split)) {
      throw new AppError('INVALID_INPUT', `split must be one of ${SPLITS.join(', ')}, not "${split}"`);
    }
    const imagesDir = args.options.get('images_dir');
    const summary = importDataset(
      store,
      {
        format,
        source: path.resolve(source),
        copy: boolOption(args.options.get('copy')),
        ...(imagesDir ? { imagesDir: path.resolve(imagesDir) } : {}),
        ...(split ? { split: split as Split } : {}),
      },
      { onProgress: progress.update },
    );
    progress.end();
    out(`imported ${formatCount(summary.images)} images and ${formatCount(summary.boxes)} boxes from ${source} (${format})`);
    if (summary.classesAdded.length) out(`new classes: ${summary.classesAdded.join(', ')}`);
    if (summary.skippedExisting) out(`${formatCount(summary.skippedExisting)} images were already in the project and were left as they were`);
    for (const u of summary.unreadable) out(`unreadable: ${u.file}: ${u.reason}`);
    for (const w of summary.warnings) out(`warning: ${w}`);
    imported = true;
    return 0;
  } finally {
    progress.end();
    store.close();
    // `create` asked for the project itself: it stays, empty, as it did before this import.
    if (created && !imported && !boolOption(args.options.get('create'))) created.undo();
  }
}

/** A new project in `root`, and how to take it back (its database, and the folder if we made it). */
function createdProject(root: string): { store: LabelStore; undo: () => void } {
  const folderExisted = fs.existsSync(root);
  const store = LabelStore.create(root);
  return {
    store,
    undo: () => {
      for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(path.join(root, `${DB_FILE}${suffix}`), { force: true });
      if (!folderExisted && fs.readdirSync(root).length === 0) fs.rmdirSync(root);
    },
  };
}

/** yaml -> yolo, json -> coco, a folder with Annotations/ or .xml files -> voc, other folders -> folder. */
export function guessFormat(source: string): ImportFormat {
  const ext = path.extname(source).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yolo';
  if (ext === '.json') return 'coco';
  if (fs.existsSync(source) && fs.statSync(source).isDirectory()) {
    if (fs.existsSync(path.join(source, 'Annotations'))) return 'voc';
    if (fs.existsSync(path.join(source, 'annotations'))) return 'coco';
    if (fs.readdirSync(source).some((f) => f.toLowerCase().endsWith('.xml'))) return 'voc';
    return 'folder';
  }
  throw new AppError('INVALID_INPUT', `cannot tell the format of ${source}; pass format=yolo|coco|voc|folder`);
}

function runExport(args: ParsedArgs, out: Out): number {
  const dir = args.positional[0] ?? args.options.get('dir') ?? args.options.get('out');
  if (!dir) throw new AppError('INVALID_INPUT', 'export needs an output folder');
  const format = (args.options.get('format') ?? 'yolo') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) {
    throw new AppError('INVALID_INPUT', `format must be one of ${EXPORT_FORMATS.join(', ')}, not "${format}"`);
  }
  const images = args.options.get('images') ?? 'copy';
  if (images !== 'link' && images !== 'copy') throw new AppError('INVALID_INPUT', `images must be link or copy, not "${images}"`);
  const store = LabelStore.open(projectDir(args));
  const progress = new TerminalProgress();
  try {
    const summary = exportDataset(store, { format, dir: path.resolve(dir), images }, { onProgress: progress.update });
    progress.end();
    out(`exported ${formatCount(summary.images)} images and ${formatCount(summary.boxes)} boxes as ${format} to ${summary.dir}`);
    for (const f of summary.files) out(`  ${f}`);
    if (summary.skippedUnsplit) out(`note: ${formatCount(summary.skippedUnsplit)} images without a split were left out (boxtune splits assigns them)`);
    return 0;
  } finally {
    progress.end();
    store.close();
  }
}

function splits(args: ParsedArgs, out: Out): number {
  const num = (key: string, fallback: number): number => {
    const raw = args.options.get(key);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value)) throw new AppError('INVALID_INPUT', `${key} must be a number, not "${raw}"`);
    return value;
  };
  const store = LabelStore.open(projectDir(args));
  try {
    const updates = planSplits(store.imageClasses(), {
      ratios: { train: num('train', 0.8), val: num('val', 0.1), test: num('test', 0.1) },
      seed: num('seed', 0),
      scope: boolOption(args.options.get('all')) ? 'all' : 'unassigned',
    });
    store.setSplits(updates);
    out(`assigned ${formatCount(updates.size)} images`);
    printSplits(store, out);
    return 0;
  } finally {
    store.close();
  }
}

function info(args: ParsedArgs, out: Out): number {
  const store = LabelStore.open(projectDir(args));
  try {
    const i = store.info();
    out(`${i.name}  (${i.root})`);
    out(`${formatCount(i.images)} images, ${formatCount(i.boxes)} boxes, ${i.classes.length} classes`);
    out(`status: ${Object.entries(i.statuses).map(([s, n]) => `${s} ${formatCount(n)}`).join(', ')}`);
    printSplits(store, out);
    return 0;
  } finally {
    store.close();
  }
}

/** A table of instances per class and split, with image and box totals per split. */
function printSplits(store: LabelStore, out: Out): void {
  const i = store.info();
  const cols: Split[] = SPLITS.filter((s) => i.splits.some((r) => r.split === s));
  const width = Math.max(10, ...i.classes.map((c) => c.name.length)) + 2;
  const cell = (v: string | number): string => String(typeof v === 'number' ? formatCount(v) : v).padStart(9);
  out(`${'split'.padEnd(width)}${cols.map(cell).join('')}`);
  out(`${'images'.padEnd(width)}${cols.map((s) => cell(i.splits.find((r) => r.split === s)?.images ?? 0)).join('')}`);
  out(`${'boxes'.padEnd(width)}${cols.map((s) => cell(i.splits.find((r) => r.split === s)?.boxes ?? 0)).join('')}`);
  // A COCO-style class list has dozens of classes a project never uses: list the ones with boxes,
  // then count the rest.
  const used = i.classes.filter((c) => Object.values(i.perClassSplit[c.id] ?? {}).some((n) => n > 0));
  for (const c of used) {
    const per = i.perClassSplit[c.id] ?? {};
    out(`${`  ${c.name}`.padEnd(width)}${cols.map((s) => cell(per[s] ?? 0)).join('')}`);
  }
  const empty = i.classes.length - used.length;
  if (empty > 0) out(`  (${empty} more ${empty === 1 ? 'class has' : 'classes have'} no boxes)`);
}

/** `boxtune train key=value ...`, printing progress the way Ultralytics does. */
async function runTrain(args: ParsedArgs, out: Out): Promise<number> {
  const { parseTrainArgs } = await import('./train/args');
  const { train } = await import('./train/trainer');
  const raw: Record<string, unknown> = Object.fromEntries(args.options);
  if (args.positional.length) throw new AppError('INVALID_INPUT', `unexpected argument "${args.positional[0]}"; train takes key=value arguments`);
  // `train resume model=<run>/weights/...` continues with the run's own arguments, as Ultralytics does.
  if (boolOption(args.options.get('resume')) && typeof raw.model === 'string') {
    const runDir = path.resolve(raw.model, '..', '..');
    const saved = path.join(runDir, 'args.json');
    if (fs.existsSync(saved)) {
      const { effective: _e, ...stored } = JSON.parse(fs.readFileSync(saved, 'utf8')) as Record<string, unknown>;
      Object.assign(raw, { ...stored, ...raw, project: path.dirname(runDir), name: path.basename(runDir), model: stored.model ?? raw.model });
    }
  }
  if (typeof raw.model === 'string') raw.model = await (await import('./cli/model-commands')).resolveCliModel(raw.model);
  const trainArgs = parseTrainArgs(raw);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  let lastLine = 0;
  await train(trainArgs, {
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'start') {
        out(`boxtune train: ${e.trainImages} train / ${e.valImages} val images, ${e.names.length} classes, backend ${e.backend.name}`);
        for (const r of e.backend.reasons) out(`  (${r.backend} not used: ${r.reason})`);
        out(`optimizer: ${e.optimizer.reason}`);
        for (const w of e.warnings) out(`warning: ${w}`);
        out(`results to ${e.runDir}`);
        out(`${'Epoch'.padStart(9)}${'box_loss'.padStart(11)}${'cls_loss'.padStart(11)}${'dfl_loss'.padStart(11)}${'Instances'.padStart(11)}${'img/s'.padStart(9)}${'ETA'.padStart(9)}`);
      } else if (e.type === 'batch') {
        const now = Date.now();
        if (e.batch !== 1 && e.batch !== e.batches && now - lastLine < 2000) return;
        lastLine = now;
        const eta = e.etaSec === null ? '' : formatDuration(e.etaSec);
        out(`${`${e.epoch}/${e.epochs}`.padStart(9)}${e.losses.map((l) => l.toFixed(4).padStart(11)).join('')}${String(e.instances).padStart(11)}${e.imagesPerSec.toFixed(2).padStart(9)}${eta.padStart(9)}  ${e.batch}/${e.batches}`);
      } else if (e.type === 'epoch') {
        const r = e.row;
        out(`${'all'.padStart(9)}  P ${r.precision.toFixed(3)}  R ${r.recall.toFixed(3)}  mAP50 ${r.mAP50.toFixed(3)}  mAP50-95 ${r.mAP50_95.toFixed(3)}${e.best ? '  (best)' : ''}`);
      } else if (e.type === 'done') {
        out(`${e.rows.length} epochs done${e.stoppedEarly ? ' (stopped early: no improvement)' : ''}; weights in ${e.best} and ${e.last}`);
        for (const c of e.perClass) out(`  ${c.name.padEnd(20)} ${String(c.instances).padStart(6)} inst  AP50 ${c.ap50.toFixed(3)}  AP50-95 ${c.ap50_95.toFixed(3)}`);
      }
    },
  });
  return 0;
}
