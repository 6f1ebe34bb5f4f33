/**
 * Invalid arguments for every Api method, derived from its zod schema (as JSON Schema), so a new
 * method or field is fuzzed without touching this file. Each case changes one thing of a base
 * argument (wrong type, out of range, too long, missing, extra, a path that cannot be meant, an id
 * that names nothing) or replaces the whole argument; every case is invalid by construction, so
 * each must be refused. Bodies are raw JSON text, so they can hold what JSON.stringify cannot write
 * (1e999, which parses to Infinity; a `__proto__` key).
 */
import { z } from 'zod';
import { API_SCHEMAS } from '../../../src/main/app/schemas';
import { API_METHODS, type ApiMethod } from '../../../src/shared/api';
import type { Rng } from '../../../src/main/util/rng';

export interface FuzzCase {
  method: string;
  /** What was changed, e.g. `boxes[0].x: Infinity`. */
  label: string;
  /** The raw request body. */
  body: string;
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
}

/** Ids that name nothing in any project (the largest a SQLite rowid reaches in practice, and beyond). */
export const MISSING_IDS = [2_147_483_647, Number.MAX_SAFE_INTEGER];

/** A raw JSON token spliced in where JSON.stringify has no spelling for the value. */
class Raw {
  constructor(readonly text: string) {}
}
const INFINITY = new Raw('1e999');
const MINUS_INFINITY = new Raw('-1e999');
/** Not JSON at all (JavaScript's spelling): must be refused as a body that does not parse. */
const NAN = new Raw('NaN');

export function jsonSchemaOf(method: ApiMethod): JsonSchema {
  return z.toJSONSchema(API_SCHEMAS[method], { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

const isPath = (s: JsonSchema): boolean => s.type === 'string' && s.maxLength === 4096;
const isId = (s: JsonSchema): boolean => s.type === 'integer' && s.exclusiveMinimum === 0;

/**
 * Paths no caller can mean, whatever the field: relative (to the server's working folder, which a
 * remote user cannot know), with a NUL byte, devices and a FIFO (reading them never ends), a folder
 * that cannot be created, names longer than the file system allows. `fifo` is made by the caller.
 */
export function hostilePaths(tmp: string, fifo?: string): string[] {
  return [
    'relative/dir',
    '..',
    '../../../../../../etc/passwd',
    '~/boxtune-fuzz',
    `${tmp}/nul\u0000byte`,
    '/dev/null',
    '/dev/zero',
    ...(fifo ? [fifo] : []),
    '/proc/boxtune-fuzz/x',
    `${tmp}/${'n'.repeat(300)}`,
    `${tmp}/${'d/'.repeat(2040)}x`,
  ];
}

/** A valid value for the schema: the smallest, the first, an absolute path in `tmp` that does not exist. */
function base(s: JsonSchema, ctx: Context): unknown {
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const key of s.required ?? []) out[key] = base(s.properties![key]!, ctx);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => base(s.items!, ctx));
    case 'integer': {
      const lo = s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : (s.minimum ?? 0);
      return s.multipleOf ? Math.ceil(lo / s.multipleOf) * s.multipleOf : lo;
    }
    case 'number':
      if (s.exclusiveMinimum !== undefined) return s.maximum !== undefined ? (s.exclusiveMinimum + s.maximum) / 2 : s.exclusiveMinimum + 1;
      return s.minimum ?? 0;
    case 'boolean':
      return false;
    case 'string':
      if (s.enum) return s.enum[0];
      if (s.format === 'uuid') return ctx.uuid();
      if (s.pattern === '^#[0-9a-fA-F]{6}$') return '#336699';
      if (isPath(s)) return `${ctx.tmp}/does-not-exist/fuzz`;
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    default:
      if (s.enum) return s.enum[0];
      throw new Error(`fuzz-cases: no base value for schema ${JSON.stringify(s)}`);
  }
}

export interface Context {
  tmp: string;
  /** A FIFO in `tmp`, where the platform can make one. */
  fifo?: string;
  rng: Rng;
  uuid(): string;
}

