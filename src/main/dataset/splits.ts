/**
 * @file Train/val/test assignment by ratio, stratified by class. Pure: no store, no I/O.
 *
 * Algorithm (iterative stratification, Sechidis, Tsoumakas & Vlahavas 2011, adapted to images):
 *  1. Normalise the ratios. Integer target counts per split are taken from the total number of
 *     images (already-split ones included under scope 'unassigned') by the largest-remainder rule,
 *     so the final totals match the ratios to within one image.
 *  2. Each class c (an image "holds" c when it has at least one box of c) wants n_c * ratio_s of
 *     its images in split s; what is already in s counts against that. Images with no boxes form
 *     one extra group ("background"), so they too are spread in proportion.
 *  3. Images to assign are shuffled with the seed. Then, repeatedly, the class with the fewest
 *     still-unassigned images is chosen (ties: first seen), and every unassigned image holding it
 *     is placed, in shuffled order, into the split whose remaining demand for that class is
 *     largest; ties go to the split with the largest overall remaining demand, then to the fixed
 *     order train, val, test. Only splits with a ratio > 0 that are below their target count are
 *     candidates. Placing an image updates the demand of every class it holds.
 *  Rare classes are thus placed first, while every split still has room, which is what keeps a
 *  class on 10 images at 8/1/1 for ratios 0.8/0.1/0.1. O(total class memberships + classes^2).
 *  Deterministic for a given seed and input order (the PRNG is platform independent).
 */
import { AppError } from '../../shared/errors';
import type { Split, SplitRequest } from '../../shared/types';
import { Rng } from '../util/rng';

export interface SplitCandidate {
  id: number;
  /** Class ids of the image's boxes (duplicates allowed; empty for a background/unlabeled image). */
  classIds: number[];
  split: Split;
}

type Assignable = 'train' | 'val' | 'test';
const ORDER: readonly Assignable[] = ['train', 'val', 'test'];
const EPS = 1e-9;

/** Validates and normalises ratios to sum 1. Throws INVALID_INPUT with the reason. */
export function normaliseRatios(ratios: SplitRequest['ratios']): [number, number, number] {
  const vals = ORDER.map((s) => ratios?.[s]);
  for (let i = 0; i < 3; i++) {
    const v = vals[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new AppError(
        'INVALID_INPUT',
        `split ratio for ${ORDER[i]} must be a finite number >= 0, got ${String(v)}`,
        { ratios },
      );
    }
  }
  const [a, b, c] = vals as [number, number, number];
  const sum = a + b + c;
  if (!(sum > 0)) {
    throw new AppError('INVALID_INPUT', 'split ratios must not all be zero (train + val + test must be > 0)', {
      ratios,
    });
  }
  return [a / sum, b / sum, c / sum];
}

/** Integer counts summing to `total`, proportional to `ratios` (largest remainder; ties in split order). */
export function targetCounts(total: number, ratios: readonly number[]): number[] {
  const exact = ratios.map((r) => total * r);
  const out = exact.map((e) => Math.floor(e + EPS));
  let left = total - out.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((e, i) => ({ i, rem: e - (out[i] as number) }))
    .filter((x) => (ratios[x.i] as number) > 0)
    .sort((x, y) => y.rem - x.rem || x.i - y.i);
  for (let k = 0; left > 0 && byRemainder.length > 0; k = (k + 1) % byRemainder.length, left--) {
    const i = (byRemainder[k] as { i: number }).i;
    out[i] = (out[i] as number) + 1;
  }
  return out;
}

/**
 * The plan for a request of any scope: 'train' re-splits only the images now in train (e.g. to carve
 * a val split out of it), the others go to planSplits as they are.
 */
export function planSplitRequest(images: readonly SplitCandidate[], req: SplitRequest): Map<number, Split> {
  return req.scope === 'train'
    ? planSplits(images.filter((i) => i.split === 'train'), { ...req, scope: 'all' })
    : planSplits(images, { ...req, scope: req.scope ?? 'unassigned' });
}

/**
 * Plans a split for the images in scope. Returns the split for every image in scope ('unassigned':
 * images whose split is 'none'; 'all': every image); under 'all' some may equal their current split.
 */
