/**
 * The llama2.c tokenizer (tokenizer.bin), encoding and decoding the way run.c does: a " " dummy-prefix
 * token before non-empty text, one token per UTF-8 character (or bytes as ids 3..258 when the character
 * is no piece), then repeatedly merge the adjacent pair whose concatenated piece has the highest score
 * (leftmost on ties). BOS is 1, EOS is 2. Decoding drops a leading space after BOS and turns "<0xXX>"
 * pieces into bytes. Reading tokenizer.bin is formats/llama2c's job; this takes its parsed contents.
 */

import { PeelError } from "../util/errors.js";
import { createHeap } from "./heap.js";
import { withDerivedMethods } from "./offsets.js";
import type { DecodeOptions, DecodeStream, EncodeOptions, Tokenizer } from "./types.js";
import { concatBytes, createUtf8StreamDecoder, toWellFormed, utf8Decode, utf8Encode } from "./utf8.js";

/** The parts of formats/llama2c/tokenizer-bin.ts's `Llama2cVocab` this needs (pieceBytes optional). */
export interface Llama2cTokenizerData {
  readonly pieces: readonly string[];
  readonly pieceBytes?: readonly Uint8Array[];
  readonly scores: Float32Array;
}

const BOS = 1;
const EOS = 2;
const BYTE_OFFSET = 3; // ids 3..258 are the raw bytes 0..255

interface Pair { readonly left: number; readonly right: number; readonly score: number; readonly leftId: number; readonly rightId: number }
const pairBefore = (a: Pair, b: Pair): boolean => a.score > b.score || (a.score === b.score && a.left < b.left);

export function createLlama2cTokenizer(vocab: Llama2cTokenizerData): Tokenizer {
  const n = vocab.pieces.length;
  if (vocab.scores.length !== n) throw new PeelError("TOKENIZER", `llama2.c tokenizer: ${n} pieces but ${vocab.scores.length} scores; they must match`);
  if (n < BYTE_OFFSET + 256) throw new PeelError("TOKENIZER", `llama2.c tokenizer: ${n} pieces is too few; ids 3..258 must be the byte tokens`);
  const idOf = new Map<string, number>();
  vocab.pieces.forEach((p, id) => { if (!idOf.has(p)) idOf.set(p, id); });
  const bytesOf = (id: number): Uint8Array => vocab.pieceBytes?.[id] ?? utf8Encode(vocab.pieces[id] ?? "");
  const rendered = vocab.pieces.map((p, id) => {
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p);
    return m ? Uint8Array.of(parseInt(m[1] as string, 16)) : bytesOf(id);
  });
  const check = (id: number): void => {
    if (!Number.isInteger(id) || id < 0 || id >= n) throw new PeelError("INVALID_ARGUMENT", `token id ${id} is outside the vocabulary (0..${n - 1})`);
  };
  const isSpecial = (id: number): boolean => id === 0 || id === BOS || id === EOS;
  const encodeText = (text: string): number[] => {
    const ids: number[] = [];
    if (text.length === 0) return ids;
    const prefix = idOf.get(" ");
    if (prefix !== undefined) ids.push(prefix);
    for (const ch of text) {
      const id = idOf.get(ch);
      if (id !== undefined) ids.push(id);
      else for (const b of utf8Encode(ch)) ids.push(b + BYTE_OFFSET);
    }
    return mergeByScore(ids, vocab, idOf);
  };
  return withDerivedMethods({
    kind: "llama2c",
    vocabSize: n,
    bosId: BOS,
    eosId: EOS,
    encode(text: string, opts: EncodeOptions = {}): number[] {
      const ids = encodeText(toWellFormed(text));
      return (opts.addSpecial ?? true) ? [BOS, ...ids] : ids;
    },
    decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as number;
        check(id);
        if (isSpecial(id) && opts.skipSpecial !== false) continue;
        let b = rendered[id] as Uint8Array;
        if (i > 0 && ids[i - 1] === BOS && b[0] === 0x20) b = b.subarray(1);
        parts.push(b);
      }
      return utf8Decode(concatBytes(parts));
    },
    tokenBytes(id: number): Uint8Array { check(id); return (rendered[id] as Uint8Array).slice(); },
    piece(id: number): string { check(id); return vocab.pieces[id] as string; },
    isEndOfGeneration: (id: number): boolean => id === EOS,
    createDecodeStream(opts = {}): DecodeStream {
      const decoder = createUtf8StreamDecoder();
      let prev = -1;
      return {
        push(id: number): string {
          check(id);
          const after = prev;
          prev = id;
          if (isSpecial(id) && opts.skipSpecial !== false) return "";
          let b = rendered[id] as Uint8Array;
          if (after === BOS && b[0] === 0x20) b = b.subarray(1);
          return decoder.decode(b, { stream: true });
        },
        flush: (): string => decoder.decode(),
      };
    },
  });
}

/** run.c's merge loop, with a heap instead of its quadratic rescans (same result: best score, leftmost). */
function mergeByScore(ids: number[], vocab: Llama2cTokenizerData, idOf: ReadonlyMap<string, number>): number[] {
  const n = ids.length;
  const cur = Int32Array.from(ids);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
  const heap = createHeap<Pair>(pairBefore);
  const tryAdd = (left: number, right: number): void => {
    if (left < 0 || right < 0) return;
    const leftId = cur[left] as number;
    const rightId = cur[right] as number;
    const id = idOf.get((vocab.pieces[leftId] ?? "") + (vocab.pieces[rightId] ?? ""));
    if (id === undefined) return;
    const score = vocab.scores[id] as number;
    if (score > -1e10) heap.push({ left, right, score, leftId, rightId });
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  for (let p = heap.pop(); p !== undefined; p = heap.pop()) {
    if (cur[p.left] !== p.leftId || cur[p.right] !== p.rightId || next[p.left] !== p.right) continue;
    cur[p.left] = idOf.get((vocab.pieces[p.leftId] ?? "") + (vocab.pieces[p.rightId] ?? "")) as number;
    cur[p.right] = -1;
    const after = next[p.right] as number;
    next[p.left] = after;
    if (after >= 0) prev[after] = p.left;
    tryAdd(prev[p.left] as number, p.left);
    tryAdd(p.left, after);
  }
  const out: number[] = [];
  for (let i = 0; i !== -1; i = next[i] as number) out.push(cur[i] as number);
  return out;
}