/** Replacements for the value at one place in the argument, each invalid for that place. */
function invalidValues(s: JsonSchema, where: string[], ctx: Context): [string, unknown][] {
  const out: [string, unknown][] = [];
  const add = (label: string, v: unknown): void => void out.push([label, v]);
  const wrongTypes: Record<string, unknown[]> = {
    object: ['x', 1, [], null],
    array: ['x', 1, {}, null],
    integer: ['1', true, null, [], {}],
    number: ['1', true, null, [], {}],
    boolean: ['true', 0, null],
    string: [1, true, null, [], {}],
  };
  for (const v of wrongTypes[s.type ?? 'string'] ?? []) add(`wrong type ${JSON.stringify(v)}`, v);

  if (s.type === 'integer' || s.type === 'number') {
    add('NaN', NAN);
    add('Infinity', INFINITY);
    add('-Infinity', MINUS_INFINITY);
    if (s.minimum !== undefined || s.exclusiveMinimum !== undefined) add('-1e308', -1e308);
    if (s.maximum !== undefined) add('1e308', 1e308);
    if (s.minimum !== undefined) add(`below minimum ${s.minimum}`, s.minimum - (s.type === 'integer' ? 1 : 0.5));
    if (s.exclusiveMinimum !== undefined) add(`at exclusive minimum ${s.exclusiveMinimum}`, s.exclusiveMinimum);
    if (s.exclusiveMinimum !== undefined) add('negative', -1);
    if (s.maximum !== undefined) add(`above maximum ${s.maximum}`, s.maximum + (s.type === 'integer' ? 1 : 0.5));
    if (s.type === 'integer') add('fraction', (base(s, ctx) as number) + 0.5);
    if (s.type === 'integer' && s.maximum === undefined) add('unsafe integer', 2 ** 60);
    if (s.multipleOf) add(`not a multiple of ${s.multipleOf}`, (base(s, ctx) as number) + 1);
    // An id that names nothing; in a filter, naming nothing is a fine query, not an error.
    if (isId(s) && !where.includes('filter')) for (const id of MISSING_IDS) add(`missing id ${id}`, id);
  }
  if (s.type === 'string') {
    if (s.maxLength !== undefined && s.maxLength < 1_000_000) add(`over maxLength ${s.maxLength}`, 'y'.repeat(s.maxLength + 1));
    if (s.maxLength !== undefined) add('1 MB', 'z'.repeat(1_000_000));
    if ((s.minLength ?? 0) >= 1) {
      add('empty', '');
      add('blank', '   \t ');
    }
    if (s.enum) {
      add('unknown enum value', 'bogus');
      const first = String(s.enum[0]);
      if (first.toUpperCase() !== first) add('enum value in capitals', first.toUpperCase());
    }
    if (s.format === 'uuid') add('not a uuid', 'not-a-uuid');
    if (s.pattern && s.format !== 'uuid') add('not matching the pattern', '#12345g');
    if (isPath(s)) for (const p of hostilePaths(ctx.tmp, ctx.fifo)) add(`path ${JSON.stringify(p.length > 60 ? `${p.slice(0, 40)}…(${p.length})` : p)}`, p);
  }
  if (s.type === 'array') {
    if ((s.minItems ?? 0) >= 1) add('empty array', []);
    if (s.maxItems !== undefined && s.maxItems <= 100_000) add(`over maxItems ${s.maxItems}`, Array.from({ length: s.maxItems + 1 }, () => base(s.items!, ctx)));
    add('a million items', new Array(1_000_000).fill(base(s.items!, ctx)));
  }
  return out;
}

/** Every invalid case for one method. */
export function casesFor(method: ApiMethod, ctx: Context): FuzzCase[] {
  const root = jsonSchemaOf(method);
  const cases: FuzzCase[] = [];
  const push = (label: string, body: string): void => void cases.push({ method, label, body });

  // The whole argument.
  for (const v of ['x', 1, [], true]) push(`argument ${JSON.stringify(v)}`, JSON.stringify(v));
  if ((root.required ?? []).length > 0) {
    push('argument null', 'null');
    push('argument {}', '{}');
  }
  push('not JSON', '{"a":');
  push('two JSON values', '{} {}');

  /** `arg` is a valid argument holding a valid value at `where`; each case makes that value invalid. */
  const visit = (arg: unknown, s: JsonSchema, where: string[]): void => {
    const here = where.length ? where.join('.') : 'argument';
    if (where.length) for (const [label, v] of invalidValues(s, where, ctx)) push(`${here}: ${label}`, render(setAt(arg, where, v)));
    if (s.type === 'object') {
      const value = getAt(arg, where) as Record<string, unknown>;
      push(`${here}: extra field`, render(setAt(arg, where, { ...value, bogusField: 1 })));
      // An own "__proto__" key, as JSON.parse makes it: must be refused like any unknown field.
      const proto = JSON.parse('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
      push(`${here}: __proto__ field`, render(setAt(arg, where, { ...proto, ...value })));
      for (const key of s.required ?? []) {
        const { [key]: _dropped, ...rest } = value;
        push(`${here}: missing ${key}`, render(setAt(arg, where, rest)));
      }
      for (const [key, prop] of Object.entries(s.properties ?? {})) {
        // An optional field is put in place with a valid value first, then made invalid.
        visit(key in value ? arg : setAt(arg, [...where, key], base(prop, ctx)), prop, [...where, key]);
      }
    }
    if (s.type === 'array') visit(arg, s.items!, [...where, '0']);
  };
  visit(base(root, ctx), root, []);
  return cases;
}

/** Every method's cases, in a seeded random order (so a slow or stateful case is not always first or last). */
export function allCases(ctx: Context): FuzzCase[] {
  const cases = API_METHODS.flatMap((m) => casesFor(m, ctx));
  for (let i = cases.length - 1; i > 0; i--) {
    const j = ctx.rng.int(i + 1);
    [cases[i], cases[j]] = [cases[j]!, cases[i]!];
  }
  return cases;
}

function getAt(value: unknown, where: string[]): unknown {
  return where.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
}

/** A copy of `value` with the place `where` set to `v` (objects and arrays along the way copied). */
function setAt(value: unknown, where: string[], v: unknown): unknown {
  if (where.length === 0) return v;
  const [k, ...rest] = where as [string, ...string[]];
  if (Array.isArray(value)) {
    const copy = value.slice();
    copy[Number(k)] = setAt(copy[Number(k)], rest, v);
    return copy;
  }
  const obj = (value ?? {}) as Record<string, unknown>;
  return { ...obj, [k]: setAt(obj[k], rest, v) };
}

/** JSON text with Raw tokens spliced in. */
function render(value: unknown): string {
  const raws: Raw[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Raw) {
      raws.push(v);
      return `\u0000raw${raws.length - 1}\u0000`;
    }
    return v;
  });
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]!.text);
}
