/**
 * The candidates record every sampler stage works on: token ids with their logits and probabilities,
 * how many are still in play (`size`) and whether they are sorted by logit, descending. Allocated once
 * per vocabulary size and refilled from each step's logits.
 */

export interface Candidates {
  readonly ids: Int32Array;
  readonly logits: Float32Array;
  readonly probs: Float32Array;
  size: number;
  sorted: boolean;
  /** Scratch for sorting, so a sampling step allocates nothing. */
  readonly order: Uint32Array;
  readonly tmpIds: Int32Array;
  readonly tmpLogits: Float32Array;
}

export function createCandidates(vocabSize: number): Candidates {
  return {
    ids: new Int32Array(vocabSize), logits: new Float32Array(vocabSize), probs: new Float32Array(vocabSize), size: 0, sorted: false,
    order: new Uint32Array(vocabSize), tmpIds: new Int32Array(vocabSize), tmpLogits: new Float32Array(vocabSize),
  };
}

/** Loads a step's logits (vocabSize) into the record, all tokens in play, unsorted. */
export function fillCandidates(c: Candidates, logits: Float32Array): void {
  const n = c.ids.length;
  for (let i = 0; i < n; i++) {
    c.ids[i] = i;
    c.logits[i] = logits[i] as number;
  }
  c.size = n;
  c.sorted = false;
}

/** Sorts the first `size` candidates by logit, descending (ties: lower id first), keeping ids aligned. */
export function sortCandidates(c: Candidates): void {
  if (c.sorted) return;
  const n = c.size;
  const order = c.order.subarray(0, n);
  for (let i = 0; i < n; i++) order[i] = i;
  sortAndGather(c, order);
}

/** Sorts `order` (candidate indices) best first and makes those candidates, in that order, the record's first entries. */
function sortAndGather(c: Candidates, order: Uint32Array): void {
  const { ids, logits } = c;
  const n = order.length;
  order.sort((a, b) => (logits[b] as number) - (logits[a] as number) || (ids[a] as number) - (ids[b] as number));
  const tmpIds = c.tmpIds, tmpLogits = c.tmpLogits;
  for (let i = 0; i < n; i++) {
    const j = order[i] as number;
    tmpIds[i] = ids[j] as number;
    tmpLogits[i] = logits[j] as number;
  }
  ids.set(tmpIds.subarray(0, n));
  logits.set(tmpLogits.subarray(0, n));
  c.sorted = true;
}

/**
 * Keeps only the k best candidates, sorted (the order sortCandidates gives, so its first k exactly), in
 * O(n log k): one pass with a heap of the k best so far whose root is the worst of them. A top-k stage
 * with k ≪ vocabulary then costs a scan, not a sort of 32k–262k entries every step.
 */
export function keepTopCandidates(c: Candidates, k: number): void {
  const n = c.size;
  if (c.sorted || k >= n) {
    sortCandidates(c);
    c.size = Math.min(n, Math.max(0, k));
    return;
  }
  if (k <= 0) { c.size = 0; c.sorted = true; return; }
  const { ids, logits } = c;
  const heap = c.order;
  // a ranks after b: a lower logit, or an equal logit and a higher id
  const after = (a: number, b: number): boolean => {
    const la = logits[a] as number, lb = logits[b] as number;
    return la < lb || (la === lb && (ids[a] as number) > (ids[b] as number));
  };
  const siftDown = (size: number): void => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let w = i;
      if (l < size && after(heap[l] as number, heap[w] as number)) w = l;
      if (r < size && after(heap[r] as number, heap[w] as number)) w = r;
      if (w === i) return;
      const t = heap[i] as number; heap[i] = heap[w] as number; heap[w] = t;
      i = w;
    }
  };
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (size < k) {
      let j = size++;
      heap[j] = i;
      while (j > 0) { // sift up: the worst kept candidate rises to the root
        const p = (j - 1) >> 1;
        if (!after(heap[j] as number, heap[p] as number)) break;
        const t = heap[j] as number; heap[j] = heap[p] as number; heap[p] = t;
        j = p;
      }
    } else if (after(heap[0] as number, i)) {
      heap[0] = i;
      siftDown(k);
    }
  }
  sortAndGather(c, heap.subarray(0, k));
  c.size = k;
}

/** probs ← softmax(logits) over the candidates in play. */
export function softmaxCandidates(c: Candidates): void {
  let max = -Infinity;
  for (let i = 0; i < c.size; i++) max = Math.max(max, c.logits[i] as number);
  let sum = 0;
  for (let i = 0; i < c.size; i++) {
    const e = Math.exp((c.logits[i] as number) - max);
    c.probs[i] = e;
    sum += e;
  }
  for (let i = 0; i < c.size; i++) c.probs[i] = (c.probs[i] as number) / sum;
}
