/**
 * yolo11n-coco.onnx on coco8 val, as Ultralytics validates an exported model: imgsz 640, square
 * letterbox, batch 1, conf 0.001, IoU 0.7, max_det 300. DESIGN.md: Ultralytics 8.3.186 gets
 * mAP50-95 0.631, mAP50 0.857 for exactly this.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateDetector, type EvalSample } from '../../src/main/infer/evaluate';
import { OnnxDetector, predictBatch, type BatchProgress } from '../../src/main/infer/onnx-detector';
import { coco8Val } from '../helpers/coco8';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = path.resolve(repoRoot, '../shared/models/yolo11n-coco.onnx');
const COCO8 = path.resolve(repoRoot, '../shared/data/coco8');
const REFERENCE = { mAP50_95: 0.631, mAP50: 0.857 };

describe('yolo11n-coco.onnx on coco8 val', () => {
  let det: OnnxDetector;
  beforeAll(async () => {
    det = await OnnxDetector.load(MODEL, { threads: 2 });
  });
  afterAll(async () => {
    await det?.dispose();
  });

  it("reads Ultralytics' metadata from the model", () => {
    expect(det.names.length).toBe(80);
    expect(det.names[0]).toBe('person');
    expect(det.names[79]).toBe('toothbrush');
    expect(det.metadata.imgsz).toEqual([640, 640]);
    expect(det.metadata.stride).toBe(32);
    expect(det.metadata.task).toBe('detect');
    expect(det.staticInputSize).toEqual([640, 640]);
  });

  it("matches Ultralytics' val mAP within 0.005", async () => {
    const r = await evaluateDetector(det, coco8Val(), { imgsz: 640, conf: 0.001, iou: 0.7, maxDet: 300 });
    console.log(
      `coco8 val: P ${r.precision.toFixed(4)} R ${r.recall.toFixed(4)} mAP50 ${r.mAP50.toFixed(4)} mAP50-95 ${r.mAP50_95.toFixed(4)} ` +
        `(Ultralytics ${REFERENCE.mAP50.toFixed(3)} / ${REFERENCE.mAP50_95.toFixed(3)})`,
    );
    expect(r.images).toBe(4);
    expect(r.instances).toBe(17);
    expect(Math.abs(r.mAP50_95 - REFERENCE.mAP50_95)).toBeLessThan(0.005);
    expect(Math.abs(r.mAP50 - REFERENCE.mAP50)).toBeLessThan(0.005);
    expect(r.fitness).toBeCloseTo(0.1 * r.mAP50 + 0.9 * r.mAP50_95, 12);
    expect(r.perClass.map((c) => c.name)).toEqual(['person', 'dog', 'horse', 'elephant', 'umbrella', 'potted plant']);
  });

  it('detects in image pixels and predicts a batch with progress', async () => {
    const images = coco8Val().map((s) => s.image as string);
    const progress: BatchProgress[] = [];
    const out = await predictBatch(det, [...images, path.join(COCO8, 'missing.jpg')], { conf: 0.25, onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5]);
    expect(out[4]!.error).toBeTruthy();
    // 000000000042.jpg (640x478): a dog
    const dog = out[1]!.detections.find((d) => d.classId === 16);
    expect(dog).toBeDefined();
    for (const item of out.slice(0, 4)) {
      for (const d of item.detections) {
        expect(d.score).toBeGreaterThan(0.25);
        expect(d.x).toBeGreaterThanOrEqual(0);
        expect(d.y).toBeGreaterThanOrEqual(0);
        expect(d.w).toBeGreaterThan(0);
        expect(d.x + d.w).toBeLessThanOrEqual(640);
        expect(d.y + d.h).toBeLessThanOrEqual(640);
      }
      for (let i = 1; i < item.detections.length; i++) expect(item.detections[i]!.score).toBeLessThanOrEqual(item.detections[i - 1]!.score);
    }
  });

  it('explains an imgsz the static model cannot take, and a missing CUDA provider', async () => {
    await expect(det.detect(coco8Val()[0]!.image, { imgsz: 320 })).rejects.toThrow(/exported for 640x640/);
    await expect(OnnxDetector.load(path.join(COCO8, 'nope.onnx'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await expect(OnnxDetector.load(MODEL, { device: 'tpu' as never })).rejects.toThrow(/Should be one of: cpu, cuda/);
    // Without onnxruntime-node's CUDA provider (shipped separately) 'cuda' fails with how to get it;
    // where it is installed the model loads.
    const cuda = await OnnxDetector.load(MODEL, { device: 'cuda' }).then(
      async (d) => {
        await d.dispose();
        return null;
      },
      (err: unknown) => err as Error,
    );
    if (cuda) expect(cuda.message).toMatch(/device 'cuda'.*(ONNXRUNTIME_NODE_INSTALL_CUDA|CUDA 12).*use device 'cpu'/s);
  });
});
