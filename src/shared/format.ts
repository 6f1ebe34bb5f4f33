/**
 * @file Small display formatters shared by the UI and the CLI.
 */

/**
 * Seconds as m:ss, or h:mm:ss past an hour.
 * @example formatDuration(75) // => '1:15'
 * @example formatDuration(3725) // => '1:02:05'
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * A count with thousands separators.
 * @example formatCount(1234567) // => '1,234,567'
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
