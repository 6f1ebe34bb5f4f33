/**
 * @file Offset -> line/column lookup for formats whose parsers give offsets (JSON errors) or whose
 * problems we locate ourselves in the raw text (VOC tags). Built once per file, lazily, only when
 * there is a problem to report.
 */

export class LineIndex {
  /** Offset at which each line starts; starts[0] = 0. */
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** 1-based line holding `offset`. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** 1-based line and column of `offset`. */
  lineColOf(offset: number): { line: number; column: number } {
    const line = this.lineOf(offset);
    return { line, column: offset - this.starts[line - 1]! + 1 };
  }
}
