/**
 * @file A short JSON-like preview of a value from a user's file, for problem messages. It walks only
 * as far as it prints, so a value nested 100k deep (JSON.stringify overflows the stack) or holding
 * billions of elements through YAML aliases (JSON.stringify runs for minutes, then fails) costs the
 * same as a small one.
 */

type Frame = { text: string } | { value: unknown } | { array: readonly unknown[]; at: number } | { object: Record<string, unknown>; keys: string[]; at: number };

/**
 * At most `max` characters of the value as JSON; a cut one ends in `…`.
 *
 * @example previewValue({ a: [1, 'x'] })          // '{"a":[1,"x"]}'
 * @example previewValue('y'.repeat(1000), 8)      // '"yyyyyy…'
 */
export function previewValue(value: unknown, max = 80): string {
  if (value === undefined) return 'nothing';
  let out = '';
  const stack: Frame[] = [{ value }];
  while (stack.length > 0 && out.length < max) {
    const frame = stack.pop()!;
    if ('text' in frame) {
      out += frame.text;
    } else if ('array' in frame) {
      if (frame.at < frame.array.length) {
        if (frame.at > 0) out += ',';
        stack.push({ array: frame.array, at: frame.at + 1 }, { value: frame.array[frame.at] });
      } else out += ']';
    } else if ('object' in frame) {
      if (frame.at < frame.keys.length) {
        const key = frame.keys[frame.at]!;
        out += `${frame.at > 0 ? ',' : ''}${JSON.stringify(key.slice(0, max))}:`;
        stack.push({ object: frame.object, keys: frame.keys, at: frame.at + 1 }, { value: frame.object[key] });
      } else out += '}';
    } else {
      const v = frame.value;
      if (Array.isArray(v)) {
        out += '[';
        stack.push({ array: v, at: 0 });
      } else if (typeof v === 'object' && v !== null) {
        out += '{';
        stack.push({ object: v as Record<string, unknown>, keys: Object.keys(v), at: 0 });
      } else if (typeof v === 'string') {
        out += JSON.stringify(v.slice(0, max));
      } else {
        out += JSON.stringify(v) ?? 'null';
      }
    }
  }
  return out.length > max || stack.length > 0 ? `${out.slice(0, max - 1)}…` : out;
}
