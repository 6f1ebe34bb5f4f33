/** @file What every bench part returns, so bench/index.ts can print one table and write JSON. */

export interface Figure {
  /** What was measured, e.g. 'import 100k images / 1M boxes'. */
  name: string;
  measured: number;
  unit: string;
  /** Upper bound the measured value must stay under (all our figures are lower-is-better); null: info only. */
  target: number | null;
}

export interface PartResult {
  part: string;
  figures: Figure[];
  /** Anything else worth keeping (phase times, memory, counts, machine). */
  info: Record<string, unknown>;
}

export type Log = (line: string) => void;

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
