/**
 * inspectModelFile on hostile files: every format's reader bounds what the file declares, so a
 * crafted file of a few bytes gets a clear error naming the file and the field, fast, instead of
 * freezing or killing the process (the Train view inspects whatever path the user types).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import { MAX_MODEL_FILE_BYTES } from '../../../../src/main/model/limits';
import { encodeModel, type ModelProto, type TensorProto } from '../../../../src/main/model/onnx/onnx-proto';
import { inspectModelFile } from '../../../../src/main/model/zoo';
import { concat, minimalCheckpoint, onnxWithMetadata, safetensorsFile } from '../../../helpers/hostile-models';
import { tinyYolo11Yaml } from '../../../helpers/model-fixtures';
import { dict, fromJson, writeTorchZip, type Py } from '../../../helpers/model-pt-writer';
import { tmpDir } from '../../../helpers/tmp';
import { varint } from '../../../helpers/protobuf-writer';

/** Writes `bytes` as `name` (or takes `name` as a path) and inspects it: it must fail with an AppError within `ms`. */
async function inspectFails(name: string, bytes: Uint8Array | null, ms = 2000): Promise<AppError> {
  const file = bytes ? path.join(tmpDir(), name) : name;
  if (bytes) fs.writeFileSync(file, bytes);
  const t0 = performance.now();
  const err = await inspectModelFile(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(performance.now() - t0).toBeLessThan(ms);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

/** An Ultralytics-shaped ONNX model: input [1, 3, 64, 64], output [1, outC, 100], one Conv on `w`. */
function onnxModel(outC: number, w: TensorProto, names = "{0: 'a'}", more: { key: string; value: string }[] = []): Uint8Array {
  const vi = (name: string, dims: number[]) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } });
  const m: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'test',
    producer_version: '0',
    graph: {
      name: 'g',
      node: [{ name: 'c', op_type: 'Conv', input: ['images', 'w'], output: ['output0'], attribute: [] }],
      initializer: [w],
      input: [vi('images', [1, 3, 64, 64])],
      output: [vi('output0', [1, outC, 100])],
    },
    metadata_props: [{ key: 'task', value: 'detect' }, { key: 'names', value: names }, ...more],
  };
  return encodeModel(m);
}
const varintBytes = (n: number): Uint8Array[] => [Uint8Array.from(varint(n))];
const weight = (dims: number[], bytes: number): TensorProto => ({ name: 'w', dims, data_type: 1, raw_data: new Uint8Array(bytes) });

