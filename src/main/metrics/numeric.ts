/**
 * @file The few numpy routines Ultralytics' metrics are built on, with numpy's exact semantics
 * (these decide AP to the last digit): linspace, interp, trapz, the box-filter `smooth`, Python's
 * round.
 */

/** np.linspace(start, stop, num) (endpoint=True): i * step + start, the last element exactly stop. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 0) return out;
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) out[i] = step === 0 ? ((i / div) * delta) + start : i * step + start;
  out[num - 1] = stop;
  return out;
}

/**
 * np.interp(x, xp, fp, left, right) for one point: xp ascending (repeats allowed). Uses the last
 * index j with xp[j] <= x, as numpy's binary search does, so at a repeated xp value the result is
 * the fp of the last repeat.
 */
export function interpOne(
  x: number,
  xp: ArrayLike<number>,
  fp: ArrayLike<number>,
  left = fp[0]!,
  right = fp[fp.length - 1]!,
): number {
  const n = xp.length;
  if (Number.isNaN(x)) return x;
  if (x < xp[0]!) return left;
  if (x > xp[n - 1]!) return right;
  // last j with xp[j] <= x
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x >= xp[mid]!) lo = mid + 1;
    else hi = mid;
  }
  const j = lo - 1;
  if (j === n - 1) return fp[j]!;
  if (xp[j] === x) return fp[j]!;
  const slope = (fp[j + 1]! - fp[j]!) / (xp[j + 1]! - xp[j]!);
  let y = slope * (x - xp[j]!) + fp[j]!;
  if (Number.isNaN(y)) {
    y = slope * (x - xp[j + 1]!) + fp[j + 1]!;
    if (Number.isNaN(y) && fp[j] === fp[j + 1]) y = fp[j]!;
  }
  return y;
}

/** np.interp over many points. */
export function interp(
  x: ArrayLike<number>,
  xp: ArrayLike<number>,
  fp: ArrayLike<number>,
  left?: number,
  right?: number,
): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = interpOne(x[i]!, xp, fp, left, right);
  return out;
}

/** np.trapz(y, x): sum of (x[i+1] - x[i]) * (y[i+1] + y[i]) / 2. */
export function trapz(y: ArrayLike<number>, x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i + 1 < y.length; i++) s += ((x[i + 1]! - x[i]!) * (y[i + 1]! + y[i]!)) / 2;
  return s;
}

/** Python 3 round() to an integer: halves to even. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Ultralytics' `smooth(y, f)`: a box filter of nf = round(len * f * 2) // 2 + 1 taps (odd), the
 * ends padded with the edge values, same length out.
 */
export function smooth(y: ArrayLike<number>, f = 0.05): Float64Array {
  const n = y.length;
  const nf = Math.floor(pyRound(n * f * 2) / 2) + 1;
  const half = nf >> 1;
  const w = 1 / nf;
  const out = new Float64Array(n);
  const at = (k: number) => (k < 0 ? y[0]! : k >= n ? y[n - 1]! : y[k]!);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i - half; k <= i + half; k++) s += at(k) * w;
    out[i] = s;
  }
  return out;
}

/** Index of the first maximum (np.argmax). */
export function argmax(y: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < y.length; i++) if (y[i]! > y[best]!) best = i;
  return best;
}
