/**
 * Added tokens of tokenizer.json (`added_tokens`): parsing, and finding them in text before
 * pre-tokenization as HF does — leftmost-longest, non-overlapping matches over a trie, with the
 * single_word, lstrip and rstrip rules. Tokens with `normalized: false` are matched in the raw input,
 * those with `normalized: true` in the normalized text (their content normalized the same way); special
 * tokens take part only when the caller asks to parse special tokens. No normalization or encoding here.
 */

import { PeelError } from "../../util/errors.js";
import { arr, bool, int, obj, opt, str } from "./json.js";

export interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
  readonly singleWord: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly normalized: boolean;
}

export function parseAddedTokens(v: unknown): AddedToken[] {
  if (v === undefined || v === null) return [];
  const byId = new Map<number, string>();
  const byContent = new Map<string, number>();
  return arr(v, "added_tokens").map((t, i) => {
    const path = `added_tokens[${i}]`;
    const o = obj(t, path);
    const id = int(o["id"], `${path}.id`);
    const content = str(o["content"], `${path}.content`);
    if (content.length === 0) throw new PeelError("TOKENIZER", `tokenizer.json: ${path} has empty content; an added token needs text`);
    const sameId = byId.get(id);
    if (sameId !== undefined && sameId !== content) {
      throw new PeelError("TOKENIZER", `tokenizer.json: added_tokens give id ${id} to both ${JSON.stringify(sameId)} and ${JSON.stringify(content)}; every token needs its own id`);
    }
    const sameContent = byContent.get(content);
    if (sameContent !== undefined && sameContent !== id) {
      throw new PeelError("TOKENIZER", `tokenizer.json: added_tokens list ${JSON.stringify(content)} twice, with ids ${sameContent} and ${id}; duplicate tokens are ambiguous`);
    }
    byId.set(id, content);
    byContent.set(content, id);
    const special = opt(o["special"], false, bool, `${path}.special`);
    return {
      id, content, special,
      singleWord: opt(o["single_word"], false, bool, `${path}.single_word`),
      lstrip: opt(o["lstrip"], false, bool, `${path}.lstrip`),
      rstrip: opt(o["rstrip"], false, bool, `${path}.rstrip`),
      normalized: opt(o["normalized"], !special, bool, `${path}.normalized`),
    };
  });
}

/**
 * The ids the Rust library really gives added tokens when it loads a file: the id of the same text in the
 * model's vocabulary, else the next free id after the model's vocabulary (its entry count), in file
 * order. The ids written in the file are only compared by Rust (it warns on a mismatch); real files agree.
 */
export function resolveAddedIds(tokens: readonly AddedToken[], modelIdOf: ReadonlyMap<string, number>): AddedToken[] {
  let next = modelIdOf.size;
  return tokens.map((t) => ({ ...t, id: modelIdOf.get(t.content) ?? next++ }));
}

/** A trie over UTF-16 units: edge key node * 65536 + unit; token index per node (-1 none). */
export interface TokenMatcher {
  readonly tokens: readonly AddedToken[];
  readonly edges: Map<number, number>;
  readonly terminal: Int32Array;
  readonly firstUnits: Set<number>;
  /** 1 at each UTF-16 unit some pattern starts with (the scan's quick test). */
  readonly firstMap: Uint8Array;
}

/** Builds a matcher over `tokens`, matched by `patternOf(token)` (its content, or normalized content). */
export function createMatcher(tokens: readonly AddedToken[], patternOf: (t: AddedToken) => string): TokenMatcher | undefined {
  if (tokens.length === 0) return undefined;
  const edges = new Map<number, number>();
  const term: number[] = [-1];
  const firstUnits = new Set<number>();
  tokens.forEach((t, ti) => {
    const p = patternOf(t);
    if (p.length === 0) return;
    firstUnits.add(p.charCodeAt(0));
    let node = 0;
    for (let i = 0; i < p.length; i++) {
      const key = node * 65536 + p.charCodeAt(i);
      let next = edges.get(key);
      if (next === undefined) { next = term.length; term.push(-1); edges.set(key, next); }
      node = next;
    }
    if (term[node] === -1) term[node] = ti;
  });
  const firstMap = new Uint8Array(65536);
  for (const u of firstUnits) firstMap[u] = 1;
  return { tokens, edges, terminal: Int32Array.from(term), firstUnits, firstMap };
}

/** A piece of text: [start, end) units, with the added token found there (or undefined for plain text). */
export type Piece = readonly [start: number, end: number, token: AddedToken | undefined];

const WHITE = /^\p{White_Space}$/u;
// single_word uses Rust regex's \w: Alphabetic, marks, decimal digits, connector punctuation, join controls
const WORD = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\u200C\u200D]$/u;

function lastChar(s: string, end: number): string {
  const c = s.charCodeAt(end - 1);
  return c >= 0xdc00 && c <= 0xdfff && end >= 2 ? s.slice(end - 2, end) : s.slice(end - 1, end);
}
function firstChar(s: string, at: number): string {
  return String.fromCodePoint(s.codePointAt(at) ?? 0);
}

/** Splits `text` at added-token matches (HF's find_matches). */
export function findAddedTokens(m: TokenMatcher | undefined, text: string, parseSpecial: boolean): Piece[] {
  if (!m || text.length === 0) return [[0, text.length, undefined]];
  const out: Piece[] = [];
  let startOffset = 0;
  const first = m.firstMap;
  let i = 0;
  while (i < text.length) {
    if (first[text.charCodeAt(i)] === 0) { i++; continue; }
    let node = 0;
    let best = -1;
    let bestEnd = i;
    for (let k = i; k < text.length; k++) {
      const next = m.edges.get(node * 65536 + text.charCodeAt(k));
      if (next === undefined) break;
      node = next;
      const ti = m.terminal[node] as number;
      if (ti >= 0) { best = ti; bestEnd = k + 1; }
    }
    if (best < 0) { i++; continue; }
    const tok = m.tokens[best] as AddedToken;
    let start = i;
    let stop = bestEnd;
    i = bestEnd;
    // Not parsing special tokens is HF's encode_special_tokens: the match is found, then skipped.
    if (tok.special && !parseSpecial) continue;
    if (tok.singleWord) {
      const startOk = start === 0 || !WORD.test(lastChar(text, start));
      const stopOk = stop === text.length || !WORD.test(firstChar(text, stop));
      if (!startOk || !stopOk) continue;
    }
    if (tok.lstrip) {
      let s = start;
      while (s > 0 && WHITE.test(lastChar(text, s))) s -= lastChar(text, s).length;
      start = Math.max(s, startOffset);
    }
    if (tok.rstrip) {
      while (stop < text.length && WHITE.test(firstChar(text, stop))) stop += firstChar(text, stop).length;
    }
    if (startOffset < start) out.push([startOffset, start, undefined]);
    out.push([start, stop, tok]);
    startOffset = stop;
    i = Math.max(i, stop);
  }
  if (startOffset < text.length) out.push([startOffset, text.length, undefined]);
  return out;
}
