/**
 * Hostile .pt files: each is a few bytes to a few hundred KiB, made here, and each once froze or
 * killed the process that read it (a names index that builds a 4-billion-entry array, objects shared
 * through the pickle memo that make the walks exponential, zip entries that inflate without a cap,
 * lengths that send the pickle VM backwards, tensors that decode one storage thousands of times).
 * Now each gets a clear AppError, fast, naming the file and the field.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/shared/errors';
import { MAX_CLASSES, MAX_MODULES, MAX_PLAIN_VALUES } from '../../../src/main/model/limits';
import { PickleError, toPlain, unpickle } from '../../../src/main/model/pt/pickle';
import { readPt } from '../../../src/main/model/pt/pt-reader';
import { readTorchZip } from '../../../src/main/model/pt/zip';
import { concat, deepModules, deflatedZeros, minimalCheckpoint, sharedLists, sharedModules, torchZipEntries, writeZip } from '../../helpers/hostile-models';
import { dict, fromJson, Pickler, shared, tensor, writeTorchZip, type Py, type PyDict } from '../../helpers/model-pt-writer';
import { tinyYolo11Yaml } from '../../helpers/model-fixtures';
import zlib from 'node:zlib';

/** Runs `fn`, which must throw an AppError within `ms` (a hostile file must fail fast, not late). */
function failsFast(fn: () => unknown, ms = 2000): AppError {
  const t0 = performance.now();
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  const took = performance.now() - t0;
  expect(caught, 'expected an AppError').toBeInstanceOf(AppError);
  expect(took).toBeLessThan(ms);
  return caught as AppError;
}

const names = (entries: [Py, Py][]): PyDict => dict(entries);

describe('.pt class names', () => {
  const withNames = (n: Py) => writeTorchZip(minimalCheckpoint({ model: { names: n } }));

  it('a names index of 4294967294 is an error, not a 4-billion-entry array', () => {
    const e = failsFast(() => readPt(withNames(names([[4294967294, 'x']])), 'h.pt'));
    expect(e.code).toBe('FILE_UNREADABLE');
    expect(e.message).toMatch(/^h\.pt: model\.names: class index 4294967294 is not a whole number from 0 to 9999/);
  });

  it('negative, fractional and non-numeric indices are errors', () => {
    expect(failsFast(() => readPt(withNames(names([[-1, 'x']])), 'h.pt')).message).toMatch(/class index -1 /);
    expect(failsFast(() => readPt(withNames(names([[1.5, 'x']])), 'h.pt')).message).toMatch(/class index 1\.5 /);
    expect(failsFast(() => readPt(withNames(names([['cat', 'x']])), 'h.pt')).message).toMatch(/class index 'cat' /);
  });

  it(`more than ${MAX_CLASSES} classes is an error (dict or list)`, () => {
    const many = Array.from({ length: MAX_CLASSES + 1 }, (_, i) => [i, 'c'] as [Py, Py]);
    expect(failsFast(() => readPt(withNames(names(many)), 'h.pt')).message).toMatch(/model\.names has 10001 classes; boxtune reads at most 10000/);
    expect(failsFast(() => readPt(withNames(many.map(() => 'c')), 'h.pt')).message).toMatch(/model\.names has 10001 classes/);
  });

  it('sparse and string-keyed dicts still read as before', () => {
    expect(readPt(withNames(names([[0, 'a'], [3, 'd']])), 'h.pt').names).toEqual(['a', '1', '2', 'd']);
    expect(readPt(withNames(names([['0', 'a'], ['1', 'b']])), 'h.pt').names).toEqual(['a', 'b']);
  });
});

describe('.pt objects shared through the pickle memo', () => {
  it('toPlain stops at its work budget instead of expanding 2^40 values', () => {
    const v = unpickle(new Pickler().dump(sharedLists(40)));
    const t0 = performance.now();
    expect(() => toPlain(v)).toThrow(PickleError);
    expect(() => toPlain(v)).toThrow(`more than ${MAX_PLAIN_VALUES} values`);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('in the model yaml', () => {
    const yaml = fromJson(tinyYolo11Yaml(2)) as PyDict;
    yaml.set('extra', sharedLists(30));
    const e = failsFast(() => readPt(writeTorchZip(minimalCheckpoint({ model: { yaml } })), 'h.pt'));
    expect(e.message).toMatch(`h.pt: model.yaml: more than ${MAX_PLAIN_VALUES} values`);
  });

  it('in a top-level entry', () => {
    const e = failsFast(() => readPt(writeTorchZip(minimalCheckpoint({ top: { git: sharedLists(30) } })), 'h.pt'));
    expect(e.message).toMatch(`h.pt: git: more than ${MAX_PLAIN_VALUES} values`);
  });

  it('many top-level entries sharing one structure cannot multiply the budget (one per file)', () => {
    const s = shared(sharedLists(15)); // 65535 values, under the budget on its own
    const top = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, s as Py]));
    const e = failsFast(() => readPt(writeTorchZip(minimalCheckpoint({ top })), 'h.pt'));
    expect(e.message).toMatch(`: more than ${MAX_PLAIN_VALUES} values`);
  });

  it('a module shared at every level does not make the module walk exponential', () => {
    const e = failsFast(() => readPt(writeTorchZip(minimalCheckpoint({ modules: [['model', sharedModules(30)]] })), 'h.pt'));
    expect(e.code).toBe('FILE_UNREADABLE');
    expect(e.message).toMatch(`h.pt: the model has more than ${MAX_MODULES} modules`);
  });

  it('modules nested deeper than any model are an error (and a module inside itself ends there too)', () => {
    const e = failsFast(() => readPt(writeTorchZip(minimalCheckpoint({ modules: [['model', deepModules(100)]] })), 'h.pt'));
    expect(e.message).toMatch(/^h\.pt: modules nested more than 64 deep at model\.0\.0\.0/);
  });
});

