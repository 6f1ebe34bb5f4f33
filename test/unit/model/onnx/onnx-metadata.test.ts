import { describe, expect, it } from 'vitest';
import { parsePyLiteral, parseUltralyticsMetadata, readOnnxMetadataProps, readVarint } from '../../../../src/main/model/onnx/onnx-metadata';
import { pbBytes, pbString, pbVarint } from '../../../helpers/protobuf-writer';

const bytes = pbBytes;
const str = pbString;
const entry = (k: string, v: string) => bytes(14, [...str(1, k), ...str(2, v)]);

function model(): Uint8Array {
  const graph = new Uint8Array(300).fill(7); // opaque bytes, skipped by length
  return Uint8Array.from([
    ...pbVarint(1, 8), // ir_version
    ...str(2, 'pytorch'), // producer_name
    ...bytes(7, graph), // graph
    ...bytes(8, [...str(1, ''), ...pbVarint(2, 17)]), // opset_import
    ...pbVarint(5, 2 ** 40), // a large varint (model_version)
    ...entry('stride', '32'),
    ...entry('task', 'detect'),
    ...entry('batch', '1'),
    ...entry('imgsz', '[640, 480]'),
    ...entry('names', "{0: 'person', 1: \"people's\", 2: 'caf\\xe9'}"),
  ]);
}

describe('readOnnxMetadataProps', () => {
  it('reads metadata_props and skips every other field by its length', () => {
    const props = readOnnxMetadataProps(model());
    expect(props).toEqual({
      stride: '32',
      task: 'detect',
      batch: '1',
      imgsz: '[640, 480]',
      names: "{0: 'person', 1: \"people's\", 2: 'caf\\xe9'}",
    });
  });

  it('fails cleanly on truncated input', () => {
    const m = model();
    expect(() => readOnnxMetadataProps(m.subarray(0, m.length - 3))).toThrow(RangeError);
    expect(() => readVarint(Uint8Array.of(0x80), 0)).toThrow(/truncated/);
    expect(readVarint(Uint8Array.of(0xac, 0x02), 0)).toEqual([300, 2]);
  });
});

describe('parseUltralyticsMetadata', () => {
  it('parses names, stride, imgsz, task and batch', () => {
    const meta = parseUltralyticsMetadata(readOnnxMetadataProps(model()));
    expect(meta.names).toEqual(['person', "people's", 'café']);
    expect(meta.stride).toBe(32);
    expect(meta.imgsz).toEqual([640, 480]);
    expect(meta.task).toBe('detect');
    expect(meta.batch).toBe(1);
  });

  it('tolerates missing entries and fills gaps in names', () => {
    const meta = parseUltralyticsMetadata({ names: "{0: 'a', 2: 'c'}", imgsz: '320' });
    expect(meta.names).toEqual(['a', '1', 'c']);
    expect(meta.imgsz).toEqual([320, 320]);
    expect(meta.stride).toBeNull();
    expect(parseUltralyticsMetadata({}).names).toEqual([]);
  });
});

describe('parsePyLiteral', () => {
  it('reads the literals str() writes', () => {
    expect(parsePyLiteral("[{'batch': 1, 'half': False, 'x': None}, (1, 2.5, -3e2)]")).toEqual([
      new Map<unknown, unknown>([
        ['batch', 1],
        ['half', false],
        ['x', null],
      ]),
      [1, 2.5, -300],
    ]);
    expect(parsePyLiteral("'a\\'b\\n'")).toBe("a'b\n");
    expect(() => parsePyLiteral('{0: ')).toThrow(SyntaxError);
    expect(() => parsePyLiteral('[1] x')).toThrow(/trailing/);
  });
});
