/**
 * @file One YOLO label file: rows `class x_center y_center width height` normalised to 0..1, or
 * Ultralytics' polygon rows `class x1 y1 x2 y2 x3 y3 ...` (reduced to their bounding box, as
 * Ultralytics' segments2boxes does). Hot path of a 1M-box import: no regexes, one pass per line.
 */
import { clampRectToImage } from '../../shared/geometry';
import type { Problem } from '../../shared/errors';
import type { ParsedBox } from './types';

/** Normalised coordinates: the image is 1 x 1. */
const UNIT_IMAGE = { width: 1, height: 1 };

/** How far outside 0..1 a normalised coordinate may be before it is an error (then it is clamped). */
export const TOLERANCE = 1e-3;

const BOX_COLUMNS = ['class', 'x_center', 'y_center', 'width', 'height'] as const;

export interface LabelFileResult {
  boxes: ParsedBox[];
  /** Polygon rows converted to boxes. */
  polygons: number;
  /** Rows identical to an earlier row of the same file (kept). */
  duplicates: number;
  /** Line of the first duplicate row, for the warning. */
  firstDuplicateLine?: number;
}

/**
 * Parses the text of `file`. Every malformed row adds one problem per fault to `problems` and is
 * skipped; `nc` is the number of class names (Infinity when names are unusable, to skip that check).
 */
export function parseYoloLabels(text: string, file: string, nc: number, problems: Problem[]): LabelFileResult {
  const result: LabelFileResult = { boxes: [], polygons: 0, duplicates: 0 };
  // Duplicate detection: pairwise on the few rows most files have, a Set of row texts beyond that
  // (linear, but building keys costs more than comparing a handful of rows).
  const rows: string[][] = [];
  let seen: Set<string> | null = null;
  let lineNo = 0;
  let start = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    lineNo++;
    const tokens = splitWhitespace(text, start, end);
    start = end + 1;
    if (tokens.length === 0) continue; // blank line

    const row = parseRow(tokens, file, lineNo, nc, problems);
    if (row === null) continue;
    if (row.polygon) result.polygons++;
    result.boxes.push(row.box);

    let duplicate = false;
    if (seen === null && rows.length < PAIRWISE_ROWS) {
      for (const r of rows) if (sameTokens(r, tokens)) duplicate = true;
      rows.push(tokens);
    } else {
      if (seen === null) seen = new Set(rows.map((r) => r.join(' ')));
      const key = tokens.join(' ');
      duplicate = seen.has(key);
      seen.add(key);
    }
    if (duplicate) {
      result.duplicates++;
      result.firstDuplicateLine ??= lineNo;
    }
  }
  return result;
}

const PAIRWISE_ROWS = 16;

function sameTokens(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Tokens of text[start, end) split on ASCII whitespace (what Python's str.split() does for these files). */
function splitWhitespace(text: string, start: number, end: number): string[] {
  const out: string[] = [];
  let tokStart = -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
      if (tokStart >= 0) {
        out.push(text.slice(tokStart, i));
        tokStart = -1;
      }
    } else if (tokStart < 0) tokStart = i;
  }
  if (tokStart >= 0) out.push(text.slice(tokStart, end));
  return out;
}

function parseRow(
  tokens: string[],
  file: string,
  line: number,
  nc: number,
  problems: Problem[],
): { box: ParsedBox; polygon: boolean } | null {
  const cols = tokens.length;
  const polygon = cols >= 7 && cols % 2 === 1;
  if (cols !== 5 && !polygon) {
    let message = `expected 5 columns (class x_center y_center width height), found ${cols}`;
    if (cols > 5) message += '; a polygon row needs the class and an even number (at least 6) of coordinates';
    problems.push({ file, line, message });
    return null;
  }

  const values = new Array<number>(cols);
  let ok = true;
  for (let i = 0; i < cols; i++) {
    const tok = tokens[i]!;
    const v = Number(tok);
    if (!Number.isFinite(v)) {
      const what = columnName(i, polygon);
      problems.push({ file, line, field: `column ${i + 1}`, message: `'${tok}' is not a number (expected ${what})` });
      ok = false;
    }
    values[i] = v;
  }
  if (!ok) return null;

  const cls = values[0]!;
  if (!Number.isInteger(cls)) {
    problems.push({ file, line, field: 'column 1', message: `class id '${tokens[0]}' is not an integer` });
    ok = false;
  } else if (cls < 0 || cls >= nc) {
    problems.push({
      file,
      line,
      field: 'column 1',
      message: `class id ${cls} out of range 0..${nc - 1} (names has ${nc} entries)`,
    });
    ok = false;
  }
  for (let i = 1; i < cols; i++) {
    const v = values[i]!;
    if (v < -TOLERANCE || v > 1 + TOLERANCE) {
      problems.push({
        file,
        line,
        field: `column ${i + 1}`,
        message: `${columnName(i, polygon)} ${tokens[i]} is outside 0..1 (coordinates must be normalised by the image size)`,
      });
      ok = false;
    }
  }
  if (!polygon) {
    for (const i of [3, 4]) {
      if (values[i]! <= 0) {
        problems.push({ file, line, field: `column ${i + 1}`, message: `${BOX_COLUMNS[i]} ${tokens[i]} must be > 0` });
        ok = false;
      }
    }
  }
  if (!ok) return null;

  let x: number;
  let y: number;
  let w: number;
  let h: number;
  if (polygon) {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let i = 1; i < cols; i += 2) {
      const px = values[i]!;
      const py = values[i + 1]!;
      if (px < x0) x0 = px;
      if (px > x1) x1 = px;
      if (py < y0) y0 = py;
      if (py > y1) y1 = py;
    }
    x = x0;
    y = y0;
    w = x1 - x0;
    h = y1 - y0;
  } else {
    w = values[3]!;
    h = values[4]!;
    x = values[1]! - w / 2;
    y = values[2]! - h / 2;
  }
  // Clamp into the image (values within the tolerance, or boxes overhanging an edge); exact as
  // written when nothing overhangs, so round trips are exact.
  const clamped = clampRectToImage({ x, y, w, h }, UNIT_IMAGE);
  if (!clamped) {
    const what = polygon ? 'polygon encloses no area' : 'box lies outside the image';
    problems.push({ file, line, message: `${what} (width or height is 0 after clipping to 0..1)` });
    return null;
  }
  return { box: { classIndex: cls, ...clamped, normalized: true }, polygon };
}

function columnName(i: number, polygon: boolean): string {
  if (i === 0) return 'a class id';
  if (polygon) return i % 2 === 1 ? `x${(i + 1) / 2}` : `y${i / 2}`;
  return BOX_COLUMNS[i]!;
}
