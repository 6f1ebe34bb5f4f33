/**
 * OnnxDetector end to end on a tiny hand-written ONNX model: `images` [1, 3, 4, 4] reshaped to
 * `output0` [1, 6, 8], i.e. a "detect head" with nc = 2 and 8 anchors whose rows are the image's
 * planes: cx, cy = red, w, h = green, class scores = blue (pixel / 255).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/main/images/letterbox';
import { evaluateDetector } from '../../../src/main/infer/evaluate';
import { OnnxDetector, predictBatch } from '../../../src/main/infer/onnx-detector';
import { pbBytes, pbString, pbVarint } from '../../helpers/protobuf-writer';
import { tmpDir } from '../../helpers/tmp';

const require = createRequire(import.meta.url);

const num = pbVarint;
const msg = pbBytes;
const str = pbString;

/** ValueInfoProto: name + float tensor type of the given shape. */
function valueInfo(field: number, name: string, dims: number[]): number[] {
  const shape = dims.flatMap((d) => msg(1, num(1, d)));
  return msg(field, [...str(1, name), ...msg(2, msg(1, [...num(1, 1), ...msg(2, shape)]))]);
}

function tinyModel(metadata: Record<string, string>): Uint8Array {
  const shape = new Uint8Array(new BigInt64Array([1n, 6n, 8n]).buffer);
  const graph = [
    ...msg(1, [...str(1, 'images'), ...str(1, 'shape'), ...str(2, 'output0'), ...str(3, 'reshape'), ...str(4, 'Reshape')]),
    ...str(2, 'tiny'),
    ...msg(5, [...num(1, 3), ...num(2, 7), ...str(8, 'shape'), ...msg(9, [...shape])]),
    ...valueInfo(11, 'images', [1, 3, 4, 4]),
    ...valueInfo(12, 'output0', [1, 6, 8]),
  ];
  return Uint8Array.from([
    ...num(1, 8), // ir_version
    ...str(2, 'boxtune-test'),
    ...msg(7, graph),
    ...msg(8, [...str(1, ''), ...num(2, 17)]), // opset 17
    ...Object.entries(metadata).flatMap(([k, v]) => msg(14, [...str(1, k), ...str(2, v)])),
  ]);
}

/** A 4x4 image whose planes encode anchors: anchor 0 is a box (1, 1, 1, 1) of class 0 at 0.9. */
function image(): RgbImage {
  const data = new Uint8Array(4 * 4 * 3);
  const set = (pixel: number, c: number, v: number) => (data[pixel * 3 + c] = v);
  set(0, 0, 255); // cx of anchor 0 (red row 0)
  set(8, 0, 255); // cy (red row 1)
  set(0, 1, 255); // w (green row 0)
  set(8, 1, 255); // h (green row 1)
  set(0, 2, 230); // class 0 score (blue row 0)
  set(9, 2, 51); // anchor 1: class 1 score 0.2, box all zeros
  return { data, width: 4, height: 4 };
}

function writeModel(dir: string): string {
  const file = path.join(dir, 'tiny.onnx');
  fs.writeFileSync(file, tinyModel({ names: "{0: 'cat', 1: 'dog'}", imgsz: '[4, 4]', stride: '32', task: 'detect' }));
  return file;
}

