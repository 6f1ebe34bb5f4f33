import { describe, expect, it } from 'vitest';
import { isPyObject, PickleError, PyGlobal, toPlain, unpickle } from '../../../src/main/model/pt/pickle';
import { dict, odict, Pickler, pyFloat, pyModule, tensor, tuple, type Py } from '../../helpers/model-pt-writer';

/**
 * Made with CPython 3: pickle.dumps(obj, protocol=2 / 4) of
 *   {'small': 7, 'mid': 300, 'neg': -5, 'big': 2**40, 'huge': -2**70, 'pi': 3.25, 't': True, 'f': False,
 *    'n': None, 't1': (1,), 't2': (1, 'a'), 't3': (1, 2, 3), 't4': (1, 2, 3, 4), 'lst': [1, 'x', [2]],
 *    'again': shared, 'again2': shared, 'uni': 'café 中', 'od': OrderedDict(b=1, a=2),
 *    'conv': <ultralytics.nn.modules.conv.Conv with __dict__ {training: False, k: 3, eps: 0.001}>, 5: 'int key'}
 * where shared = [1, 2] (so the second reference is a memo GET).
 */
const PROTO2 =
  '80027d7100285805000000736d616c6c71014b0758030000006d696471024d2c0158030000006e656771034afbffffff580300000062696771048a0600000000000158040000006875676571058a090000000000000000c058020000007069710647400a00000000000058010000007471078858010000006671088958010000006e71094e58020000007431710a4b0185710b58020000007432710c4b01580100000061710d86710e58020000007433710f4b014b024b03877110580200000074347111284b014b024b034b0474711258030000006c737471135d7114284b0158010000007871155d71164b0261655805000000616761696e71175d7118284b014b02655806000000616761696e32711968185803000000756e69711a5809000000636166c3a920e4b8ad711b58020000006f64711c63636f6c6c656374696f6e730a4f726465726564446963740a711d2952711e28580100000062711f4b01680d4b02755804000000636f6e76712063756c7472616c79746963732e6e6e2e6d6f64756c65732e636f6e760a436f6e760a7121298171227d7123285808000000747261696e696e6771248958010000006b71254b0358030000006570737126473f50624dd2f1a9fc75624b055807000000696e74206b65797127752e';
const PROTO4 =
  '8004956a010000000000007d94288c05736d616c6c944b078c036d6964944d2c018c036e6567944afbffffff8c03626967948a060000000000018c0468756765948a090000000000000000c08c0270699447400a0000000000008c017494888c016694898c016e944e8c027431944b0185948c027432944b018c01619486948c027433944b014b024b0387948c02743494284b014b024b034b0474948c036c7374945d94284b018c0178945d944b0261658c05616761696e945d94284b014b02658c06616761696e329468188c03756e69948c09636166c3a920e4b8ad948c026f64948c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c0162944b01680d4b02758c04636f6e76948c1b756c7472616c79746963732e6e6e2e6d6f64756c65732e636f6e76948c04436f6e769493942981947d94288c08747261696e696e6794898c016b944b038c0365707394473f50624dd2f1a9fc75624b058c07696e74206b657994752e';

const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => Number.parseInt(b, 16)));
const resolve = (m: string, n: string) => (m === 'collections' && n === 'OrderedDict' ? () => new Map() : undefined);

