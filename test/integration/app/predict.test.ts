/**
 * Predictions of a finished run through the service, as the Train view's "Review predictions" uses
 * them: a real 1-epoch run on the sample project (tiny random-init YOLO11, imgsz 64), its best
 * weights exported to ONNX and run in onnxruntime over the val split in a worker, the detections
 * stored apart from the labels and read back per image; a second pass replaces the first.
 */
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../../src/main/app/dispatch';
import { BoxtuneService } from '../../../src/main/app/service';
import { saveCheckpoint } from '../../../src/main/model/checkpoint';
import { YoloModel } from '../../../src/main/model/yolo';
import { SAMPLE_CLASSES } from '../../../src/main/project/sample';
import type { PredictSplitResult } from '../../../src/main/infer/predict-split';
import { tinyYolo11Yaml } from '../../helpers/model-fixtures';
import { tmpDir } from '../../helpers/tmp';
import { trainingBackend } from '../../helpers/train-backend';

let service: BoxtuneService | null = null;
let device: 'wasm' | 'cpu';
beforeAll(async () => {
  device = await trainingBackend();
});
afterEach(async () => {
  await service?.close();
  service = null;
});

describe('train.predict and images.predictions', () => {
  it('predicts the val split with a run\'s best weights, stores the detections apart from the labels, and replaces them on a re-run', async () => {
    service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir('boxtune-data-') });
    const call = createDispatcher(service);
    const sample = await service['project.openSample']({ images: 16 });
    expect((await service.jobs.wait(sample.jobId)).state).toBe('done');
    const home = tmpDir('boxtune-predict-');
    const model = YoloModel.fromYaml(tinyYolo11Yaml(SAMPLE_CLASSES.length), SAMPLE_CLASSES.length, [...SAMPLE_CLASSES], { seed: 0 });
    const checkpoint = path.join(home, 'tiny.safetensors');
    saveCheckpoint(checkpoint, model);
    model.dispose();

    // No weights yet: a clear error, no job.
    const { runId, jobId } = await service['train.start']({ model: checkpoint, epochs: 1, imgsz: 64, batch: 4, device });
    expect((await service.jobs.wait(jobId)).state).toBe('done');
    expect(await call('train.predict', { runId: runId + 100 })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await call('train.predict', { runId, split: 'nope' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });

    const boxesBefore = (await service['project.info']({})).boxes;
    // conf 0: an untrained tiny model scores below Ultralytics' 0.25, and every box counts here.
    const first = await service['train.predict']({ runId, conf: 0 });
    const job = await service.jobs.wait(first.jobId);
    expect(job.state).toBe('done');
    const result = job.result as PredictSplitResult;
    const val = await service['images.page']({ filter: { split: 'val' }, limit: 100 });
    expect(result.images).toBe(val.total);
    expect(result.failed).toEqual([]);
    expect(result.predictions).toBeGreaterThan(0);

    const classIds = new Set((await service['classes.list']({})).map((c) => c.id));
    let stored = 0;
    for (const img of val.items) {
      const preds = await service['images.predictions']({ id: img.id });
      stored += preds.length;
      for (const p of preds) {
        expect(p).toMatchObject({ runId, imageId: img.id });
        expect(classIds.has(p.classId)).toBe(true);
        expect(p.x).toBeGreaterThanOrEqual(-1e-3);
        expect(p.y).toBeGreaterThanOrEqual(-1e-3);
        expect(p.x + p.w).toBeLessThanOrEqual(img.width + 1e-3);
        expect(p.y + p.h).toBeLessThanOrEqual(img.height + 1e-3);
      }
      expect(preds.map((p) => p.score)).toEqual([...preds.map((p) => p.score)].sort((a, b) => b - a));
    }
    expect(stored).toBe(result.predictions);
    expect((await service['images.page']({ filter: { hasPredictions: true }, limit: 1 })).total).toBeGreaterThan(0);
    expect((await service['project.info']({})).boxes).toBe(boxesBefore); // labels untouched

    // Again, stricter: the run's earlier predictions on those images are replaced, not added to.
    const again = await service.jobs.wait((await service['train.predict']({ runId, conf: 0.5 })).jobId);
    const strict = again.result as PredictSplitResult;
    expect(strict.predictions).toBeLessThan(result.predictions);
    let restored = 0;
    for (const img of val.items) restored += (await service['images.predictions']({ id: img.id })).length;
    expect(restored).toBe(strict.predictions);
  }, 240_000);
});