describe('OnnxDetector', () => {
  it('loads the model and its metadata, predicts raw output, detects boxes in image pixels', async () => {
    const det = await OnnxDetector.load(writeModel(tmpDir()), { threads: 1 });
    try {
      expect(det.names).toEqual(['cat', 'dog']);
      expect(det.metadata.imgsz).toEqual([4, 4]);
      expect(det.staticInputSize).toEqual([4, 4]);
      expect(det.inputName).toBe('images');

      const raw = await det.predict(new Float32Array(48).fill(0.5), [1, 3, 4, 4]);
      expect(raw.dims).toEqual([1, 6, 8]);
      expect(raw.data.every((v) => v === 0.5)).toBe(true);

      const found = await det.detect(image(), { conf: 0.25 });
      expect(found).toHaveLength(1);
      expect(found[0]!.classId).toBe(0);
      expect(found[0]!.score).toBeCloseTo(230 / 255, 6);
      expect([found[0]!.x, found[0]!.y, found[0]!.w, found[0]!.h]).toEqual([0.5, 0.5, 1, 1]);
      expect(await det.detect(image(), { conf: 0.1 })).toHaveLength(2);

      await expect(det.detect(image(), { imgsz: 8 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    } finally {
      await det.dispose();
    }
  });

  it('predicts a batch with progress, reports unreadable images, and stops on abort', async () => {
    const dir = tmpDir();
    const det = await OnnxDetector.load(writeModel(dir));
    try {
      const sharp = (await import('sharp')).default;
      const img = image();
      const file = path.join(dir, 'a.png');
      await sharp(Buffer.from(img.data), { raw: { width: 4, height: 4, channels: 3 } }).png().toFile(file);
      const progress: number[] = [];
      const out = await predictBatch(det, [file, path.join(dir, 'missing.png')], { conf: 0.25, onProgress: (p) => progress.push(p.done) });
      expect(progress).toEqual([1, 2]);
      expect(out[0]!.detections.map((d) => d.classId)).toEqual([0]);
      expect(out[1]!.error).toBeTruthy();

      const ac = new AbortController();
      ac.abort();
      await expect(predictBatch(det, [file], { signal: ac.signal })).rejects.toMatchObject({ code: 'JOB_CANCELLED' });
    } finally {
      await det.dispose();
    }
  });

  it('validates against labels in the letterboxed space', async () => {
    const det = await OnnxDetector.load(writeModel(tmpDir()));
    try {
      // the model finds a cat at (0.5, 0.5, 1, 1) in every image: labels in pixels and normalised
      const r = await evaluateDetector(det, [
        { image: image(), labels: [{ classId: 0, x: 0.5, y: 0.5, w: 1, h: 1 }] },
        { image: image(), labels: [{ classId: 1, x: 2, y: 2, w: 2, h: 2 }], normalized: false },
        { image: image(), labels: [{ classId: 0, x: 0.125, y: 0.125, w: 0.25, h: 0.25 }], normalized: true },
      ]);
      expect(r.images).toBe(3);
      expect(r.perClass.map((c) => [c.name, c.instances])).toEqual([
        ['cat', 2],
        ['dog', 1],
      ]);
      // the cat prediction on every image, equal confidence, in image order: TP, FP (the dog image), TP
      expect(r.perClass[0]!.ap50).toBeCloseTo(0.8283333333, 9);
      expect(r.perClass[0]!.ap50_95).toBeCloseTo(0.8283333333, 9);
      expect(r.perClass[1]!.ap50).toBe(0);
      expect(r.mAP50).toBeCloseTo(0.8283333333 / 2, 9);
    } finally {
      await det.dispose();
    }
  });

  it('explains files it cannot use', async () => {
    const dir = tmpDir();
    await expect(OnnxDetector.load(path.join(dir, 'none.onnx'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    const junk = path.join(dir, 'junk.onnx');
    fs.writeFileSync(junk, Buffer.from([0xff, 0xff, 0xff]));
    await expect(OnnxDetector.load(junk)).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
    await expect(OnnxDetector.load(junk, { device: 'gpu' as never })).rejects.toThrow(/Unsupported device: "gpu". Should be one of: cpu, cuda/);
  });

  it("device 'cuda' without the CUDA provider's libraries: a plain error, and no native error on stderr", () => {
    const ortBin = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin/napi-v6/linux/x64');
    if (process.platform === 'linux' && fs.existsSync(path.join(ortBin, 'libonnxruntime_providers_cuda.so'))) return; // a CUDA machine
    const dir = tmpDir();
    const model = path.join(dir, 'tiny.onnx');
    fs.writeFileSync(model, tinyModel({ names: "{0: 'a', 1: 'b'}", stride: '4', imgsz: '[4, 4]' }));
    // A child process, so onnxruntime's own logging (native stderr) is captured too.
    const script = path.join(dir, 'load.mts');
    const detector = path.resolve(import.meta.dirname, '../../../src/main/infer/onnx-detector.ts');
    fs.writeFileSync(script, `import { OnnxDetector } from ${JSON.stringify(detector)};
await OnnxDetector.load(${JSON.stringify(model)}, { device: 'cuda' }).then(() => console.log('loaded'), (e) => console.log('error:', e.code, e.message));`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(run.stdout).toContain("error: INVALID_INPUT cannot predict on device 'cuda': onnxruntime-node's CUDA provider is not installed");
    expect(run.stderr).not.toMatch(/Failed to load|providers_shared/);
  });
});