export function planSplits(images: readonly SplitCandidate[], req: SplitRequest): Map<number, Split> {
  const ratios = normaliseRatios(req.ratios);
  const scope = req.scope ?? 'unassigned';
  if (scope !== 'unassigned' && scope !== 'all') {
    throw new AppError('INVALID_INPUT', `split scope must be 'unassigned' or 'all', got ${String(scope)}`);
  }
  const rng = new Rng(req.seed ?? 0);
  const result = new Map<number, Split>();

  // Dense class indices; the last one is the background group (images without boxes). The groups
  // of image i are flat[off[i] .. off[i+1]) (CSR layout: no per-image allocations).
  const classIndex = new Map<number, number>();
  const n = images.length;
  const off = new Int32Array(n + 1);
  let flat = new Int32Array(Math.max(16, n * 4));
  const stamp: number[] = [];
  const noBoxes: number[] = [];
  let len = 0;
  for (let i = 0; i < n; i++) {
    const ids = (images[i] as SplitCandidate).classIds;
    if (len + ids.length > flat.length) {
      const grown = new Int32Array(Math.max(flat.length * 2, len + ids.length));
      grown.set(flat);
      flat = grown;
    }
    const begin = len;
    for (let j = 0; j < ids.length; j++) {
      const cid = ids[j] as number;
      let k = classIndex.get(cid);
      if (k === undefined) {
        k = classIndex.size;
        classIndex.set(cid, k);
        stamp.push(-1);
      }
      if (stamp[k] !== i) {
        stamp[k] = i;
        flat[len++] = k;
      }
    }
    if (len === begin) noBoxes.push(i);
    off[i + 1] = len;
  }
  // Background: fill in now that the number of classes is known.
  const bg = classIndex.size;
  const nGroups = bg + 1;
  if (noBoxes.length > 0) {
    const withBg = new Int32Array(len + noBoxes.length);
    let w = 0;
    for (let i = 0; i < n; i++) {
      const a = off[i] as number;
      const b = off[i + 1] as number;
      off[i] = w;
      if (a === b) {
        withBg[w++] = bg;
      } else for (let k = a; k < b; k++) withBg[w++] = flat[k] as number;
    }
    off[n] = w;
    flat = withBg;
  }

  // Split counts overall and per group; 'pool' = images to place.
  const count = [0, 0, 0];
  const have = new Float64Array(nGroups * 3); // have[g*3+s]
  const groupTotal = new Float64Array(nGroups);
  const pool: number[] = [];
  for (let i = 0; i < n; i++) {
    const img = images[i] as SplitCandidate;
    const a = off[i] as number;
    const b = off[i + 1] as number;
    for (let k = a; k < b; k++) {
      const g = flat[k] as number;
      groupTotal[g] = (groupTotal[g] as number) + 1;
    }
    const s = scope === 'unassigned' ? ORDER.indexOf(img.split as Assignable) : -1;
    if (s >= 0) {
      count[s] = (count[s] as number) + 1;
      for (let k = a; k < b; k++) {
        const j = (flat[k] as number) * 3 + s;
        have[j] = (have[j] as number) + 1;
      }
    } else if (scope === 'all' || img.split === 'none') {
      pool.push(i);
    }
  }
  if (pool.length === 0) return result;

  const target = targetCounts(n, ratios);
  // demand[g*3+s] = n_g * ratio_s - have[g][s]
  const demand = new Float64Array(nGroups * 3);
  for (let g = 0; g < nGroups; g++) {
    for (let s = 0; s < 3; s++) demand[g * 3 + s] = (groupTotal[g] as number) * (ratios[s] as number) - (have[g * 3 + s] as number);
  }

  rng.shuffle(pool);

  // Members of each group among the pool, in shuffled order (CSR again), and how many are pending.
  const pending = new Int32Array(nGroups);
  for (const i of pool) {
    for (let k = off[i] as number; k < (off[i + 1] as number); k++) {
      const g = flat[k] as number;
      pending[g] = (pending[g] as number) + 1;
    }
  }
  const mOff = new Int32Array(nGroups + 1);
  for (let g = 0; g < nGroups; g++) mOff[g + 1] = (mOff[g] as number) + (pending[g] as number);
  const members = new Int32Array(mOff[nGroups] as number);
  const fill = mOff.slice(0, nGroups);
  for (const i of pool) {
    for (let k = off[i] as number; k < (off[i + 1] as number); k++) {
      const g = flat[k] as number;
      const at = fill[g] as number;
      members[at] = i;
      fill[g] = at + 1;
    }
  }

  const placed = new Uint8Array(n);
  const live = ratios.map((r) => r > 0);
  const chooseSplit = (g: number): number => {
    let best = -1;
    let fallback = -1;
    for (let s = 0; s < 3; s++) {
      if (!live[s]) continue;
      if (fallback < 0 || (target[s] as number) - (count[s] as number) > (target[fallback] as number) - (count[fallback] as number)) {
        fallback = s;
      }
      if ((count[s] as number) >= (target[s] as number)) continue;
      if (best < 0) {
        best = s;
        continue;
      }
      const d = (demand[g * 3 + s] as number) - (demand[g * 3 + best] as number);
      if (d > EPS) best = s;
      else if (d >= -EPS) {
        const o = (target[s] as number) - (count[s] as number) - ((target[best] as number) - (count[best] as number));
        if (o > 0) best = s;
      }
    }
    // All candidate splits full can only happen through rounding; fall back to the least full one.
    return best >= 0 ? best : fallback;
  };

  let remaining = pool.length;
  while (remaining > 0) {
    // The group with the fewest pending images (ties: lowest index, i.e. first seen).
    let g = -1;
    for (let k = 0; k < nGroups; k++) {
      const p = pending[k] as number;
      if (p > 0 && (g < 0 || p < (pending[g] as number))) g = k;
    }
    if (g < 0) break; // cannot happen: every pool image belongs to at least one group
    for (let m = mOff[g] as number; m < (mOff[g + 1] as number); m++) {
      const i = members[m] as number;
      if (placed[i]) continue;
      const s = chooseSplit(g);
      placed[i] = 1;
      remaining--;
      count[s] = (count[s] as number) + 1;
      for (let k = off[i] as number; k < (off[i + 1] as number); k++) {
        const h = flat[k] as number;
        demand[h * 3 + s] = (demand[h * 3 + s] as number) - 1;
        pending[h] = (pending[h] as number) - 1;
      }
      result.set((images[i] as SplitCandidate).id, ORDER[s] as Assignable);
    }
  }
  return result;
}
