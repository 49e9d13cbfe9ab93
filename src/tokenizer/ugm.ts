/**
 * llama.cpp's Unigram tokenizer ("UGM", GGUF tokenizer model "t5": T5, Flan-T5, mT5), which follows
 * SentencePiece's optimized encoder on UTF-8 bytes. Normalization first: at each input position the longest
 * user-defined piece is kept as it is, else the longest prefix the precompiled charsmap rewrites (NFKC and
 * friends, charsmap.ts) is replaced, else one character passes through; spaces become "▁", a "▁" goes before
 * the first word with the dummy prefix and, when extra whitespace is removed, before every word (spaces
 * themselves dropped) — llama.cpp's order of these steps. Then Viterbi over the bytes: at each character,
 * every piece (normal, user-defined at score 0, unused) starting there extends the best path in double
 * precision; a character no single piece covers becomes the unknown token at (lowest normal score − 10);
 * runs of unknowns fuse into one. Ties keep the earlier candidate.
 * With `sentencePiece`, paths are scored as the SentencePiece library scores them instead (a .model file).
 * It does not split on special tokens or add BOS/EOS (tokenizer.ts does), and has no byte fallback (T5 has none).
 */

import type { Charsmap } from "./charsmap.js";
import { TokenType } from "./types.js";
import type { VocabIndex } from "./vocab-index.js";

export interface UgmOptions {
  readonly charsmap: Charsmap | undefined;
  readonly addSpacePrefix: boolean;
  readonly removeExtraWhitespaces: boolean;
  /**
   * Score paths as the SentencePiece library does rather than as llama.cpp does: path scores kept in float32, a user-defined
   * piece scored (its UTF-8 length × the highest normal score − 0.1), unused pieces never matched.
   */
  readonly sentencePiece?: boolean;
}

export interface UgmEncoder {
  encode(text: string, out: number[]): void;
}

/** A byte trie: child of (node, byte) in a map keyed node·256 + byte; `ids` per node (−1: no piece ends there). */
interface ByteTrie { readonly next: Map<number, number>; readonly ids: number[] }

function createTrie(): ByteTrie { return { next: new Map(), ids: [-1] }; }

function insert(t: ByteTrie, bytes: Uint8Array, id: number): void {
  let node = 0;
  for (const b of bytes) {
    const key = node * 256 + b;
    let child = t.next.get(key);
    if (child === undefined) { child = t.ids.length; t.ids.push(-1); t.next.set(key, child); }
    node = child;
  }
  if (t.ids[node] === -1) t.ids[node] = id;
}

/** Bytes of the UTF-8 sequence a lead byte starts (llama.cpp's unicode_len_utf8: continuation bytes count 1). */
const utf8Len = (b: number): number => (b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4);

const SPACE = new TextEncoder().encode("\u2581");
const enc = new TextEncoder();

