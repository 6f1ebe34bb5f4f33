/**
 * A training run killed with SIGKILL while it writes its checkpoints: the CLI trains a tiny
 * random-init YOLO11 in a child process that a test-only preload (test/helpers/pause-writes.mjs)
 * freezes at one file operation, the test kills it there, then resumes in this process. The run
 * must continue from a consistent resume pair (the weights that belong to the optimizer/EMA state),
 * best.safetensors must stay readable, and results.csv must hold each epoch once.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, saveCheckpoint } from '../../../src/main/model/checkpoint';
import { YoloModel } from '../../../src/main/model/yolo';
import { writeSampleDataset } from '../../../src/main/project/sample';
import { parseTrainArgs } from '../../../src/main/train/args';
import { loadTrainState } from '../../../src/main/train/train-state';
import { train, type TrainEvent } from '../../../src/main/train/trainer';
import { tinyYolo11Yaml } from '../../helpers/model-fixtures';
import { trainingBackend } from '../../helpers/train-backend';
import { tmpDir } from '../../helpers/tmp';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const pauseWrites = path.join(repoRoot, 'test/helpers/pause-writes.mjs');
let device: 'wasm' | 'cpu';

beforeAll(async () => {
  device = await trainingBackend();
});

interface Fixture {
  dir: string;
  yaml: string;
  model: string;
  runDir: string;
  weights: string;
}

async function fixture(): Promise<Fixture> {
  const dir = tmpDir('boxtune-ckpt-kill-');
  const ds = await writeSampleDataset(path.join(dir, 'ds'), { images: 8, seed: 3 });
  const model = YoloModel.fromYaml(tinyYolo11Yaml(3) as never, 3, ds.classes, { seed: 0 });
  const file = path.join(dir, 'tiny.safetensors');
  saveCheckpoint(file, model);
  model.dispose();
  const runDir = path.join(dir, 'runs', 'run');
  return { dir, yaml: ds.yamlPath, model: file, runDir, weights: path.join(runDir, 'weights') };
}

function cliArgs(f: Fixture): string[] {
  return [`model=${f.model}`, `data=${f.yaml}`, 'epochs=2', 'imgsz=64', 'batch=4', 'workers=0', `project=${path.join(f.dir, 'runs')}`, 'name=run', `device=${device}`, 'close_mosaic=1'];
}

/** Trains in a child that freezes at the operation `writes.pause` names; kills it there. */
function trainAndKillAt(f: Fixture, writes: Record<string, unknown>): Promise<{ signal: string | null; paused: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pauseWrites, path.join(repoRoot, 'bin/boxtune.mjs'), 'train', ...cliArgs(f)], {
      cwd: repoRoot,
      env: { ...process.env, BOXTUNE_TEST_WRITES: JSON.stringify(writes) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let paused: string | null = null;
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /^BOXTUNE-PAUSED (.*)$/m.exec(err);
      if (m && !paused) {
        paused = m[1]!;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, paused }));
  });
}

/** best.safetensors is absent or a whole checkpoint; returns its epoch when present. */
function bestEpoch(f: Fixture): number | null {
  const best = path.join(f.weights, 'best.safetensors');
  if (!fs.existsSync(best)) return null;
  const { meta } = decodeCheckpoint(fs.readFileSync(best), 'best.safetensors');
  return meta.metrics?.epoch ?? null;
}

async function resume(f: Fixture): Promise<{ startEpoch: number; epochs: number[]; warnings: string[] }> {
  let startEpoch = -1;
  let warnings: string[] = [];
  const args = parseTrainArgs({
    model: f.model, data: f.yaml, imgsz: 64, batch: 4, workers: 0, project: path.join(f.dir, 'runs'), name: 'run', device, close_mosaic: 1, epochs: 2, resume: true,
  });
  const onEvent = (e: TrainEvent): void => {
    if (e.type === 'start') ({ startEpoch, warnings } = e);
  };
  const { rows } = await train(args, { onEvent });
  return { startEpoch, epochs: rows.map((r) => r.epoch), warnings };
}

