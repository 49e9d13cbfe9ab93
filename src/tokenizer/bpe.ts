/**
 * Byte-level BPE by merge rank (GGUF tokenizer.ggml.model = "gpt2"), as llama.cpp's BPE tokenizer does
 * it: each pre-tokenized word is turned into bytes, the bytes into GPT-2's printable alphabet, and the
 * adjacent pair with the lowest merge rank is merged first (leftmost on ties). Words are cached.
 * Pre-tokenization is in pretokenize.ts; special tokens and decoding are in tokenizer.ts.
 */

import { PeelError } from "../util/errors.js";
import { createHeap } from "./heap.js";
import type { PreTokenizer } from "./pretokenize.js";
import { preTokenize } from "./pretokenize.js";
import { byteToUnicode, utf8Encode } from "./utf8.js";
import type { VocabIndex } from "./vocab-index.js";

export interface BpeMerges {
  /** (leftId * vocabSize + rightId) -> rank */
  readonly rankOf: ReadonlyMap<number, number>;
  /** rank -> id of the merged piece */
  readonly mergedId: Int32Array;
}

/** Parses "left right" merge strings; both halves and their concatenation must be pieces. */
export function parseMerges(index: VocabIndex, merges: readonly string[]): BpeMerges {
  const rankOf = new Map<number, number>();
  const mergedId = new Int32Array(merges.length).fill(-1);
  merges.forEach((m, rank) => {
    const sp = m.indexOf(" ", 1);
    if (sp < 0) throw new PeelError("TOKENIZER", `BPE merges: entry ${rank} ${JSON.stringify(m)} has no space between its two halves; expected "left right"`);
    const left = m.slice(0, sp);
    const right = m.slice(sp + 1);
    const l = index.idOf.get(left);
    const r = index.idOf.get(right);
    const merged = index.idOf.get(left + right);
    if (l === undefined || r === undefined || merged === undefined) {
      const missing = l === undefined ? left : r === undefined ? right : left + right;
      throw new PeelError("TOKENIZER", `BPE merges: entry ${rank} ${JSON.stringify(m)} refers to ${JSON.stringify(missing)}, which is not in the vocabulary; the merges do not belong to these tokens`);
    }
    const key = l * index.size + r;
    if (!rankOf.has(key)) rankOf.set(key, rank); // the first of duplicate merges wins
    mergedId[rank] = merged;
  });
  return { rankOf, mergedId };
}

interface Bigram {
  readonly left: number;
  readonly right: number;
  readonly rank: number;
  readonly leftId: number;
  readonly rightId: number;
}

const bigramBefore = (a: Bigram, b: Bigram): boolean => a.rank < b.rank || (a.rank === b.rank && a.left < b.left);

const CACHE_LIMIT = 65536;

export interface BpeEncoder {
  encode(text: string, out: number[]): void;
}

export function createBpeEncoder(index: VocabIndex, merges: BpeMerges, pre: PreTokenizer): BpeEncoder {
  const cache = new Map<string, readonly number[]>();
  const alphabet = byteToUnicode();
  const encodeWord = (word: string): readonly number[] => {
    let mapped = "";
    for (const b of utf8Encode(word)) mapped += alphabet[b];
    if (pre.ignoreMerges) {
      const whole = index.idOf.get(mapped);
      if (whole !== undefined) return [whole];
    }
    return mergeWord(index, merges, mapped);
  };
  return {
    encode(text: string, out: number[]): void {
      for (const word of preTokenize(pre, text)) {
        let ids = cache.get(word);
        if (!ids) {
          ids = encodeWord(word);
          if (cache.size >= CACHE_LIMIT) cache.clear();
          cache.set(word, ids);
        }
        for (const id of ids) out.push(id);
      }
    },
  };
}

/** Merges one mapped word (one UTF-16 unit per byte). */
function mergeWord(index: VocabIndex, merges: BpeMerges, mapped: string): number[] {
  const n = mapped.length;
  const ids = new Int32Array(n);
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = index.idOf.get(mapped[i] as string) ?? -1;
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  const queue = createHeap<Bigram>(bigramBefore);
  const tryAdd = (left: number, right: number): void => {
    if (left < 0 || right < 0) return;
    const leftId = ids[left] as number;
    const rightId = ids[right] as number;
    if (leftId < 0 || rightId < 0) return;
    const rank = merges.rankOf.get(leftId * index.size + rightId);
    if (rank !== undefined) queue.push({ left, right, rank, leftId, rightId });
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  const gone = -2; // id of a symbol merged into its left neighbour
  for (let b = queue.pop(); b !== undefined; b = queue.pop()) {
    if (ids[b.left] !== b.leftId || ids[b.right] !== b.rightId) continue; // stale
    ids[b.left] = merges.mergedId[b.rank] as number;
    ids[b.right] = gone;
    const after = next[b.right] as number;
    next[b.left] = after;
    if (after >= 0) prev[after] = b.left;
    tryAdd(prev[b.left] as number, b.left);
    tryAdd(b.left, after);
  }
  const out: number[] = [];
  // A symbol that is no piece is a single byte character missing from the alphabet: llama.cpp drops it.
  for (let i = 0; i !== -1; i = next[i] as number) if ((ids[i] as number) >= 0) out.push(ids[i] as number);
  return out;
}
