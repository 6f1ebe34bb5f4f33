/**
 * A predict job killed with SIGKILL part way keeps the predictions of the images it finished: a
 * child process predicts the sample project's train split (tiny random-init YOLO11 exported to
 * ONNX, run in onnxruntime) and is killed after a few chunks; the store is whole, holds the
 * finished images' predictions, and a re-run replaces them without doubling any.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BoxtuneService } from '../../../src/main/app/service';
import { onnxBeside, predictSplit, PREDICT_CHUNK } from '../../../src/main/infer/predict-split';
import { saveCheckpoint } from '../../../src/main/model/checkpoint';
import { YoloModel } from '../../../src/main/model/yolo';
import { SAMPLE_CLASSES } from '../../../src/main/project/sample';
import { LabelStore } from '../../../src/main/store/label-store';
import { splitImages } from '../../../src/main/store/predictions';
import { tinyYolo11Yaml } from '../../helpers/model-fixtures';
import { tmpDir } from '../../helpers/tmp';
import { trainingBackend } from '../../helpers/train-backend';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
let service: BoxtuneService | null = null;
beforeAll(async () => {
  await trainingBackend(); // tfjs builds the model and exports it to ONNX here
});
afterEach(async () => {
  await service?.close();
  service = null;
});

/** Predicts in a child and SIGKILLs it once `killAfter` images are done; returns that progress. */
function predictAndKill(root: string, runId: number, weights: string, killAfter: number): Promise<{ done: number; total: number; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'test/helpers/predict-child.ts'), root, String(runId), weights, '64', 'train'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let at = { done: 0, total: 0 };
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as { phase: string; done: number; total: number };
      if (e.phase === 'predicting' && at.done < killAfter) {
        at = e;
        if (e.done >= killAfter) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ ...at, signal }));
  });
}

describe('a predict job killed part way', () => {
  it('keeps the finished images\' predictions in a whole store, and a re-run completes them', async () => {
    service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir('boxtune-data-') });
    const sample = await service['project.openSample']({ images: 60 });
    expect((await service.jobs.wait(sample.jobId)).state).toBe('done');
    const root = (await service['project.info']({})).root;
    await service['project.close']({});

    const model = YoloModel.fromYaml(tinyYolo11Yaml(SAMPLE_CLASSES.length), SAMPLE_CLASSES.length, [...SAMPLE_CLASSES], { seed: 0 });
    const weights = path.join(root, 'runs', 'train', 'weights', 'best.safetensors');
    saveCheckpoint(weights, model);
    model.dispose();
    await onnxBeside(weights, 64); // the child then needs onnxruntime only
    const store = LabelStore.open(root);
    const runId = Number(
      store.db.prepare("INSERT INTO runs (kind, name, status, config, dir, created_at) VALUES ('train', 'train', 'done', '{}', 'runs/train', 0)").run().lastInsertRowid,
    );
    const images = splitImages(store, 'train');
    expect(images.length).toBeGreaterThan(2 * PREDICT_CHUNK + 4);

    const killed = await predictAndKill(root, runId, weights, 2 * PREDICT_CHUNK + 2);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.done).toBeLessThan(killed.total);

    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
    // Every chunk finished before the kill is stored: the split's first images, in its order.
    const stored = store.db.prepare('SELECT DISTINCT image_id FROM predictions WHERE run_id = ? ORDER BY image_id').pluck().all(runId) as number[];
    const finished = Math.floor(killed.done / PREDICT_CHUNK) * PREDICT_CHUNK;
    expect(stored.length).toBeGreaterThanOrEqual(finished);
    expect(stored).toEqual(images.slice(0, stored.length).map((i) => i.id));

    // A re-run replaces those and adds the rest: each image holds exactly one run's predictions.
    const rerun = await predictSplit(store, { runId, weights, imgsz: 64, split: 'train', conf: 0 });
    expect(rerun.images).toBe(images.length);
    expect(store.db.prepare('SELECT COUNT(*) FROM predictions WHERE run_id = ?').pluck().get(runId)).toBe(rerun.predictions);
    expect(store.db.prepare('SELECT COUNT(DISTINCT image_id) FROM predictions WHERE run_id = ?').pluck().get(runId)).toBe(images.length);
    store.close();
  }, 180_000);
});