describe('torch zip entries', () => {
  const good = () => torchZipEntries(minimalCheckpoint());

  it('a zip bomb (256 KiB inflating to 256 MiB) is refused before inflating', () => {
    const entries = good();
    entries[0] = { name: 'archive/data.pkl', stored: deflatedZeros(256), deflated: true, declaredSize: 256 << 20 };
    const zip = writeZip(entries);
    expect(zip.length).toBeLessThan(300_000);
    const e = failsFast(() => readTorchZip(zip, 'bomb.pt'), 500);
    expect(e.code).toBe('FILE_UNREADABLE');
    expect(e.message).toMatch(/^bomb\.pt: archive\/data\.pkl would inflate to 268435456 bytes from \d+ \(more than 8x\): a zip bomb\?/);
  });

  it('declared sizes that add up past the cap are refused, whatever the ratio', () => {
    const entries = good();
    entries.push({ name: 'archive/data/a', stored: deflatedZeros(1), deflated: true, declaredSize: 0xfffffff0 });
    const e = failsFast(() => readTorchZip(writeZip(entries), 'big.pt'), 500);
    expect(e.message).toMatch(/archive\/data\/a would inflate to 4294967280 bytes/);
  });

  it('an entry that inflates past its declared size is caught (not silently cut)', () => {
    const entries = good();
    const pkl = entries[0]!.stored;
    // The honest pickle, then 8 MiB of zeros the headers do not declare.
    entries[0] = { name: 'archive/data.pkl', stored: deflateParts([pkl, new Uint8Array(8 << 20)]), deflated: true, declaredSize: pkl.length };
    const e = failsFast(() => readTorchZip(writeZip(entries), 'lie.pt'));
    expect(e.message).toMatch(new RegExp(`^lie\\.pt: archive/data\\.pkl inflates to more than its declared ${pkl.length} bytes`));
  });

  it('an entry that inflates to less than its declared size is caught', () => {
    const entries = good();
    const pkl = entries[0]!.stored;
    entries[0] = { name: 'archive/data.pkl', stored: deflateParts([pkl]), deflated: true, declaredSize: pkl.length + 100 };
    expect(failsFast(() => readTorchZip(writeZip(entries), 'lie.pt')).message).toMatch(/archive\/data\.pkl inflates to \d+ bytes, not its declared \d+/);
  });

  it('a stored entry whose sizes disagree, and entries outside the file, are caught', () => {
    const entries = good();
    entries[1] = { ...entries[1]!, declaredSize: 999 };
    expect(failsFast(() => readTorchZip(writeZip(entries), 's.pt')).message).toMatch(/archive\/version is stored uncompressed but declares 999 bytes for its \d+/);
    const zip = writeZip(good());
    // Point the first central-directory entry's data far past the end.
    const cd = findCentral(zip);
    new DataView(zip.buffer, zip.byteOffset).setUint32(cd + 42, 0x7fffffff, true);
    expect(failsFast(() => readTorchZip(zip, 'o.pt')).message).toMatch(/^o\.pt is truncated or damaged: archive\/data\.pkl lies outside the file/);
  });

  it('an honest torch zip still reads, stored or deflated', () => {
    const stored = readTorchZip(writeZip(good()), 'ok.pt');
    expect(stored.prefix).toBe('archive');
    expect([...stored.entries.keys()]).toEqual(['data.pkl', 'version']);
    const deflated = good().map((e) => ({ ...e, stored: deflateParts([e.stored]), deflated: true, declaredSize: e.stored.length }));
    const z = readTorchZip(writeZip(deflated), 'ok.pt');
    expect(Uint8Array.from(z.entries.get('data.pkl')!)).toEqual(Uint8Array.from(stored.entries.get('data.pkl')!));
  });
});

