/**
 * Byte-level BPE by merge rank: the one merge loop behind every rank-ordered BPE Peel reads — GGUF "gpt2"
 * vocabularies and Hugging Face ByteLevel BPE (a merges list: pair -> rank) and tiktoken rank files (every
 * split of a token into two tokens is a pair ranked by the token). A word's UTF-8 bytes start as one symbol
 * each; the adjacent pair with the lowest rank merges first, leftmost on ties, as llama.cpp, HF tokenizers
 * and tiktoken all do. Pairs live in an open-addressing integer table (no string keys per merge); short
 * words merge by a linear scan, long ones through a heap (O(n log n)); whole words are cached.
 * Pre-tokenization rules are pretokenize.ts' (or the caller's); special tokens and decoding are not here.
 */

import { PeelError } from "../util/errors.js";
import { createNumberHeap } from "./heap.js";
import type { PreTokenizer } from "./pretokenize.js";
import { preTokenize } from "./pretokenize.js";
import { byteToUnicode } from "./utf8.js";
import type { VocabIndex } from "./vocab-index.js";

/**
 * A pair table: (left id, right id) -> rank, and rank -> merged id. Open addressing, 3 ints a slot (left id
 * or -1 for empty, right id, rank); it grows as pairs are added. With `resolve`, a pair not yet in the table
 * is asked for once and its answer kept (NO_RANK too): tiktoken's pairs are found this way, on demand.
 */
import type { MergeStep, WordMergeTrace } from "./types.js";

export interface BpeMerges {
  /** rank -> id of the merged piece (-1 for a rank no pair has) */
  readonly mergedId: Int32Array;
  slots: Int32Array;
  mask: number;
  count: number;
  readonly resolve: ((left: number, right: number) => number) | undefined;
}

/** The rank `pairRank` gives a pair that does not merge (2^31 - 1). */
export const NO_RANK = 0x7fffffff;

const hashPair = (l: number, r: number): number => {
  const h = Math.imul(l ^ Math.imul(r, 0x9e3779b1), 0x85ebca6b);
  return h ^ (h >>> 15);
};

/** An empty table for ranks 0 .. rankCount-1, sized for about `expectedPairs`. */
export function createMerges(rankCount: number, expectedPairs: number, resolve?: (left: number, right: number) => number): BpeMerges {
  let cap = 64;
  while (cap < expectedPairs * 2) cap *= 2;
  return { mergedId: new Int32Array(rankCount).fill(-1), slots: new Int32Array(cap * 3).fill(-1), mask: cap - 1, count: 0, resolve };
}

function insertSlot(m: BpeMerges, left: number, right: number, rank: number): void {
  const { slots, mask } = m;
  let s = hashPair(left, right) & mask;
  while (slots[s * 3] !== -1) s = (s + 1) & mask;
  slots[s * 3] = left;
  slots[s * 3 + 1] = right;
  slots[s * 3 + 2] = rank;
  if (++m.count * 2 > mask + 1) grow(m);
}

function grow(m: BpeMerges): void {
  const old = m.slots;
  m.slots = new Int32Array(old.length * 2).fill(-1);
  m.mask = m.mask * 2 + 1;
  m.count = 0;
  for (let at = 0; at < old.length; at += 3) {
    const l = old[at] as number;
    if (l !== -1) insertSlot(m, l, old[at + 1] as number, old[at + 2] as number);
  }
}

/** Adds (left, right) -> rank merging into `merged`; false (and no change) when the pair is already there. */
export function addMerge(m: BpeMerges, left: number, right: number, rank: number, merged: number): boolean {
  if (left < 0 || right < 0 || rank < 0 || rank >= m.mergedId.length) throw new PeelError("TOKENIZER", `BPE: merge (${left}, ${right}) -> rank ${rank} is out of range`);
  if (lookup(m, left, right) !== undefined) return false;
  insertSlot(m, left, right, rank);
  if ((m.mergedId[rank] as number) < 0) m.mergedId[rank] = merged;
  return true;
}

