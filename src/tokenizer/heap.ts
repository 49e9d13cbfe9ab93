/**
 * Binary min-heaps for the merge loops: `createHeap` over records with a caller-given "comes first" order
 * (SPM and llama2.c bigram queues) and `createNumberHeap` over packed numeric keys (byte-level BPE on long
 * words). No decrease-key: callers skip stale entries.
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

/** A min-heap of plain numbers (callers pack their order into the key, e.g. rank * 2^32 + position). */
export interface NumberHeap {
  push(key: number): void;
  /** The smallest key, removed; -1 when empty (keys must be >= 0). */
  pop(): number;
  clear(): void;
  readonly size: number;
}

export function createNumberHeap(capacity = 64): NumberHeap {
  let keys = new Float64Array(Math.max(capacity, 4));
  let n = 0;
  return {
    get size() { return n; },
    clear(): void { n = 0; },
    push(key: number): void {
      if (n === keys.length) {
        const grown = new Float64Array(keys.length * 2);
        grown.set(keys);
        keys = grown;
      }
      let i = n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        const pk = keys[p] as number;
        if (pk <= key) break;
        keys[i] = pk;
        i = p;
      }
      keys[i] = key;
    },
    pop(): number {
      if (n === 0) return -1;
      const top = keys[0] as number;
      const last = keys[--n] as number;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (keys[r] as number) < (keys[l] as number) ? r : l;
        if ((keys[c] as number) >= last) break;
        keys[i] = keys[c] as number;
        i = c;
      }
      keys[i] = last;
      return top;
    },
  };
}