/** results.csv: the header and one whole row per epoch, in order. */
function expectCleanResults(f: Fixture, epochs: number[]): void {
  const lines = fs.readFileSync(path.join(f.runDir, 'results.csv'), 'utf8').split('\n');
  expect(lines.at(-1)).toBe('');
  const [header, ...rows] = lines.slice(0, -1);
  expect(header!.split(',')).toHaveLength(15);
  expect(rows.map((r) => Number(r.split(',')[0]))).toEqual(epochs);
  for (const r of rows) {
    expect(r.split(',')).toHaveLength(15);
    for (const v of r.split(',')) expect(Number.isFinite(Number(v))).toBe(true);
  }
}

function expectNoTempFiles(f: Fixture): void {
  expect([...fs.readdirSync(f.weights), ...fs.readdirSync(f.runDir)].filter((n) => n.includes('.tmp'))).toEqual([]);
}

describe('a training run killed while it writes a checkpoint', () => {
  it('keeps best.safetensors whole when killed while putting it in place, and resumes', async () => {
    const f = await fixture();
    // Epoch 1 always is the best so far: the first operation onto best.safetensors is its save.
    const killed = await trainAndKillAt(f, { pause: 'best.safetensors#1' });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.paused).toMatch(/best\.safetensors$/);
    expect(() => bestEpoch(f)).not.toThrow();

    // Epoch 1 was saved (its resume state comes first), so resume continues at epoch 2 and
    // first rewrites the best weights the kill cut off from that state's EMA.
    const resumed = await resume(f);
    expect(resumed).toMatchObject({ startEpoch: 1, epochs: [1, 2] });
    expect(resumed.warnings.join('\n')).toMatch(/best\.safetensors was behind epoch 1.*rewritten/);
    expect(bestEpoch(f)).toBeGreaterThanOrEqual(1);
    expectCleanResults(f, [1, 2]);
    expectNoTempFiles(f);
  }, 120_000);

  it('resumes from the consistent pair when killed between writing the weights and the state', async () => {
    const f = await fixture();
    const epoch1Weights = path.join(f.dir, 'epoch1.train.safetensors');
    const killed = await trainAndKillAt(f, {
      // Epoch 2's state is about to replace epoch 1's: its weights are already written.
      pause: 'last.state.safetensors#2',
      snapshot: { after: 'last.state.safetensors#1', copy: 'last.train.safetensors', to: epoch1Weights },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.paused).toMatch(/last\.state\.safetensors$/);
    expect(fs.existsSync(epoch1Weights)).toBe(true);

    // The state on disk is epoch 1's, so the weights resume takes must be epoch 1's too.
    const state = loadTrainState(f.weights);
    expect(state.epoch).toBe(0);
    expect(fs.readFileSync(state.modelFile).equals(fs.readFileSync(epoch1Weights))).toBe(true);
    expect(() => bestEpoch(f)).not.toThrow();

    const resumed = await resume(f);
    expect(resumed).toMatchObject({ startEpoch: 1, epochs: [1, 2] });
    expect(resumed.warnings.join('\n')).toMatch(/not saved whole; resuming after epoch 1/);
    expect(bestEpoch(f)).toBeGreaterThanOrEqual(1);
    expectCleanResults(f, [1, 2]);
    expectNoTempFiles(f);
    expect(fs.existsSync(path.join(f.weights, 'prev.train.safetensors'))).toBe(false);
  }, 120_000);

  it('refuses a torn pair it cannot fall back from, naming both files', async () => {
    const f = await fixture();
    const base = { model: f.model, data: f.yaml, imgsz: 64, batch: 4, workers: 0, project: path.join(f.dir, 'runs'), name: 'run', device, close_mosaic: 1 };
    await train(parseTrainArgs({ ...base, epochs: 1 }));
    const epoch1State = fs.readFileSync(path.join(f.weights, 'last.state.safetensors'));
    await train(parseTrainArgs({ ...base, epochs: 2, resume: true }));
    // Epoch 2's weights beside epoch 1's state: what a kill between the pair's two writes left.
    fs.writeFileSync(path.join(f.weights, 'last.state.safetensors'), epoch1State);

    expect(() => loadTrainState(f.weights)).toThrow(/last\.state\.safetensors.*last\.train\.safetensors|last\.train\.safetensors.*last\.state\.safetensors/);
    await expect(train(parseTrainArgs({ ...base, epochs: 3, resume: true }))).rejects.toThrow(/do not belong together/);
  }, 120_000);
});