function lookup(m: BpeMerges, left: number, right: number): number | undefined {
  const { slots, mask } = m;
  let s = hashPair(left, right) & mask;
  for (;;) {
    const at = s * 3;
    const l = slots[at] as number;
    if (l === left && slots[at + 1] === right) return slots[at + 2] as number;
    if (l === -1) return undefined;
    s = (s + 1) & mask;
  }
}

/** The rank of merging `left` with `right`, or NO_RANK when they do not merge. */
export function pairRank(m: BpeMerges, left: number, right: number): number {
  const known = lookup(m, left, right);
  if (known !== undefined) return known;
  if (m.resolve === undefined) return NO_RANK;
  const rank = m.resolve(left, right);
  insertSlot(m, left, right, rank);
  return rank;
}

/** Parses "left right" merge strings; both halves and their concatenation must be pieces. */
export function parseMerges(index: VocabIndex, merges: readonly string[]): BpeMerges {
  const table = createMerges(merges.length, merges.length);
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
    addMerge(table, l, r, rank, merged); // the first of duplicate merges wins
  });
  return table;
}

/** Merges `sym[0..n)` in place; returns the new length. Symbols < 0 never merge. */
export type BpeMerger = (sym: Int32Array, n: number) => number;

const SHORT_WORD = 48;
const POS_SPAN = 2 ** 32;

/** A merger with its own scratch space (not re-entrant). */
export function createBpeMerger(m: BpeMerges): BpeMerger {
  const mergedId = m.mergedId;
  let rk = new Int32Array(256);
  let prev = new Int32Array(0);
  let next = new Int32Array(0);
  const heap = createNumberHeap(256);
  const rankOf = (l: number, r: number): number => (l < 0 || r < 0 ? NO_RANK : pairRank(m, l, r));

  const short = (sym: Int32Array, n: number): number => {
    for (let i = 0; i + 1 < n; i++) rk[i] = rankOf(sym[i] as number, sym[i + 1] as number);
    let len = n;
    for (;;) {
      let best = NO_RANK;
      let at = -1;
      for (let i = 0; i + 1 < len; i++) {
        const r = rk[i] as number;
        if (r < best) { best = r; at = i; }
      }
      if (at < 0) return len;
      sym[at] = mergedId[best] as number;
      for (let i = at + 1; i + 1 < len; i++) sym[i] = sym[i + 1] as number;
      for (let i = at + 1; i + 2 < len; i++) rk[i] = rk[i + 1] as number;
      len--;
      if (at + 1 < len) rk[at] = rankOf(sym[at] as number, sym[at + 1] as number);
      if (at > 0) rk[at - 1] = rankOf(sym[at - 1] as number, sym[at] as number);
    }
  };

  const long = (sym: Int32Array, n: number): number => {
    if (prev.length < n) { prev = new Int32Array(n); next = new Int32Array(n); }
    heap.clear();
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
      const r = i + 1 < n ? rankOf(sym[i] as number, sym[i + 1] as number) : NO_RANK;
      rk[i] = r;
      if (r !== NO_RANK) heap.push(r * POS_SPAN + i);
    }
    for (let key = heap.pop(); key >= 0; key = heap.pop()) {
      const rank = Math.floor(key / POS_SPAN);
      const i = key - rank * POS_SPAN;
      if (rk[i] !== rank) continue; // stale: the pair at i changed (its span only grows, so no rank recurs)
      const j = next[i] as number;
      sym[i] = mergedId[rank] as number;
      rk[j] = NO_RANK;
      const after = next[j] as number;
      next[i] = after;
      if (after >= 0) prev[after] = i;
      const r = after >= 0 ? rankOf(sym[i] as number, sym[after] as number) : NO_RANK;
      rk[i] = r;
      if (r !== NO_RANK) heap.push(r * POS_SPAN + i);
      const p = prev[i] as number;
      if (p >= 0) {
        const rp = rankOf(sym[p] as number, sym[i] as number);
        rk[p] = rp;
        if (rp !== NO_RANK) heap.push(rp * POS_SPAN + p);
      }
    }
    let len = 0;
    for (let i = 0; i !== -1; i = next[i] as number) sym[len++] = sym[i] as number;
    return len;
  };

  return (sym, n) => {
    if (rk.length < n) rk = new Int32Array(Math.max(n, rk.length * 2));
    return n <= SHORT_WORD ? short(sym, n) : long(sym, n);
  };
}

