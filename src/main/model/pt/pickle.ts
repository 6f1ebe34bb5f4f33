/**
 * @file A small pickle virtual machine: enough of Python's pickle (protocols 2-5) to read what
 * `torch.save` writes. It never executes code: every GLOBAL becomes a marker, and a caller-supplied
 * `resolve` hook gives meaning to the few globals we need (OrderedDict, set, torch's tensor
 * rebuild functions). Objects of unknown classes become plain objects
 * `{ __class__: 'module.Name', ...state }`, so a pickled nn.Module reads as its `__dict__`.
 *
 * The data may be hostile: lengths are checked before they move the read position (a negative one
 * would send it backwards for ever), integers are bounded (decoding a long one is quadratic), and
 * attribute names from the data never reach an object's prototype.
 */
import { MAX_PLAIN_VALUES } from '../limits';

/** A Python global (`module.name`) that the resolver did not turn into something else. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The result of calling a global we know nothing about: kept, not executed. */
export interface PyOpaque {
  __opaque__: string;
  args: unknown[];
  state?: unknown;
}

/** An instance of a Python class, with its `__dict__` state applied by BUILD. */
export interface PyObject {
  __class__: string;
  [attr: string]: unknown;
}

export function isPyObject(v: unknown): v is PyObject {
  return typeof v === 'object' && v !== null && typeof (v as { __class__?: unknown }).__class__ === 'string';
}

/** Python dicts (and OrderedDicts) are Maps, so int keys and insertion order survive. */
export type PyDict = Map<unknown, unknown>;

export interface UnpickleOptions {
  /**
   * Gives a global a JS meaning. Return a function to make REDUCE call it with the arguments, or
   * `undefined` to keep the global as a {@link PyGlobal} marker.
   */
  resolve?: (module: string, name: string) => ((...args: unknown[]) => unknown) | undefined;
  /** Loads a persistent id (torch uses these for tensor storages). */
  persistentLoad?: (pid: unknown) => unknown;
}

const MARK = Symbol('mark');

/** Longest integer (LONG1/LONG4, text INT/LONG) we decode; Python ints in a checkpoint are a few bytes. */
const MAX_LONG_BYTES = 1024;

/** Thrown for malformed or unsupported pickle data; callers wrap it in their own error. */
export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PickleError';
  }
}

/**
 * Runs the pickle program in `data` and returns the object it builds.
 * @example unpickle(bytes, { resolve: (m, n) => (m === 'collections' && n === 'OrderedDict' ? () => new Map() : undefined) })
 */