describe('inspectModelFile on hostile files', () => {
  it("a 28-byte .onnx whose names are {4294967294: 'x'}", async () => {
    const bytes = onnxWithMetadata([['names', "{4294967294: 'x'}"]]);
    expect(bytes.length).toBe(28);
    const e = await inspectFails('h.onnx', bytes);
    expect(e.code).toBe('FILE_UNREADABLE');
    expect(e.message).toBe("h.onnx is not a readable ONNX model: metadata 'names': class index 4294967294 is not a whole number from 0 to 9999");
  });

  it('an .onnx whose output says 4294967290 classes', async () => {
    const e = await inspectFails('nc.onnx', onnxModel(4294967294, weight([1, 3, 1, 1], 12)));
    expect(e.message).toBe('nc.onnx: output0 [1, 4294967294, 100] says 4294967290 classes; boxtune reads at most 10000');
  });

  it('an .onnx initializer whose dims do not match its data', async () => {
    const huge = await inspectFails('w.onnx', onnxModel(6, weight([1e6, 1e6, 3, 3], 4)));
    expect(huge.message).toBe("w.onnx: initializer 'w' has dims [1000000, 1000000, 3, 3] but holds 4 bytes");
    const neg = await inspectFails('n.onnx', onnxModel(6, weight([-1, 3, 1, 1], 12)));
    expect(neg.message).toBe("n.onnx: initializer 'w' has dims [-1, 3, 1, 1]: each must be a whole number >= 0");
  });

  it('an .onnx nested 200 graphs deep, and one whose graph declares a terabyte', async () => {
    const field = (num: number, body: Uint8Array) => concat([Uint8Array.of((num << 3) | 2), ...varintBytes(body.length), body]);
    let g: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 200; i++) g = field(1, field(5, field(6, g))); // Graph.node -> Node.attribute -> Attribute.g
    expect((await inspectFails('deep.onnx', field(7, g))).message).toBe('deep.onnx is not a readable ONNX model: max depth exceeded');
    const tera = concat([Uint8Array.of(7 << 3 | 2), ...varintBytes(2 ** 40), new Uint8Array(16)]);
    expect((await inspectFails('tera.onnx', tera)).message).toMatch(/^tera\.onnx is not a readable ONNX model: field 7 runs past the end/);
  });

  it("an .onnx whose boxtune metadata holds a yaml of a billion repeats, or a source that is not text", async () => {
    const yaml = tinyYolo11Yaml(2) as { head: unknown[][] };
    yaml.head[2]![1] = 1e9;
    const info = (extra: Record<string, unknown>) => JSON.stringify({ format: 'boxtune-onnx/1', ...extra });
    const withInfo = (boxtune: string) => onnxModel(6, weight([1, 3, 1, 1], 12), "{0: 'a', 1: 'b'}", [{ key: 'boxtune', value: boxtune }]);
    expect((await inspectFails('y.onnx', withInfo(info({ yaml })))).message).toBe('y.onnx: the yaml in its boxtune metadata: yaml head[2]: 500000000 repeats; boxtune builds at most 100');
    const file = path.join(tmpDir(), 's.onnx');
    fs.writeFileSync(file, withInfo(info({ source: { a: [1, 2, 3] } })));
    expect(await inspectModelFile(file)).toMatchObject({ nc: 2, source: null });
  });

  it('a sane .onnx of that shape still inspects', async () => {
    const file = path.join(tmpDir(), 'ok.onnx');
    fs.writeFileSync(file, onnxModel(6, weight([1, 3, 1, 1], 12), "{0: 'a', 1: 'b'}"));
    expect(await inspectModelFile(file)).toMatchObject({ format: 'onnx', nc: 2, names: ['a', 'b'], params: 3, imgsz: [64, 64] });
  });

  it('a .pt whose names index is 4294967294', async () => {
    const e = await inspectFails('h.pt', writeTorchZip(minimalCheckpoint({ model: { names: dict([[4294967294, 'x'] as [Py, Py]]) } })));
    expect(e.message).toBe('h.pt: model.names: class index 4294967294 is not a whole number from 0 to 9999');
  });

  it('a .pt whose yaml asks for a billion repeats, or a billion classes', async () => {
    const yaml = tinyYolo11Yaml(2) as { head: unknown[][]; nc: number };
    yaml.head[2]![1] = 1e9; // a C3k2
    const e = await inspectFails('r.pt', writeTorchZip(minimalCheckpoint({ model: { yaml: fromJson(yaml) } })));
    expect(e.message).toBe('r.pt: yaml head[2]: 500000000 repeats; boxtune builds at most 100'); // after the 0.5 depth gain
    const nc = await inspectFails('nc.pt', writeTorchZip(minimalCheckpoint({ model: { yaml: fromJson({ ...tinyYolo11Yaml(2), nc: 1e9 }) } })));
    expect(nc.message).toBe('nc.pt: model yaml has nc 1000000000; boxtune reads at most 10000 classes');
  });

  it('a .safetensors checkpoint whose names are not a list, or too many', async () => {
    const meta = (names: unknown) => ({ __metadata__: { format: 'boxtune-yolo/1', yaml: '{}', names: JSON.stringify(names) } });
    const obj = await inspectFails('o.safetensors', safetensorsFile(meta({ 4294967294: 'x' }), new Uint8Array(0)));
    expect(obj.message).toBe("o.safetensors: metadata 'names' is not a list of class names");
    const many = await inspectFails('m.safetensors', safetensorsFile(meta(Array.from({ length: 10001 }, () => 'c')), new Uint8Array(0)));
    expect(many.message).toBe("m.safetensors: metadata 'names' has 10001 classes; boxtune reads at most 10000");
  });

  it('a .safetensors whose tensors all point at the same bytes (one 4 MiB region read 1000 times)', async () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) header[`t${i}`] = { dtype: 'F32', shape: [1 << 20], data_offsets: [0, 4 << 20] };
    const e = await inspectFails('amp.safetensors', safetensorsFile(header, new Uint8Array(4 << 20)));
    expect(e.message).toBe("amp.safetensors is not a readable safetensors file: tensors 't0' and 't1' overlap in the data");
  });

  it('a file larger than any model is refused by its size before it is read', async () => {
    const file = path.join(tmpDir(), 'huge.pt');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, MAX_MODEL_FILE_BYTES + 1024 ** 3); // sparse: no disk used
    const e = await inspectFails(file, null, 200);
    expect(e.code).toBe('FILE_UNREADABLE');
    expect(e.message).toBe(`${file} is 3.0 GiB; boxtune reads model files up to 2.0 GiB`);
  });
});