/** Appends `word`'s UTF-8 bytes to `buf` from 0 (lone surrogates as U+FFFD); returns the byte count. */
export function utf8Into(word: string, buf: Uint8Array): number {
  let o = 0;
  for (let i = 0; i < word.length; i++) {
    let c = word.charCodeAt(i);
    if (c < 0x80) { buf[o++] = c; continue; }
    if (c < 0x800) { buf[o++] = 0xc0 | (c >> 6); buf[o++] = 0x80 | (c & 63); continue; }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < word.length ? word.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        buf[o++] = 0xf0 | (c >> 18); buf[o++] = 0x80 | ((c >> 12) & 63); buf[o++] = 0x80 | ((c >> 6) & 63); buf[o++] = 0x80 | (c & 63);
        continue;
      }
      c = 0xfffd;
    }
    buf[o++] = 0xe0 | (c >> 12); buf[o++] = 0x80 | ((c >> 6) & 63); buf[o++] = 0x80 | (c & 63);
  }
  return o;
}

export interface WordEncoderSpec {
  readonly merges: BpeMerges;
  /** The symbol id of each byte; -1 where the vocabulary has none (such bytes are dropped, as llama.cpp does). */
  readonly byteIds: Int32Array;
  /** When set, a word that is itself a piece skips merging: each byte's key text, and key -> id. */
  readonly whole?: { readonly byteKeys: readonly string[]; readonly ids: ReadonlyMap<string, number> } | undefined;
}

export interface WordEncoder {
  /** Appends the ids of one pre-tokenized word. */
  encodeWord(word: string, out: number[]): void;
  /** Its ids as a fresh array (not cached). */
  wordIds(word: string): Int32Array;
  /** The same word merge by merge, for the inspector; slow on purpose (a plain loop, no cache). */
  traceWord(word: string): WordMergeTrace;
}

/**
 * The merge loop written plainly: repeatedly merge the adjacent pair of lowest rank, the leftmost on a tie,
 * which is the order createBpeMerger's fast paths reproduce. Reports each merge.
 */
export function traceMerges(m: BpeMerges, initial: readonly number[]): MergeStep[] {
  const sym = [...initial];
  const steps: MergeStep[] = [];
  for (;;) {
    let best = NO_RANK, at = -1;
    for (let i = 0; i + 1 < sym.length; i++) {
      const l = sym[i] as number, r = sym[i + 1] as number;
      const rank = l < 0 || r < 0 ? NO_RANK : pairRank(m, l, r);
      if (rank < best) { best = rank; at = i; }
    }
    if (at < 0) return steps;
    const merged = m.mergedId[best] as number;
    steps.push({ at, rank: best, left: sym[at] as number, right: sym[at + 1] as number, merged });
    sym.splice(at, 2, merged);
  }
}

const CACHE_LIMIT = 1 << 17;
const CACHE_WORD_MAX = 64;

