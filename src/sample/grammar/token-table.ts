/**
 * A vocabulary seen as text, for grammar-constrained sampling, built once per tokenizer and cached: each
 * token's bytes decoded to code points (plus a trailing partial UTF-8 character when a byte-level or byte-
 * fallback piece ends mid-character), and a prefix trie over those code points so a mask over the whole
 * vocabulary can drop every token under a prefix the grammar refuses in one step. Control and unknown tokens
 * (text that decoding hides) are never grammar text; end-of-generation tokens are handled by the stage.
 * Knows nothing of grammars beyond the PartialChar shape.
 */

import { decodeUtf8, type PartialChar } from "./matcher.js";

/** What the table needs from a tokenizer (a `Tokenizer` fits, without sample/ importing tokenizer/). */
export interface TokenSource {
  readonly vocabSize: number;
  /** The bytes a token stands for when decoded (control tokens give their text). */
  tokenBytes(id: number): Uint8Array;
  /** Decoding with `skipSpecial` (the default) renders control and unknown tokens as nothing. */
  decode(ids: ArrayLike<number>, opts?: { readonly skipSpecial?: boolean }): string;
  isEndOfGeneration(id: number): boolean;
}

/** How a token can take part in a grammar's text. */
export const TokenClass = {
  /** Starts a character: valid when no partial character is pending. */
  text: 0,
  /** Starts with continuation bytes: valid only to finish a pending partial character. */
  continuation: 1,
  /** Never grammar text: empty, special, or not UTF-8. */
  never: 2,
} as const;

export interface TokenTrie {
  /** Per node (node 0 is the root, the empty prefix): the code point on the edge into it. */
  readonly char: Int32Array;
  readonly firstChild: Int32Array;
  readonly nextSibling: Int32Array;
  /** Tokens whose code points end at the node: ends[endStart[n], endStart[n] + endCount[n]). */
  readonly endStart: Int32Array;
  readonly endCount: Int32Array;
  readonly ends: Int32Array;
  readonly nodes: number;
}

export interface TokenTable {
  readonly size: number;
  readonly cls: Uint8Array;
  /** Code points of token i: cps[cpStart[i], cpStart[i + 1]). */
  readonly cps: Int32Array;
  readonly cpStart: Int32Array;
  /** The trailing partial character of token i (tailRemain 0: none). */
  readonly tailValue: Int32Array;
  readonly tailRemain: Uint8Array;
  readonly tailMin: Int32Array;
  /** Tokens of class continuation, with their bytes (they are decoded against the pending character each time). */
  readonly continuation: Int32Array;
  readonly continuationBytes: readonly Uint8Array[];
  /** End-of-generation ids the tokenizer names. */
  readonly endOfGeneration: readonly number[];
  readonly trie: TokenTrie;
}

const cache = new WeakMap<TokenSource, TokenTable>();

/** The table for a tokenizer, built on first use (one pass over the vocabulary) and kept while the tokenizer lives. */
export function tokenTableFor(src: TokenSource): TokenTable {
  let t = cache.get(src);
  if (t === undefined) {
    t = buildTokenTable(src);
    cache.set(src, t);
  }
  return t;
}

export function buildTokenTable(src: TokenSource): TokenTable {
  const n = src.vocabSize;
  const cls = new Uint8Array(n), tailValue = new Int32Array(n), tailRemain = new Uint8Array(n), tailMin = new Int32Array(n);
  const cpStart = new Int32Array(n + 1);
  let cps = new Int32Array(n * 4);
  let used = 0;
  const continuation: number[] = [], continuationBytes: Uint8Array[] = [], endOfGeneration: number[] = [];
  const p: PartialChar = { value: 0, remain: 0, min: 0 };
  const emit = (c: number): boolean => {
    if (used === cps.length) { const b = new Int32Array(cps.length * 2); b.set(cps); cps = b; }
    cps[used++] = c;
    return true;
  };
  for (let id = 0; id < n; id++) {
    cpStart[id] = used;
    if (src.isEndOfGeneration(id)) endOfGeneration.push(id);
    const bytes = src.tokenBytes(id);
    const special = bytes.length === 0 || (src.decode([id]) === "" && src.decode([id], { skipSpecial: false }) !== "");
    if (special || src.isEndOfGeneration(id)) { cls[id] = TokenClass.never; continue; }
    if (((bytes[0] as number) & 0xc0) === 0x80) {
      cls[id] = TokenClass.continuation;
      continuation.push(id);
      continuationBytes.push(bytes);
      continue;
    }
    p.value = 0; p.remain = 0;
    if (!decodeUtf8(bytes, p, emit)) { used = cpStart[id] as number; cls[id] = TokenClass.never; continue; }
    cls[id] = TokenClass.text;
    tailValue[id] = p.value;
    tailRemain[id] = p.remain;
    tailMin[id] = p.min;
    if (p.remain === 0) { tailValue[id] = 0; tailMin[id] = 0; }
  }
  cpStart[n] = used;
  const table = { size: n, cls, cps: cps.slice(0, used), cpStart, tailValue, tailRemain, tailMin, endOfGeneration };
  return { ...table, continuation: Int32Array.from(continuation), continuationBytes, trie: buildTrie(table) };
}

/** The prefix trie over text tokens' code points, built from the tokens in sorted order (no per-node maps). */
function buildTrie(t: Pick<TokenTable, "size" | "cls" | "cps" | "cpStart">): TokenTrie {
  const ids: number[] = [];
  for (let i = 0; i < t.size; i++) if (t.cls[i] === TokenClass.text) ids.push(i);
  const { cps, cpStart } = t;
  const cmp = (a: number, b: number): number => {
    const a0 = cpStart[a] as number, a1 = cpStart[a + 1] as number, b0 = cpStart[b] as number, b1 = cpStart[b + 1] as number;
    const m = Math.min(a1 - a0, b1 - b0);
    for (let k = 0; k < m; k++) {
      const d = (cps[a0 + k] as number) - (cps[b0 + k] as number);
      if (d !== 0) return d;
    }
    return (a1 - a0) - (b1 - b0) || a - b;
  };
  ids.sort(cmp);
  const cap = cps.length + 1;
  const char = new Int32Array(cap), firstChild = new Int32Array(cap), nextSibling = new Int32Array(cap), lastChild = new Int32Array(cap);
  const endStart = new Int32Array(cap), endCount = new Int32Array(cap);
  const ends = new Int32Array(ids.length);
  let nodes = 1;
  const path = [0]; // path[d]: the node for the previous token's first d code points
  let prev = -1;
  ids.forEach((id, k) => {
    const s = cpStart[id] as number, len = (cpStart[id + 1] as number) - s;
    let lcp = 0;
    if (prev >= 0) {
      const ps = cpStart[prev] as number, plen = (cpStart[prev + 1] as number) - ps;
      while (lcp < len && lcp < plen && cps[s + lcp] === cps[ps + lcp]) lcp++;
    }
    for (let d = lcp; d < len; d++) {
      const parent = path[d] as number, node = nodes++;
      char[node] = cps[s + d] as number;
      // children arrive in increasing code point order, so each new one goes last
      if (firstChild[parent] === 0) firstChild[parent] = node; else nextSibling[lastChild[parent] as number] = node;
      lastChild[parent] = node;
      path[d + 1] = node;
    }
    const at = path[len] as number;
    if (endCount[at] === 0) endStart[at] = k;
    endCount[at] = (endCount[at] as number) + 1;
    ends[k] = id;
    prev = id;
  });
  return { char, firstChild, nextSibling, endStart, endCount, ends, nodes };
}