describe('pickle VM', () => {
  for (const [proto, bytes] of [
    [2, PROTO2],
    [4, PROTO4],
  ] as const) {
    it(`reads a CPython protocol ${proto} pickle`, () => {
      const v = unpickle(hex(bytes), { resolve }) as Map<unknown, unknown>;
      expect(v).toBeInstanceOf(Map);
      expect(v.get('small')).toBe(7);
      expect(v.get('mid')).toBe(300);
      expect(v.get('neg')).toBe(-5);
      expect(v.get('big')).toBe(2 ** 40);
      expect(v.get('huge')).toBe(-(2n ** 70n));
      expect(v.get('pi')).toBe(3.25);
      expect([v.get('t'), v.get('f'), v.get('n')]).toEqual([true, false, null]);
      expect([v.get('t1'), v.get('t2'), v.get('t3'), v.get('t4')]).toEqual([[1], [1, 'a'], [1, 2, 3], [1, 2, 3, 4]]);
      expect(v.get('lst')).toEqual([1, 'x', [2]]);
      expect(v.get('again')).toBe(v.get('again2')); // memo: the same object
      expect(v.get('uni')).toBe('café 中');
      const od = v.get('od') as Map<string, number>;
      expect([...od.entries()]).toEqual([
        ['b', 1],
        ['a', 2],
      ]);
      const conv = v.get('conv');
      expect(isPyObject(conv)).toBe(true);
      expect(conv).toMatchObject({ __class__: 'ultralytics.nn.modules.conv.Conv', training: false, k: 3, eps: 0.001 });
      expect(v.get(5)).toBe('int key');
    });
  }

  it('keeps unknown globals as markers and unknown calls as opaque values', () => {
    const p = new Pickler();
    const bytes = p.dump(dict({ g: { __call__: 'numpy.core.multiarray.scalar', args: [1, 'x'] } as Py }));
    const v = unpickle(bytes) as Map<string, unknown>;
    expect(v.get('g')).toEqual({ __opaque__: 'numpy.core.multiarray.scalar', args: [1, 'x'] });
    expect(toPlain(v)).toEqual({ g: '<numpy.core.multiarray.scalar>' });
  });

  it('round-trips what the test pickler writes, storages included', () => {
    const p = new Pickler();
    const m = pyModule('torch.nn.modules.conv.Conv2d', {
      params: [['weight', tensor(Float32Array.of(1, 2, 3, 4), [1, 1, 2, 2], 'float32', true)]],
      attrs: { stride: tuple(1, 1), eps: pyFloat(1), big: 70000, neg: -70000, long: 2n ** 40n },
    });
    const bytes = p.dump(dict({ m, again: odict({ a: 1 }) }));
    const pids: unknown[] = [];
    const v = unpickle(bytes, {
      resolve: (mod, name) => {
        if (name === 'OrderedDict') return () => new Map();
        if (name === 'set') return (items) => new Set(items as unknown[]);
        if (name === '_rebuild_tensor_v2') return (storage, offset, size) => ({ storage, offset, size });
        if (name === '_rebuild_parameter') return (t) => t;
        return undefined;
      },
      persistentLoad: (pid) => {
        pids.push(pid);
        return 'STORAGE';
      },
    }) as Map<string, unknown>;
    const mod = v.get('m') as Record<string, unknown>;
    expect(mod.__class__).toBe('torch.nn.modules.conv.Conv2d');
    expect(mod).toMatchObject({ eps: 1, big: 70000, neg: -70000, long: 2 ** 40, stride: [1, 1], training: false });
    expect((mod._parameters as Map<string, unknown>).get('weight')).toEqual({ storage: 'STORAGE', offset: 0, size: [1, 1, 2, 2] });
    expect(pids).toHaveLength(1);
    const [kind, storageType, key, loc, numel] = pids[0] as unknown[];
    expect([kind, key, loc, numel]).toEqual(['storage', '0', 'cpu', 4]);
    expect(storageType).toBeInstanceOf(PyGlobal);
    expect((storageType as PyGlobal).qualname).toBe('torch.FloatStorage');
    expect(p.storages[0]!.bytes.byteLength).toBe(16);
  });

  it('fails clearly on truncated data, unknown opcodes and missing persistent loaders', () => {
    const bytes = new Pickler().dump(dict({ a: [1, 2, 3] }));
    expect(() => unpickle(bytes.subarray(0, bytes.length - 4))).toThrow(PickleError);
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0xff))).toThrow(/unsupported pickle opcode 0xff at byte 2/);
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0x4e, 0x51, 0x2e))).toThrow(/persistent ids/);
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0x68, 9, 0x2e))).toThrow(/memo key 9 missing/);
  });
});
