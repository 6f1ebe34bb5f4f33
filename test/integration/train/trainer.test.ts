/**
 * The training loop end to end on a tiny random-init YOLO11 and a drawn dataset: epochs run,
 * results.csv and checkpoints are written, tensors don't leak across epochs, a finished run can
 * be extended, and a run killed mid-epoch (SIGKILL) resumes from its last checkpoint.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../../src/main/model/checkpoint';
import { YoloModel } from '../../../src/main/model/yolo';
import { writeSampleDataset } from '../../../src/main/project/sample';
import { parseTrainArgs } from '../../../src/main/train/args';
import { train, type TrainEvent } from '../../../src/main/train/trainer';
import { tinyYolo11Yaml } from '../../helpers/model-fixtures';
import { trainingBackend } from '../../helpers/train-backend';
import { tmpDir } from '../../helpers/tmp';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
let device: 'wasm' | 'cpu';

beforeAll(async () => {
  device = await trainingBackend();
});

async function fixture(images = 8): Promise<{ dir: string; yaml: string; model: string }> {
  const dir = tmpDir('boxtune-train-');
  const ds = await writeSampleDataset(path.join(dir, 'ds'), { images, seed: 3 });
  const model = YoloModel.fromYaml(tinyYolo11Yaml(3) as never, 3, ds.classes, { seed: 0 });
  const file = path.join(dir, 'tiny.safetensors');
  saveCheckpoint(file, model);
  model.dispose();
  return { dir, yaml: ds.yamlPath, model: file };
}

function args(f: { dir: string; yaml: string; model: string }, extra: Record<string, unknown> = {}) {
  return parseTrainArgs({
    model: f.model,
    data: f.yaml,
    imgsz: 64,
    batch: 4,
    workers: 0,
    project: path.join(f.dir, 'runs'),
    name: 'run',
    device,
    close_mosaic: 1,
    ...extra,
  });
}

describe('train', () => {
  it('runs epochs, writes results.csv and checkpoints, and leaks no tensors', async () => {
    const f = await fixture();
    const events: TrainEvent[] = [];
    const tensorsAtEpoch: number[] = [];
    const { runDir, rows } = await train(args(f, { epochs: 3 }), {
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'epoch') tensorsAtEpoch.push(tf.memory().numTensors);
      },
    });
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      for (const v of [...r.trainLosses, ...r.valLosses, r.mAP50, r.mAP50_95]) expect(Number.isFinite(v)).toBe(true);
    }
    // Tensor count is flat from epoch to epoch once the optimizer state exists.
    expect(tensorsAtEpoch[2]).toBe(tensorsAtEpoch[1]);

    const csv = fs.readFileSync(path.join(runDir, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(
      'epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2',
    );
    expect(csv).toHaveLength(4);
    const { model, meta } = loadCheckpoint(path.join(runDir, 'weights', 'best.safetensors'));
    expect(model.names).toEqual(['circle', 'square', 'triangle']);
    expect(meta.imgsz).toBe(64);
    model.dispose();

    const start = events.find((e) => e.type === 'start');
    expect(start).toMatchObject({ type: 'start', trainImages: expect.any(Number), optimizer: { name: 'AdamW' } });
    const batches = events.filter((e) => e.type === 'batch');
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(batches.at(-1)).toMatchObject({ epoch: 3, epochs: 3 });
    expect(events.at(-1)).toMatchObject({ type: 'done' });
  });

  it('reads the start weights once', async () => {
    const f = await fixture();
    const read = vi.spyOn(fs, 'readFileSync');
    try {
      await train(args(f, { epochs: 1 }));
      expect(read.mock.calls.filter(([file]) => file === f.model)).toHaveLength(1);
    } finally {
      read.mockRestore();
    }
  });

  it('extends a finished run by more epochs, keeping its table', async () => {
    const f = await fixture();
    const first = await train(args(f, { epochs: 1 }));
    expect(first.rows).toHaveLength(1);
    await expect(train(args(f, { epochs: 1, resume: true }))).rejects.toThrow(/already finished 1 epochs/);
    const extended = await train(args(f, { epochs: 2, resume: true }));
    expect(extended.rows.map((r) => r.epoch)).toEqual([1, 2]);
    expect(extended.rows[0]).toEqual(first.rows[0]);
  });

  it('resumes a run killed with SIGKILL in the middle of an epoch', async () => {
    const f = await fixture(12);
    const cli = path.join(repoRoot, 'bin/boxtune.mjs');
    const a = [`model=${f.model}`, `data=${f.yaml}`, 'epochs=3', 'imgsz=64', 'batch=4', 'workers=0', `project=${path.join(f.dir, 'runs')}`, 'name=run', `device=${device}`, 'close_mosaic=1'];
    const results = path.join(f.dir, 'runs', 'run', 'results.csv');
    // Kill once epoch 1 is saved and epoch 2 has started.
    const killed = await new Promise<{ signal: string | null; sawEpoch2: boolean }>((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'train', ...a], { stdio: ['ignore', 'pipe', 'inherit'] });
      let sawEpoch2 = false;
      child.stdout.on('data', (chunk: Buffer) => {
        if (!sawEpoch2 && /^\s+2\/3 /m.test(chunk.toString()) && fs.existsSync(results)) {
          sawEpoch2 = true;
          child.kill('SIGKILL');
        }
      });
      child.on('error', reject);
      child.on('exit', (_code, signal) => resolve({ signal, sawEpoch2 }));
    });
    expect(killed).toEqual({ signal: 'SIGKILL', sawEpoch2: true });
    const before = fs.readFileSync(results, 'utf8').trim().split('\n');
    expect(before).toHaveLength(2); // header + epoch 1

    const resumed = await train(args(f, { epochs: 3, resume: true }));
    expect(resumed.rows.map((r) => r.epoch)).toEqual([1, 2, 3]);
    const after = fs.readFileSync(results, 'utf8').trim().split('\n');
    expect(after[1]).toBe(before[1]);
    expect(fs.readdirSync(path.join(f.dir, 'runs', 'run', 'weights')).filter((n) => n.includes('.tmp'))).toEqual([]);
  });
});