describe('pickle VM lengths', () => {
  const op = (...b: number[]) => Uint8Array.from([0x80, 2, ...b]);

  it('a negative BINSTRING / LONG4 length is an error, not a loop that never ends', () => {
    const t0 = performance.now();
    expect(() => unpickle(op(0x54, 0xfb, 0xff, 0xff, 0xff, 0x2e))).toThrow(/BINSTRING length -5 at byte 2/);
    expect(() => unpickle(op(0x8b, 0xfb, 0xff, 0xff, 0xff, 0x2e))).toThrow(/LONG4 length -5 at byte 2/);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('an integer of a million bytes is refused (its decoding is quadratic)', () => {
    const n = 1 << 20;
    const b = new Uint8Array(2 + 5 + n + 1);
    b.set([0x80, 2, 0x8b, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, 0]);
    b[b.length - 1] = 0x2e;
    const t0 = performance.now();
    expect(() => unpickle(b)).toThrow(/LONG4 of 1048576 bytes at byte 2/);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('APPENDS with 300000 items works (no spread of a huge argument list)', () => {
    const items = 300_000;
    const b = new Uint8Array(4 + 2 + items * 2 + 2);
    b.set([0x80, 2, 0x5d, 0x28]); // EMPTY_LIST MARK
    for (let i = 0; i < items; i++) b.set([0x4b, i & 0xff], 4 + i * 2); // BININT1
    b.set([0x65, 0x2e], 4 + items * 2); // APPENDS STOP
    expect((unpickle(b.subarray(0, 4 + items * 2 + 2)) as number[]).length).toBe(items);
  });

  it("a '__proto__' attribute stays an attribute (it does not replace the object's prototype)", () => {
    const bytes = new Pickler().dump({ __cls__: 'x.Y', state: dict([['__proto__', dict({ a: 1 })], ['k', 3]]) });
    const obj = unpickle(bytes) as Record<string, unknown>;
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(obj.__class__).toBe('x.Y');
    expect(Object.getOwnPropertyDescriptor(obj, '__proto__')?.value).toBeInstanceOf(Map);
  });
});

describe('.pt tensors', () => {
  const withTensor = (t: Py) => writeTorchZip(minimalCheckpoint({ top: { t } }));
  const t4 = () => tensor(Float32Array.of(1, 2, 3, 4), [4]);
  const bent = (rebuild: NonNullable<ReturnType<typeof tensor>['__tensor__']['rebuild']>) => ({ __tensor__: { ...t4().__tensor__, rebuild } });

  it('a negative or fractional storage offset names the storage and the field', () => {
    expect(failsFast(() => readPt(withTensor(bent({ offset: -2 })), 't.pt')).message).toMatch(/^t\.pt: tensor in storage data\/0: storage offset -2 is not a whole number >= 0/);
    expect(failsFast(() => readPt(withTensor(bent({ offset: 0.5 })), 't.pt')).message).toMatch(/storage offset 0\.5 /);
  });

  it('a bad size names the dimension', () => {
    expect(failsFast(() => readPt(withTensor(bent({ size: [-4], stride: [1] })), 't.pt')).message).toMatch(/^t\.pt: tensor in storage data\/0: size \[-4\] has a dimension that is not a whole number >= 0/);
    expect(failsFast(() => readPt(withTensor(bent({ size: [2 ** 40, 2 ** 40], stride: [2 ** 40, 1] })), 't.pt')).message).toMatch(/needs more bytes than its storage data\/0 holds/);
  });

  it('a slice past the end of its storage is refused', () => {
    expect(failsFast(() => readPt(withTensor(bent({ offset: 2, size: [4] })), 't.pt')).message).toMatch(/needs more bytes than its storage data\/0 holds/);
  });

  it('one storage decoded thousands of times is refused (4 MiB x 2000 would be 8 GiB)', () => {
    const n = 1 << 20;
    const first = tensor(new Float32Array(n), [n]);
    const views = Array.from({ length: 2000 }, () => ({ __tensor__: { ...tensor(new Float32Array(0), [0]).__tensor__, rebuild: { storageKey: '0', size: [n], stride: [1] } } }));
    const e = failsFast(() => readPt(withTensor([first, ...views]), 'amp.pt'));
    expect(e.message).toMatch(/^amp\.pt: tensors decode to more than 2x the bytes of their storages/);
  });
});

function deflateParts(parts: Uint8Array[]): Uint8Array {
  return zlib.deflateRawSync(concat(parts));
}

function findCentral(zip: Uint8Array): number {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let i = 0; i + 4 <= zip.length; i++) if (dv.getUint32(i, true) === 0x02014b50) return i;
  throw new Error('no central directory');
}