export function createUgmEncoder(index: VocabIndex, opts: UgmOptions): UgmEncoder {
  const v = index.vocab;
  const tokens = createTrie();
  const userDefined = createTrie();
  const sp = opts.sentencePiece === true;
  let minScore = Infinity, maxScore = -Infinity;
  for (let id = 0; id < index.size; id++) {
    const type = v.types[id] ?? TokenType.normal;
    const bytes = enc.encode(v.pieces[id] ?? "");
    if (type === TokenType.normal) { minScore = Math.min(minScore, v.scores?.[id] ?? 0); maxScore = Math.max(maxScore, v.scores?.[id] ?? 0); }
    if (type === TokenType.normal || type === TokenType.userDefined || (type === TokenType.unused && !sp)) insert(tokens, bytes, id);
    if (type === TokenType.userDefined) insert(userDefined, bytes, id);
  }
  const unkScore = Math.fround(Math.fround(minScore === Infinity ? 3.4028234663852886e38 : minScore) - 10); // float, as both do
  const unkId = v.unkId ?? 0;
  /** A piece's score on a path: user-defined pieces 0 (llama.cpp) or SentencePiece's length bonus. */
  const pieceScore = (id: number, byteLength: number): number => {
    if ((v.types[id] ?? TokenType.normal) !== TokenType.userDefined) return v.scores?.[id] ?? 0;
    return sp ? byteLength * maxScore - 0.1 : 0;
  };
  // llama.cpp keeps path scores in double; SentencePiece compares a piece's candidate in double and stores
  // the winner as a float, and sums the unknown's in float
  const store = sp ? Math.fround : (x: number) => x;

  /** Bytes of the longest user-defined piece at `offset`, 0 for none. */
  const userPrefix = (input: Uint8Array, offset: number): number => {
    let node = 0, best = 0;
    for (let i = offset; i < input.length; i++) {
      const child = userDefined.next.get(node * 256 + (input[i] as number));
      if (child === undefined) break;
      node = child;
      if ((userDefined.ids[node] ?? -1) >= 0) best = i - offset + 1;
    }
    return best;
  };

  function normalize(input: Uint8Array): Uint8Array {
    const out: number[] = [];
    const merge = opts.removeExtraWhitespaces;
    let prepended = false, inWord = false;
    const put = (bytes: Uint8Array, from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        const c = bytes[i] as number;
        if (c !== 0x20) {
          if (!inWord) {
            inWord = true;
            if ((opts.addSpacePrefix && !prepended) || merge) { out.push(...SPACE); prepended = true; }
          }
          out.push(c);
        } else {
          inWord = false;
          if (!merge) out.push(...SPACE);
        }
      }
    };
    for (let offset = 0; offset < input.length;) {
      const user = userPrefix(input, offset);
      if (user > 0) { put(input, offset, offset + user); offset += user; continue; }
      const mapped = opts.charsmap?.normalizePrefix(input, offset);
      if (mapped !== undefined) { put(mapped.out, 0, mapped.out.length); offset += mapped.consumed; continue; }
      const n = Math.min(utf8Len(input[offset] as number), input.length - offset);
      put(input, offset, offset + n);
      offset += n;
    }
    return Uint8Array.from(out);
  }

  return {
    encode(text, out) {
      const s = normalize(enc.encode(text));
      const n = s.length;
      if (n === 0) return;
      const bestId = new Int32Array(n + 1).fill(unkId);
      const from = new Int32Array(n + 1);
      const score = new Float64Array(n + 1).fill(sp ? -Infinity : -Number.MAX_VALUE);
      score[0] = 0;
      for (let at = 0; at < n;) {
        const cp = Math.min(utf8Len(s[at] as number), n - at);
        const here = score[at] as number;
        let whole = false;
        let node = 0;
        for (let end = at; end < n; end++) {
          const child = tokens.next.get(node * 256 + (s[end] as number));
          if (child === undefined) break;
          node = child;
          const id = tokens.ids[node] ?? -1;
          if (id < 0) continue;
          if (end + 1 - at === cp) whole = true;
          const cand = here + pieceScore(id, end + 1 - at);
          if (cand > (score[end + 1] as number)) { score[end + 1] = store(cand); bestId[end + 1] = id; from[end + 1] = at; }
        }
        if (!whole) {
          const cand = store(here + unkScore);
          if (cand > (score[at + cp] as number)) { score[at + cp] = cand; bestId[at + cp] = unkId; from[at + cp] = at; }
        }
        at += cp;
      }
      const ids: number[] = [];
      let prevUnk = false;
      for (let at = n; ; at = from[at] as number) {
        const id = bestId[at] as number;
        const unk = id === unkId;
        if (!(prevUnk && unk)) ids.push(id);
        if (from[at] === 0) break;
        prevUnk = unk;
      }
      for (let i = ids.length - 1; i >= 0; i--) out.push(ids[i] as number);
    },
  };
}
