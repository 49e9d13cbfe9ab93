/**
 * The BPE merge loop: repeatedly joins the most frequent adjacent pair of symbols (ties: smaller left id,
 * then smaller right id) until the vocabulary reaches its size or no pair occurs `minFrequency` times.
 * Pair counts are kept incrementally: a merge revisits only the words that hold the pair (found through a
 * per-pair list of word indices) and updates the counts of the pairs around it; a max-heap with lazy
 * invalidation picks the next pair. Cost per merge is proportional to the words it touches, not to the corpus.
 * It does not read texts or write files (words.ts and hf-json.ts do).
 */

import { PeelError } from "../../util/errors.js";
import { createPairHeap } from "./pair-heap.js";
import type { WordTable } from "./words.js";

/** Symbol ids stay below 2^21 so that a pair fits one safe-integer key. */
export const MAX_SYMBOLS = 1 << 21;
const key = (left: number, right: number): number => left * MAX_SYMBOLS + right;

export interface MergeOptions {
  /** Stop when this many symbols exist (alphabet included). */
  readonly targetSymbols: number;
  readonly minFrequency: number;
  /** Texts no merge may make (special tokens, byte-fallback piece names); such pairs are never merged. */
  readonly reserved?: ReadonlySet<string>;
  /** Called now and then with (merges done, merges wanted). */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface LearnedMerges {
  /** Symbol texts: the alphabet, then each new symbol in the order it was made. */
  readonly symbols: string[];
  /** The merges in order, as symbol-id pairs. Two merges may make the same text (it keeps one id). */
  readonly merges: Array<readonly [number, number]>;
}

const YIELD_MS = 30;
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export async function learnMerges(table: WordTable, opts: MergeOptions): Promise<LearnedMerges> {
  const words = table.words;
  const wordCounts = table.counts;
  const counts = new Map<number, number>();
  const where = new Map<number, number[]>();
  words.forEach((w, wi) => {
    const c = wordCounts[wi] ?? 0;
    for (let i = 0; i + 1 < w.length; i++) {
      const k = key(w[i] ?? 0, w[i + 1] ?? 0);
      counts.set(k, (counts.get(k) ?? 0) + c);
      const list = where.get(k);
      if (list === undefined) where.set(k, [wi]);
      else if (list[list.length - 1] !== wi) list.push(wi);
    }
  });
  const heap = createPairHeap(Math.max(1024, counts.size));
  for (const [k, c] of counts) heap.push(c, Math.floor(k / MAX_SYMBOLS), k % MAX_SYMBOLS);

  const symbols = [...table.alphabet];
  const idOf = new Map(symbols.map((s, i) => [s, i]));
  const merges: Array<readonly [number, number]> = [];
  const seen = new Int32Array(words.length).fill(-1);
  const total = Math.max(0, opts.targetSymbols - symbols.length);
  const top: [number, number, number] = [0, 0, 0];
  const banned = new Set<number>();
  const mergedBefore = new Set<number>();
  let stamp = 0;
  let lastYield = performance.now();

  while (symbols.length < opts.targetSymbols && heap.pop(top)) {
    const [count, left, right] = top;
    const k = key(left, right);
    const live = counts.get(k) ?? 0;
    if (live !== count) {
      // Lower now: queue it again at its live count. Higher: a newer entry holds the live count.
      if (live > 0 && live < count) heap.push(live, left, right);
      continue;
    }
    if (count < opts.minFrequency) break;
    const text = (symbols[left] ?? "") + (symbols[right] ?? "");
    if (opts.reserved?.has(text) === true) {
      banned.add(k);
      continue;
    }
    let made = idOf.get(text);
    if (made === undefined) {
      made = symbols.length;
      if (made >= MAX_SYMBOLS) throw new PeelError("INVALID_ARGUMENT", `BPE training: more than ${MAX_SYMBOLS} symbols`);
      symbols.push(text);
      idOf.set(text, made);
    }
    // A pair can come back only through a text made twice; its first rank stands (listed once).
    if (!mergedBefore.has(k)) merges.push([left, right]);
    mergedBefore.add(k);
    applyMerge(k, left, right, made, ++stamp, { words, wordCounts, counts, where, seen, heap, banned });
    const now = performance.now();
    if (now - lastYield > YIELD_MS) {
      opts.onProgress?.(symbols.length - table.alphabet.length, total);
      await tick();
      if (opts.signal?.aborted) throw new PeelError("ABORTED", "BPE training was interrupted");
      lastYield = performance.now();
    }
  }
  opts.onProgress?.(symbols.length - table.alphabet.length, total);
  return { symbols, merges };
}

interface MergeState {
  readonly words: Int32Array[];
  readonly wordCounts: Float64Array;
  readonly counts: Map<number, number>;
  readonly where: Map<number, number[]>;
  readonly seen: Int32Array;
  readonly heap: ReturnType<typeof createPairHeap>;
  readonly banned: ReadonlySet<number>;
}

/** Rewrites every word holding (left, right) and updates the pair counts by difference. */
function applyMerge(k: number, left: number, right: number, made: number, stamp: number, s: MergeState): void {
  const list = s.where.get(k) ?? [];
  s.where.delete(k);
  const delta = new Map<number, number>();
  const add = (pk: number, d: number): void => { delta.set(pk, (delta.get(pk) ?? 0) + d); };
  for (const wi of list) {
    if (s.seen[wi] === stamp) continue;
    s.seen[wi] = stamp;
    const w = s.words[wi];
    if (w === undefined) continue;
    const c = s.wordCounts[wi] ?? 0;
    const next: number[] = [];
    for (let i = 0; i < w.length; i++) {
      if (w[i] === left && w[i + 1] === right && i + 1 < w.length) {
        next.push(made);
        i++;
      } else {
        next.push(w[i] ?? 0);
      }
    }
    if (next.length === w.length) continue; // stale entry: the pair is gone from this word
    for (let i = 0; i + 1 < w.length; i++) add(key(w[i] ?? 0, w[i + 1] ?? 0), -c);
    for (let i = 0; i + 1 < next.length; i++) {
      const a = next[i] ?? 0;
      const b = next[i + 1] ?? 0;
      const pk = key(a, b);
      add(pk, c);
      if (a === made || b === made) {
        const l = s.where.get(pk);
        if (l === undefined) s.where.set(pk, [wi]);
        else if (l[l.length - 1] !== wi) l.push(wi);
      }
    }
    s.words[wi] = Int32Array.from(next);
  }
  for (const [pk, d] of delta) {
    if (d === 0) continue;
    const n = (s.counts.get(pk) ?? 0) + d;
    if (n <= 0) s.counts.delete(pk);
    else s.counts.set(pk, n);
    if (d > 0 && !s.banned.has(pk)) s.heap.push(n, Math.floor(pk / MAX_SYMBOLS), pk % MAX_SYMBOLS);
  }
}
