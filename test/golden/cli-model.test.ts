/** `boxtune val / export / predict` on the real checkpoint and coco8, as a person runs them. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const SHARED = path.resolve(repoRoot, '../shared');
const BIN = path.join(repoRoot, 'bin/boxtune.mjs');

function boxtune(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('boxtune val / export / predict', () => {
  it("validates yolo11n-coco.pt on coco8 val with Ultralytics' result (mAP50-95 0.633, mAP50 0.846)", () => {
    const run = boxtune('val', `model=${path.join(SHARED, 'models/yolo11n-coco.pt')}`, `data=${path.join(SHARED, 'data/coco8/coco8.yaml')}`, 'imgsz=640', 'batch=4');
    expect(run.code).toBe(0);
    const all = run.stdout.split('\n').find((l) => l.startsWith('all'))!;
    const [, images, instances, , , map50, map5095] = all.trim().split(/\s+/).map(Number);
    expect([images, instances]).toEqual([4, 17]);
    expect(map50).toBeCloseTo(0.846, 2);
    expect(map5095).toBeCloseTo(0.633, 2);
  });

  it('exports to ONNX next to the weights and predicts with it, writing YOLO labels with scores', () => {
    const dir = tmpDir();
    const pt = path.join(dir, 'yolo11n-coco.pt');
    fs.copyFileSync(path.join(SHARED, 'models/yolo11n-coco.pt'), pt);
    const exported = boxtune('export', `model=${pt}`, 'format=onnx', 'imgsz=640');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('output0 [1, 84, 8400]');
    expect(fs.existsSync(path.join(dir, 'yolo11n-coco.onnx'))).toBe(true);
    const predicted = boxtune('predict', `model=${path.join(dir, 'yolo11n-coco.onnx')}`, `source=${path.join(SHARED, 'data/coco8/images/val')}`, `project=${path.join(dir, 'pred')}`);
    expect(predicted.code).toBe(0);
    expect(predicted.stdout).toMatch(/000000000042\.jpg: .*dog/);
    const labels = fs.readFileSync(path.join(dir, 'pred/labels/000000000049.txt'), 'utf8').trim().split('\n');
    expect(labels.length).toBeGreaterThan(3);
    for (const l of labels) expect(l.split(' ')).toHaveLength(6);
  });
});
