/**
 * @file Small pure formatters for numbers, rates and durations shown in the UI.
 */

/** `1234567` -> `1,234,567` (locale-independent, so screenshots and tests agree). */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Seconds as `mm:ss` (or `h:mm:ss` past an hour); `--:--` when unknown.
 *
 * @example formatEta(75) // '01:15'
 */
export function formatEta(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Items per second with sensible precision: `0.4/s`, `12/s`, `1,204/s`. */
export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec) || perSec <= 0) return '-';
  return perSec < 10 ? `${perSec.toFixed(1)}/s` : `${formatCount(perSec)}/s`;
}
