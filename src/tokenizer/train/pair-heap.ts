/**
 * The priority queue of BPE training: candidate pairs (left id, right id) keyed by their count, highest
 * first, ties broken by the smaller left id, then the smaller right id (so training is deterministic and
 * merges the same pair Hugging Face's trainer would at equal counts). Entries may go stale as counts change;
 * the trainer checks each popped entry against the live count. Parallel typed arrays, no objects per entry.
 */

export interface PairHeap {
  readonly size: number;
  push(count: number, left: number, right: number): void;
  /** Removes the top entry into `top` ([count, left, right]); false when empty. */
  pop(top: [number, number, number]): boolean;
}

export function createPairHeap(capacity = 1024): PairHeap {
  let counts = new Float64Array(capacity);
  let lefts = new Int32Array(capacity);
  let rights = new Int32Array(capacity);
  let size = 0;

  const before = (i: number, j: number): boolean => {
    const ci = counts[i] ?? 0;
    const cj = counts[j] ?? 0;
    if (ci !== cj) return ci > cj;
    const li = lefts[i] ?? 0;
    const lj = lefts[j] ?? 0;
    return li !== lj ? li < lj : (rights[i] ?? 0) < (rights[j] ?? 0);
  };
  const swap = (i: number, j: number): void => {
    const c = counts[i] ?? 0; counts[i] = counts[j] ?? 0; counts[j] = c;
    const l = lefts[i] ?? 0; lefts[i] = lefts[j] ?? 0; lefts[j] = l;
    const r = rights[i] ?? 0; rights[i] = rights[j] ?? 0; rights[j] = r;
  };
  const grow = (): void => {
    const n = counts.length * 2;
    const c = new Float64Array(n); c.set(counts); counts = c;
    const l = new Int32Array(n); l.set(lefts); lefts = l;
    const r = new Int32Array(n); r.set(rights); rights = r;
  };

  return {
    get size() { return size; },
    push(count, left, right) {
      if (size === counts.length) grow();
      let i = size++;
      counts[i] = count; lefts[i] = left; rights[i] = right;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!before(i, parent)) break;
        swap(i, parent);
        i = parent;
      }
    },
    pop(top) {
      if (size === 0) return false;
      top[0] = counts[0] ?? 0; top[1] = lefts[0] ?? 0; top[2] = rights[0] ?? 0;
      size--;
      if (size > 0) {
        counts[0] = counts[size] ?? 0; lefts[0] = lefts[size] ?? 0; rights[0] = rights[size] ?? 0;
        for (let i = 0; ;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < size && before(l, m)) m = l;
          if (r < size && before(r, m)) m = r;
          if (m === i) break;
          swap(i, m);
          i = m;
        }
      }
      return true;
    },
  };
}