export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const decoder = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  /** Where the opcode being run starts, for error messages. */
  let opAt = 0;

  const need = (n: number): void => {
    if (pos + n > data.length) throw new PickleError(`pickle data ends early at byte ${pos} (needs ${n} more)`);
  };
  const u8 = (): number => {
    need(1);
    return data[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`length ${v} too large`);
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    if (!(n >= 0)) throw new PickleError(`negative length ${n} at byte ${opAt}`);
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError('pickle data ends inside a text line');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  /** A length read by `op`: never negative. */
  const length = (op: string, n: number): number => {
    if (n < 0) throw new PickleError(`${op} length ${n} at byte ${opAt}`);
    return n;
  };
  /** A length-prefixed integer's byte count, bounded before its bytes are read. */
  const longLength = (op: string, n: number): number => {
    if (length(op, n) > MAX_LONG_BYTES) throw new PickleError(`${op} of ${n} bytes at byte ${opAt}: integers that long are not model data`);
    return n;
  };
  /** A number written as text (protocol 0), bounded like the binary ones. */
  const numberLine = (op: string): string => {
    const s = line();
    if (s.length > MAX_LONG_BYTES) throw new PickleError(`${op} of ${s.length} characters at byte ${opAt}: numbers that long are not model data`);
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw new PickleError(`stack underflow at byte ${pos}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw new PickleError(`stack underflow at byte ${pos}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw new PickleError(`MARK expected at byte ${pos}`);
    return stack.splice(m);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) throw new PickleError(`memo key ${i} missing`);
    return memo.get(i);
  };

  const findGlobal = (module: string, name: string): unknown => {
    const fn = options.resolve?.(module, name);
    return fn ?? new PyGlobal(module, name);
  };

  /** Calls `callable(...args)`: a resolved function, or a class / unknown global. */
  const call = (callable: unknown, args: unknown[]): unknown => {
    if (typeof callable === 'function') return (callable as (...a: unknown[]) => unknown)(...args);
    if (callable instanceof PyGlobal) {
      const opaque: PyOpaque = { __opaque__: callable.qualname, args };
      return opaque;
    }
    throw new PickleError(`cannot call ${describe(callable)}`);
  };

  /** `cls.__new__(cls, *args)`: a plain object tagged with the class name. */
  const newObj = (cls: unknown, args: unknown[]): unknown => {
    if (cls instanceof PyGlobal) {
      const obj: PyObject = { __class__: cls.qualname };
      if (args.length > 0) obj.__newargs__ = args;
      return obj;
    }
    if (typeof cls === 'function') return (cls as (...a: unknown[]) => unknown)(...args);
    throw new PickleError(`NEWOBJ on ${describe(cls)}`);
  };

  /** BUILD: `obj.__setstate__(state)` or `obj.__dict__.update(state)`. */
  const build = (obj: unknown, state: unknown): void => {
    let dictState = state;
    let slotState: unknown;
    if (Array.isArray(state) && state.length === 2 && (state[0] === null || state[0] instanceof Map)) {
      dictState = state[0];
      slotState = state[1];
    }
    if (obj instanceof Map && dictState instanceof Map) {
      for (const [k, v] of dictState) obj.set(k, v);
      return;
    }
    if (typeof obj !== 'object' || obj === null) throw new PickleError(`BUILD on ${describe(obj)}`);
    const target = obj as Record<string, unknown>;
    if ('__opaque__' in target) {
      target.state = state;
      return;
    }
    for (const s of [dictState, slotState]) {
      if (s instanceof Map) for (const [k, v] of s) setOwn(target, String(k), v);
      else if (s !== null && s !== undefined) target.__state__ = s;
    }
  };

  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Map)) {
      // A dict subclass we do not know is a PyObject; keep its items aside.
      if (isPyObject(dict)) {
        const m = (dict.__items__ as PyDict | undefined) ?? new Map();
        for (let i = 0; i + 1 < items.length; i += 2) m.set(items[i], items[i + 1]);
        dict.__items__ = m;
        return;
      }
      throw new PickleError(`SETITEM on ${describe(dict)}`);
    }
    for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };

  const appendItems = (list: unknown, items: unknown[]): void => {
    // One by one: spreading a few hundred thousand items as arguments overflows the stack.
    if (Array.isArray(list)) for (const it of items) list.push(it);
    else if (list instanceof Set) for (const it of items) list.add(it);
    else if (isPyObject(list)) {
      const arr = (list.__list__ as unknown[] | undefined) ?? [];
      for (const it of items) arr.push(it);
      list.__list__ = arr;
    } else throw new PickleError(`APPEND on ${describe(list)}`);
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x49: {
        // INT (text); "00"/"01" are the protocol-0 booleans
        const s = numberLine('INT');
        stack.push(s === '00' ? false : s === '01' ? true : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: {
        // LONG (text, trailing L)
        const s = numberLine('LONG').replace(/L$/, '');
        stack.push(toIntOrBig(BigInt(s)));
        break;
      }
      case 0x8a: // LONG1
        stack.push(decodeLong(bytes(longLength('LONG1', u8()))));
        break;
      case 0x8b: // LONG4
        stack.push(decodeLong(bytes(longLength('LONG4', i32()))));
        break;
      case 0x47: {
        // BINFLOAT: big-endian double
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(numberLine('FLOAT')));
        break;
      case 0x58: // BINUNICODE
        stack.push(decoder.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(decoder.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(decoder.decode(bytes(u64())));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(bytes(length('BINSTRING', i32()))));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(Uint8Array.from(bytes(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(Uint8Array.from(bytes(u8())));
        break;
      case 0x8e: // BINBYTES8
        stack.push(Uint8Array.from(bytes(u64())));
        break;
      case 0x96: // BYTEARRAY8
        stack.push(Uint8Array.from(bytes(u64())));
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number.parseInt(line(), 10), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: // GET (text)
        stack.push(memoGet(Number.parseInt(line(), 10)));
        break;
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const module = line();
        const name = line();
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError('STACK_GLOBAL needs two strings');
        stack.push(findGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!Array.isArray(args)) throw new PickleError(`REDUCE arguments are not a tuple at byte ${pos}`);
        stack.push(call(callable, args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(newObj(cls, Array.isArray(args) ? args : []));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        stack.push(newObj(cls, Array.isArray(args) ? args : []));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) throw new PickleError('pickle has persistent ids but no persistentLoad was given');
        stack.push(options.persistentLoad(pid));
        break;
      }
      case 0x50: {
        // PERSID (text)
        const pid = line();
        if (!options.persistentLoad) throw new PickleError('pickle has persistent ids but no persistentLoad was given');
        stack.push(options.persistentLoad(pid));
        break;
      }
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}`);
    }
  }
}

/** Two's-complement little-endian integer of any length; a number when it is safe, else a BigInt. */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return toIntOrBig(v);
}

function toIntOrBig(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyGlobal) return v.qualname;
  if (isPyObject(v)) return `a ${v.__class__} object`;
  if (v instanceof Map) return 'a dict';
  if (Array.isArray(v)) return 'a list/tuple';
  return typeof v;
}

/**
 * Sets an own property whatever its name: `obj['__proto__'] = v` would replace the object's
 * prototype instead, and the names come from the file.
 */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** How many more values toPlain may produce; one per file, shared by all its fields. */
export interface PlainBudget {
  left: number;
  readonly max: number;
}

export function plainBudget(max = MAX_PLAIN_VALUES): PlainBudget {
  return { left: max, max };
}

/**
 * Converts unpickled data to JSON-friendly values: dicts to objects (keys as strings), tuples and
 * sets to arrays, BigInts to numbers where safe, markers to their names. For yaml/args/metadata.
 * The result is a tree, so an object the pickle shares through its memo is converted once per
 * reference: the budget bounds that work (sharing at every level would make it exponential; pass
 * one budget to all the fields of a file so many fields cannot multiply it) and a PickleError says
 * so when it runs out.
 */
export function toPlain(v: unknown, budget: PlainBudget = plainBudget()): unknown {
  return plain(v, budget, 0);
}

function plain(v: unknown, budget: PlainBudget, depth: number): unknown {
  if (--budget.left < 0) throw new PickleError(`more than ${budget.max} values (objects shared or nested without end?)`);
  if (depth > 64) return '<too deep>';
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return toIntOrBig(v);
  if (typeof v !== 'object') return v;
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) setOwn(o, String(k), plain(x, budget, depth + 1));
    return o;
  }
  if (v instanceof Set) return [...v].map((x) => plain(x, budget, depth + 1));
  if (Array.isArray(v)) return v.map((x) => plain(x, budget, depth + 1));
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof PyGlobal) return v.qualname;
  if ('__opaque__' in v) return `<${(v as PyOpaque).__opaque__}>`;
  if (isPyObject(v)) return `<${v.__class__}>`;
  return String(v);
}
