/**
 * Hostile ONNX metadata: the names dict is a Python literal from the file, so its indices, its size
 * and its nesting are checked before they build anything (`{4294967294: 'x'}` once asked for a
 * 4-billion-entry array and ran the heap out after 35 s).
 */
import { describe, expect, it } from 'vitest';
import { parsePyLiteral, parseUltralyticsMetadata } from '../../../../src/main/model/onnx/onnx-metadata';
import { MAX_CLASSES } from '../../../../src/main/model/limits';

/** Runs `fn`, which must throw within 500 ms; returns the error's message. */
function failsFast(fn: () => unknown): string {
  const t0 = performance.now();
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(performance.now() - t0).toBeLessThan(500);
  expect(caught).toBeInstanceOf(Error);
  return (caught as Error).message;
}

describe('Ultralytics metadata from a hostile file', () => {
  it('a names index of 4294967294 is an error, not a 4-billion-entry array', () => {
    expect(failsFast(() => parseUltralyticsMetadata({ names: "{4294967294: 'x'}" }))).toBe("metadata 'names': class index 4294967294 is not a whole number from 0 to 9999");
  });

  it('negative, fractional, boolean and string indices are errors', () => {
    expect(failsFast(() => parseUltralyticsMetadata({ names: "{-1: 'x'}" }))).toMatch(/class index -1 /);
    expect(failsFast(() => parseUltralyticsMetadata({ names: "{0.5: 'x'}" }))).toMatch(/class index 0\.5 /);
    expect(failsFast(() => parseUltralyticsMetadata({ names: "{True: 'x'}" }))).toMatch(/class index of type boolean /);
    expect(failsFast(() => parseUltralyticsMetadata({ names: "{'a': 'x'}" }))).toMatch(/class index 'a' /);
  });

  it(`more than ${MAX_CLASSES} names is an error`, () => {
    const dict = `{${Array.from({ length: MAX_CLASSES + 1 }, (_, i) => `${i}: 'c'`).join(', ')}}`;
    expect(failsFast(() => parseUltralyticsMetadata({ names: dict }))).toBe("metadata 'names' has 10001 classes; boxtune reads at most 10000");
    const list = `[${Array.from({ length: MAX_CLASSES + 1 }, () => "'c'").join(', ')}]`;
    expect(failsFast(() => parseUltralyticsMetadata({ names: list }))).toMatch(/has 10001 classes/);
  });

  it('literals nested without end are a syntax error, not a stack overflow', () => {
    expect(failsFast(() => parsePyLiteral('['.repeat(100_000)))).toMatch(/nested deeper than 64 at 64/);
  });

  it('a stride list of 500000 numbers is read without spreading it as arguments', () => {
    const stride = `[${Array.from({ length: 500_000 }, (_, i) => (i === 7 ? 32 : 8)).join(', ')}]`;
    expect(parseUltralyticsMetadata({ stride }).stride).toBe(32);
  });

  it('sane names still read, sparse ones filled', () => {
    expect(parseUltralyticsMetadata({ names: "{0: 'a', 2: 'c'}" }).names).toEqual(['a', '1', 'c']);
    expect(parseUltralyticsMetadata({ names: "['a', 'b']" }).names).toEqual(['a', 'b']);
  });
});
