/**
 * @file Line numbers for JSON, which JSON.parse does not give: where each element of the top-level
 * arrays starts (so a problem in `annotations[1234]` can say `file.json:5678`), and where a syntax
 * error is. One linear scan that tracks strings, escapes and nesting; run only when needed.
 */
import type { Problem } from '../../shared/errors';
import { LineIndex } from './lines';

/**
 * For each top-level key whose value is an array, the 1-based line on which each element starts:
 * `lines.get('annotations')[k]` is the line of `annotations[k]`. Assumes `text` is valid JSON.
 */
export function locateTopLevelArrays(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let stringStart = -1;
  let lastString: string | null = null; // last string closed at depth 1 (a key or a value)
  let key: string | null = null; // key whose value comes next at depth 1
  let current: number[] | null = null; // element lines of the top-level array being scanned
  let expectElement = false;

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      continue;
    }
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 92) escaped = true; // backslash
      else if (c === 34) {
        inString = false;
        if (depth === 1) lastString = JSON.parse(text.slice(stringStart, i + 1)) as string;
      }
      continue;
    }
    if (c === 32 || c === 9 || c === 13) continue;

    if (current !== null && depth === 2 && expectElement) {
      expectElement = false;
      if (c !== 93) current.push(line); // not the `]` of an empty array
    }
    switch (c) {
      case 34: // "
        inString = true;
        stringStart = i;
        break;
      case 58: // :
        if (depth === 1) key = lastString;
        break;
      case 44: // ,
        if (depth === 1) key = null;
        else if (depth === 2 && current !== null) expectElement = true;
        break;
      case 91: // [
        if (depth === 1 && key !== null) {
          current = [];
          out.set(key, current);
          expectElement = true;
        }
        depth++;
        break;
      case 123: // {
        depth++;
        break;
      case 93: // ]
      case 125: // }
        depth--;
        if (depth === 1) current = null;
        break;
      default:
        break;
    }
  }
  return out;
}

/**
 * The problem for a JSON.parse failure: line and column from the position V8 reports
 * ("... at position 123", newer V8 also "(line 4 column 7)"), or the end for truncated input.
 */
export function jsonSyntaxProblem(text: string, file: string, err: unknown): Problem {
  const message = err instanceof Error ? err.message : String(err);
  const lc = /line (\d+) column (\d+)/.exec(message);
  let line: number | undefined;
  let column: number | undefined;
  if (lc) {
    line = Number(lc[1]);
    column = Number(lc[2]);
  } else {
    const pos = /at position (\d+)/.exec(message);
    const offset = pos ? Number(pos[1]) : /end of JSON input/.test(message) ? text.length : undefined;
    if (offset !== undefined) ({ line, column } = new LineIndex(text).lineColOf(offset));
  }
  const reason = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '');
  return line === undefined
    ? { file, message: `invalid JSON: ${reason}` }
    : { file, line, field: `column ${column}`, message: `invalid JSON: ${reason}` };
}
