/**
 * @file Which indices torch.topk(x, k, largest=True) picks on the CPU, ties included.
 *
 * The TaskAlignedAssigner takes the top 10 anchors per ground truth over *all* anchors, most of
 * which have an alignment metric of exactly 0. When a box has fewer than 10 anchors with a positive
 * metric, the rest of its top 10 are zeros, and which zeros is decided by how torch's CPU kernel
 * (aten/src/ATen/native/TopKImpl.h) breaks ties: it fills a vector of (value, index) pairs and runs
 * libstdc++'s std::partial_sort when k * 64 <= n, else std::nth_element, with the comparator
 * `x.first > y.first` (NaN counts as largest). Neither is stable, so the tie-break is whatever
 * those algorithms do; this file re-enacts them step for step (heap select; introselect with
 * median-of-three pivots and insertion sort) so the same set of indices comes out. A zero-metric
 * anchor only becomes a positive when its centre lies inside the box, so this matters for the rare
 * box that has in-box anchors with a zero metric (CIoU <= 0 or underflow) and fewer than k positive
 * ones; elsewhere any correct top-k gives the same result.
 */

/** torch's comparator for largest=True: NaN first, then larger values. */
function greater(a: number, b: number): boolean {
  return (Number.isNaN(a) && !Number.isNaN(b)) || a > b;
}

/** The (value, index) pairs torch sorts, as two parallel arrays. */
class Queue {
  constructor(
    readonly v: Float64Array,
    readonly i: Int32Array,
  ) {}

  comp(a: number, b: number): boolean {
    return greater(this.v[a]!, this.v[b]!);
  }

  swap(a: number, b: number): void {
    const v = this.v[a]!;
    this.v[a] = this.v[b]!;
    this.v[b] = v;
    const i = this.i[a]!;
    this.i[a] = this.i[b]!;
    this.i[b] = i;
  }

  move(to: number, from: number): void {
    this.v[to] = this.v[from]!;
    this.i[to] = this.i[from]!;
  }

  set(to: number, value: number, index: number): void {
    this.v[to] = value;
    this.i[to] = index;
  }
}

// libstdc++ <bits/stl_heap.h>, positions relative to `first`.
function pushHeap(q: Queue, first: number, hole: number, top: number, value: number, index: number): void {
  let parent = Math.floor((hole - 1) / 2);
  while (hole > top && greater(q.v[first + parent]!, value)) {
    q.move(first + hole, first + parent);
    hole = parent;
    parent = Math.floor((hole - 1) / 2);
  }
  q.set(first + hole, value, index);
}

function adjustHeap(q: Queue, first: number, hole: number, len: number, value: number, index: number): void {
  const top = hole;
  let child = hole;
  while (child < Math.floor((len - 1) / 2)) {
    child = 2 * (child + 1);
    if (q.comp(first + child, first + child - 1)) child--;
    q.move(first + hole, first + child);
    hole = child;
  }
  if ((len & 1) === 0 && child === Math.floor((len - 2) / 2)) {
    child = 2 * (child + 1);
    q.move(first + hole, first + child - 1);
    hole = child - 1;
  }
  pushHeap(q, first, hole, top, value, index);
}

function makeHeap(q: Queue, first: number, last: number): void {
  const len = last - first;
  if (len < 2) return;
  let parent = Math.floor((len - 2) / 2);
  for (;;) {
    adjustHeap(q, first, parent, len, q.v[first + parent]!, q.i[first + parent]!);
    if (parent === 0) return;
    parent--;
  }
}

/** std::__heap_select(first, middle, last): afterwards [first, middle) holds the top (middle - first). */
function heapSelect(q: Queue, first: number, middle: number, last: number): void {
  makeHeap(q, first, middle);
  for (let i = middle; i < last; i++) {
    if (q.comp(i, first)) {
      // __pop_heap(first, middle, i)
      const v = q.v[i]!;
      const ix = q.i[i]!;
      q.move(i, first);
      adjustHeap(q, first, 0, middle - first, v, ix);
    }
  }
}

function moveMedianToFirst(q: Queue, result: number, a: number, b: number, c: number): void {
  if (q.comp(a, b)) {
    if (q.comp(b, c)) q.swap(result, b);
    else if (q.comp(a, c)) q.swap(result, c);
    else q.swap(result, a);
  } else if (q.comp(a, c)) q.swap(result, a);
  else if (q.comp(b, c)) q.swap(result, c);
  else q.swap(result, b);
}

function unguardedPartition(q: Queue, first: number, last: number, pivot: number): number {
  for (;;) {
    while (q.comp(first, pivot)) first++;
    last--;
    while (q.comp(pivot, last)) last--;
    if (!(first < last)) return first;
    q.swap(first, last);
    first++;
  }
}

function insertionSort(q: Queue, first: number, last: number): void {
  if (first === last) return;
  for (let i = first + 1; i !== last; i++) {
    const v = q.v[i]!;
    const ix = q.i[i]!;
    if (greater(v, q.v[first]!)) {
      for (let j = i; j > first; j--) q.move(j, j - 1);
      q.set(first, v, ix);
    } else {
      let hole = i;
      let next = i - 1;
      while (greater(v, q.v[next]!)) {
        q.move(hole, next);
        hole = next;
        next--;
      }
      q.set(hole, v, ix);
    }
  }
}

/** std::nth_element(first, nth, last) as libstdc++'s introselect does it. */
function nthElement(q: Queue, first: number, nth: number, last: number): void {
  if (first === last || nth === last) return;
  let depth = 2 * Math.floor(Math.log2(last - first));
  while (last - first > 3) {
    if (depth === 0) {
      heapSelect(q, first, nth + 1, last);
      q.swap(first, nth);
      return;
    }
    depth--;
    const mid = first + Math.floor((last - first) / 2);
    moveMedianToFirst(q, first, first + 1, mid, last - 1);
    const cut = unguardedPartition(q, first + 1, last, first);
    if (cut <= nth) first = cut;
    else last = cut;
  }
  insertionSort(q, first, last);
}

/**
 * The indices torch.topk(values[offset : offset + n], k, largest=True) returns on the CPU, as a set
 * (in the order the selection leaves them, not sorted by value). k must be <= n.
 */
export function torchTopkIndices(values: ArrayLike<number>, k: number, offset = 0, n = values.length - offset): Int32Array {
  if (k > n) throw new Error(`topk: k (${k}) > n (${n})`);
  if (k <= 0) return new Int32Array(0);
  const q = new Queue(new Float64Array(n), new Int32Array(n));
  for (let j = 0; j < n; j++) q.set(j, values[offset + j]!, j);
  if (k * 64 <= n) heapSelect(q, 0, k, n);
  else nthElement(q, 0, k - 1, n);
  return q.i.slice(0, k);
}
