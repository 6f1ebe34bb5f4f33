/**
 * models.inspect through the real Api (dispatcher -> service -> worker thread): the Train view
 * inspects whatever path the user types, 300 ms after typing. The file is read in a worker with a
 * size, time and memory limit, so a hostile or merely huge file gets a clear error and never
 * stalls the thread that serves the UI (a timer on that thread keeps ticking throughout).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../../src/main/app/dispatch';
import { BoxtuneService } from '../../../src/main/app/service';
import { MAX_MODEL_FILE_BYTES } from '../../../src/main/model/limits';
import { encodeModel } from '../../../src/main/model/onnx/onnx-proto';
import { YoloModel } from '../../../src/main/model/yolo';
import { inspectModelFile, inspectModelFileInWorker } from '../../../src/main/model/zoo';
import { deflatedZeros, minimalCheckpoint, onnxWithExtraNodes, onnxWithMetadata, sharedModules, torchZipEntries, writeZip } from '../../helpers/hostile-models';
import { tinyYolo11Yaml, useModelTestBackend } from '../../helpers/model-fixtures';
import { fakeUltralyticsCheckpoint, writeTorchZip } from '../../helpers/model-pt-writer';
import { tmpDir } from '../../helpers/tmp';

/** Runs `fn` while a 10 ms timer ticks on this thread; the longest gap between ticks says how long the thread was blocked. */
async function whileTicking<T>(fn: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; maxGapMs: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 10);
  try {
    const [result] = await Promise.allSettled([fn()]);
    maxGapMs = Math.max(maxGapMs, performance.now() - last);
    return { result: result!, maxGapMs };
  } finally {
    clearInterval(tick);
  }
}

/** An Ultralytics-shaped ONNX model (input [1, 3, 64, 64], output [1, 6, 100], one Conv) with `extra` more nodes. */
function bigOnnx(extra: number): Uint8Array {
  const vi = (name: string, dims: number[]) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } });
  const base = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'test',
    producer_version: '0',
    graph: {
      name: 'g',
      node: [{ name: 'c', op_type: 'Conv', input: ['images', 'w'], output: ['output0'], attribute: [] }],
      initializer: [{ name: 'w', dims: [1, 3, 1, 1], data_type: 1, raw_data: new Uint8Array(12) }],
      input: [vi('images', [1, 3, 64, 64])],
      output: [vi('output0', [1, 6, 100])],
    },
    metadata_props: [{ key: 'task', value: 'detect' }, { key: 'names', value: "{0: 'a', 1: 'b'}" }],
  });
  return onnxWithExtraNodes(base, extra);
}

describe('models.inspect runs in a worker', () => {
  let service: BoxtuneService;
  let call: ReturnType<typeof createDispatcher>;

  beforeAll(async () => {
    await useModelTestBackend();
    service = new BoxtuneService({ shell: 'browser', dataDir: tmpDir('boxtune-data-') });
    call = createDispatcher(service);
  });
  afterAll(async () => service.close());

  const write = (name: string, bytes: Uint8Array): string => {
    const file = path.join(tmpDir(), name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  it('a random-init .pt made by our own writer inspects', async () => {
    const yaml = { ...tinyYolo11Yaml(3), yaml_file: 'yolo11t.yaml' };
    const model = YoloModel.fromYaml(yaml, 3, ['ant', 'bee', 'cicada'], { seed: 3 });
    const file = write('tiny.pt', fakeUltralyticsCheckpoint(yaml, model.names, model.stride, model.stateDict(), { dtype: 'float16' }));
    model.dispose();
    const { result, maxGapMs } = await whileTicking(() => call('models.inspect', { path: file }));
    expect(result).toMatchObject({ status: 'fulfilled', value: { ok: true, value: { format: 'pt', nc: 3, names: ['ant', 'bee', 'cicada'], family: 'yolo11', yamlScale: 't' } } });
    expect(maxGapMs).toBeLessThan(1000);
  });

  it('hostile files get clear errors, and the main thread keeps ticking', async () => {
    const bomb = torchZipEntries(minimalCheckpoint());
    bomb[0] = { name: 'archive/data.pkl', stored: deflatedZeros(256), deflated: true, declaredSize: 256 << 20 };
    const huge = path.join(tmpDir(), 'huge.onnx');
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, MAX_MODEL_FILE_BYTES + 1024 ** 3); // sparse
    const cases: [string, RegExp][] = [
      [write('names.onnx', onnxWithMetadata([['names', "{4294967294: 'x'}"]])), /^names\.onnx is not a readable ONNX model: metadata 'names': class index 4294967294/],
      [write('bomb.pt', writeZip(bomb)), /^bomb\.pt: archive\/data\.pkl would inflate to 268435456 bytes/],
      [write('shared.pt', writeTorchZip(minimalCheckpoint({ modules: [['model', sharedModules(40)]] }))), /^shared\.pt: the model has more than 10000 modules/],
      [huge, /huge\.onnx is 3\.0 GiB; boxtune reads model files up to 2\.0 GiB$/],
    ];
    for (const [file, message] of cases) {
      const { result, maxGapMs } = await whileTicking(() => call('models.inspect', { path: file }));
      expect(result).toMatchObject({ status: 'fulfilled', value: { ok: false, error: { code: 'FILE_UNREADABLE', message: expect.stringMatching(message) } } });
      expect(maxGapMs, path.basename(file)).toBeLessThan(1000);
    }
  });

  it('a big honest ONNX graph blocks the thread that parses it, which is no longer the main one', async () => {
    const file = write('big.onnx', bigOnnx(100_000));
    const inProcess = await whileTicking(() => inspectModelFile(file));
    const inWorker = await whileTicking(() => call('models.inspect', { path: file }));
    expect(inProcess.result).toMatchObject({ status: 'fulfilled', value: { nc: 2, params: 3 } });
    expect(inWorker.result).toMatchObject({ status: 'fulfilled', value: { ok: true, value: { nc: 2, params: 3 } } });
    console.log(`big.onnx (100k nodes): main thread blocked ${inProcess.maxGapMs.toFixed(0)} ms in process, ${inWorker.maxGapMs.toFixed(0)} ms with the worker`);
    expect(inWorker.maxGapMs).toBeLessThan(Math.max(200, inProcess.maxGapMs / 4));
  });

  it('past its time limit the worker is ended and the call says so; the next call works', async () => {
    const file = write('slow.onnx', bigOnnx(200_000));
    const { result, maxGapMs } = await whileTicking(() => inspectModelFileInWorker(file, { timeMs: 300 }));
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'FILE_UNREADABLE', message: 'took too long to inspect slow.onnx (limit 0.3 s); is it a model file?' } });
    expect(maxGapMs).toBeLessThan(1000);
    expect(await call('models.inspect', { path: write('ok.onnx', bigOnnx(0)) })).toMatchObject({ ok: true, value: { nc: 2 } });
  });

  it('past its memory limit the worker is ended and the call says so', async () => {
    const file = write('hungry.onnx', bigOnnx(200_000));
    const { result } = await whileTicking(() => inspectModelFileInWorker(file, { heapMb: 64 }));
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'FILE_UNREADABLE', message: 'inspecting hungry.onnx needed more than 64 MiB of memory; is it a model file?' } });
  });
});
