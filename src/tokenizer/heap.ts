/**
 * A small binary min-heap over numeric keys with a caller-given "comes first" order; used by the SPM and
 * BPE merge loops (bigram queues). Stores plain records; no decrease-key (stale entries are skipped by callers).
 */

export interface Heap<T> {
  push(item: T): void;
  pop(): T | undefined;
  readonly size: number;
}

/** `before(a, b)` is true when `a` must be popped before `b`. */
export function createHeap<T>(before: (a: T, b: T) => boolean): Heap<T> {
  const items: T[] = [];
  const swap = (i: number, j: number): void => {
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  };
  return {
    get size() { return items.length; },
    push(item: T): void {
      items.push(item);
      let i = items.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!before(items[i] as T, items[p] as T)) break;
        swap(i, p);
        i = p;
      }
    },
    pop(): T | undefined {
      if (items.length === 0) return undefined;
      const top = items[0];
      const last = items.pop() as T;
      if (items.length > 0) {
        items[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < items.length && before(items[l] as T, items[m] as T)) m = l;
          if (r < items.length && before(items[r] as T, items[m] as T)) m = r;
          if (m === i) break;
          swap(i, m);
          i = m;
        }
      }
      return top;
    },
  };
}