/** Encodes words through a cache; results are a single id or an Int32Array. */
export function createWordEncoder(spec: WordEncoderSpec): WordEncoder {
  const merge = createBpeMerger(spec.merges);
  const { byteIds, whole } = spec;
  const cache = new Map<string, number | Int32Array>();
  let bytes = new Uint8Array(256);
  let sym = new Int32Array(256);
  const compute = (word: string): Int32Array => {
    if (bytes.length < word.length * 3) bytes = new Uint8Array(word.length * 3);
    const n = utf8Into(word, bytes);
    if (whole) {
      let key = "";
      for (let i = 0; i < n; i++) key += whole.byteKeys[bytes[i] as number] as string;
      const id = whole.ids.get(key);
      if (id !== undefined) return Int32Array.of(id);
    }
    if (sym.length < n) sym = new Int32Array(n);
    for (let i = 0; i < n; i++) sym[i] = byteIds[bytes[i] as number] as number;
    const len = merge(sym, n);
    let kept = 0;
    for (let i = 0; i < len; i++) if ((sym[i] as number) >= 0) kept++;
    const ids = new Int32Array(kept);
    for (let i = 0, k = 0; i < len; i++) if ((sym[i] as number) >= 0) ids[k++] = sym[i] as number;
    return ids;
  };
  return {
    wordIds: (word) => compute(word),
    traceWord(word) {
      const ids = Array.from(compute(word));
      const b = new Uint8Array(word.length * 3);
      const n = utf8Into(word, b);
      const initial = Array.from(b.subarray(0, n), (x) => byteIds[x] as number);
      let key = "";
      if (whole) for (let i = 0; i < n; i++) key += whole.byteKeys[b[i] as number] as string;
      if (whole?.ids.has(key)) return { word, initial, merges: [], ids, whole: true };
      return { word, initial, merges: traceMerges(spec.merges, initial), ids, whole: false };
    },
    encodeWord(word, out) {
      const hit = cache.get(word);
      if (hit !== undefined) {
        if (typeof hit === "number") out.push(hit);
        else for (let i = 0; i < hit.length; i++) out.push(hit[i] as number);
        return;
      }
      const ids = compute(word);
      if (word.length <= CACHE_WORD_MAX) {
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(word, ids.length === 1 ? (ids[0] as number) : ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i] as number);
    },
  };
}

export interface BpeEncoder {
  encode(text: string, out: number[]): void;
  /** Each pre-tokenized word of `text`, merge by merge. */
  trace(text: string): WordMergeTrace[];
}

/**
 * Words of raw text (not yet in GPT-2's byte alphabet) for a vocabulary whose pieces are in that alphabet
 * (GGUF "gpt2", HF ByteLevel BPE): each byte's symbol is its alphabet character's id; the mapping to the
 * alphabet happens only on cache misses. `ignoreMerges`: a word that is a piece is that piece.
 */
export function createByteLevelWordEncoder(idOf: ReadonlyMap<string, number>, merges: BpeMerges, ignoreMerges: boolean): WordEncoder {
  const alphabet = byteToUnicode();
  const byteIds = new Int32Array(256);
  for (let b = 0; b < 256; b++) byteIds[b] = idOf.get(alphabet[b] as string) ?? -1;
  return createWordEncoder({ merges, byteIds, whole: ignoreMerges ? { byteKeys: alphabet, ids: idOf } : undefined });
}

/** The GGUF "gpt2" encoder: pre-tokenize, then each word's bytes through GPT-2's alphabet to symbol ids. */
export function createBpeEncoder(index: VocabIndex, merges: BpeMerges, pre: PreTokenizer): BpeEncoder {
  const words = createByteLevelWordEncoder(index.idOf, merges, pre.ignoreMerges);
  const single = pre.regexes.length === 1 ? pre.regexes[0] : undefined;
  return {
    encode(text: string, out: number[]): void {
      if (single) forEachPiece(single, text, (w) => words.encodeWord(w, out));
      else for (const w of preTokenize(pre, text)) words.encodeWord(w, out);
    },
    trace(text: string): WordMergeTrace[] {
      const out: WordMergeTrace[] = [];
      if (single) forEachPiece(single, text, (w) => out.push(words.traceWord(w)));
      else for (const w of preTokenize(pre, text)) out.push(words.traceWord(w));
      return out;
    },
  };
}

/** pretokenize.ts' split for one regex, without building the array: matches and the text between them. */
function forEachPiece(re: RegExp, text: string, fn: (piece: string) => void): void {
  re.lastIndex = 0;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const s = m.index;
    const e = s + m[0].length;
    if (e === s) {
      const c = text.charCodeAt(s);
      re.lastIndex = s + (c >= 0xd800 && c <= 0xdbff ? 2 : 1);
      continue;
    }
    if (s > last) fn(text.slice(last, s));
    fn(m[0]);
    last = e;
  }
  if (last < text.length) fn(text.slice(last));
}
