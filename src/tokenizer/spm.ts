/**
 * SentencePiece-style BPE by piece scores (GGUF tokenizer.ggml.model = "llama"), as llama.cpp's SPM
 * tokenizer does it: the text is split into code points, the adjacent pair whose concatenation is a
 * piece with the highest score is merged first (leftmost on ties), and symbols that are not pieces fall
 * back to <0xXX> byte tokens (or, failing that, the unknown token). Space handling (▁, dummy prefix)
 * is the caller's (tokenizer.ts); this file knows nothing of special tokens or decoding.
 */

import { PeelError } from "../util/errors.js";
import { createHeap } from "./heap.js";
import { utf8Encode } from "./utf8.js";
import type { VocabIndex } from "./vocab-index.js";

interface Bigram {
  readonly left: number;
  readonly right: number;
  readonly score: number;
  /** UTF-16 length of the pair when queued; a mismatch later means the entry is stale. */
  readonly size: number;
}

const bigramBefore = (a: Bigram, b: Bigram): boolean => a.score > b.score || (a.score === b.score && a.left < b.left);

/** Ids of the 256 byte tokens ("<0xXX>", or the single-character piece), -1 where absent. */
export function byteTokenTable(index: VocabIndex): Int32Array {
  const table = new Int32Array(256).fill(-1);
  for (let b = 0; b < 256; b++) {
    const hex = `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
    const id = index.idOf.get(hex) ?? (b < 0x80 ? index.idOf.get(String.fromCharCode(b)) : undefined);
    if (id !== undefined) table[b] = id;
  }
  return table;
}

/** Appends the ids of `text` (already ▁-escaped) to `out`. */
export function spmEncode(index: VocabIndex, scores: Float32Array | undefined, byteIds: Int32Array, text: string, out: number[]): void {
  if (text.length === 0) return;
  // symbols: start (UTF-16 offset), len (0 once merged away), prev/next links
  const starts: number[] = [];
  for (let i = 0; i < text.length; ) {
    starts.push(i);
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  const n = starts.length;
  const start = Int32Array.from(starts);
  const len = new Int32Array(n);
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    len[i] = (i + 1 < n ? (start[i + 1] as number) : text.length) - (start[i] as number);
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  const queue = createHeap<Bigram>(bigramBefore);
  const tryAdd = (left: number, right: number): void => {
    if (left < 0 || right < 0) return;
    const s = start[left] as number;
    const size = (len[left] as number) + (len[right] as number);
    const id = index.idOf.get(text.slice(s, s + size));
    if (id === undefined) return;
    queue.push({ left, right, score: scores ? (scores[id] ?? 0) : 0, size });
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  for (let b = queue.pop(); b !== undefined; b = queue.pop()) {
    const l = b.left;
    const r = b.right;
    if (len[l] === 0 || len[r] === 0 || (len[l] as number) + (len[r] as number) !== b.size) continue;
    len[l] = b.size;
    len[r] = 0;
    const after = next[r] as number;
    next[l] = after;
    if (after >= 0) prev[after] = l;
    tryAdd(prev[l] as number, l);
    tryAdd(l, after);
  }
  for (let i = 0; i !== -1; i = next[i] as number) {
    const s = start[i] as number;
    const piece = text.slice(s, s + (len[i] as number));
    const id = index.idOf.get(piece);
    if (id !== undefined) out.push(id);
    else pushBytes(index, byteIds, piece, out);
  }
}

function pushBytes(index: VocabIndex, byteIds: Int32Array, piece: string, out: number[]): void {
  for (const b of utf8Encode(piece)) {
    const id = byteIds[b] ?? -1;
    if (id >= 0) out.push(id);
    else if (index.vocab.unkId !== undefined) out.push(index.vocab.unkId);
    else throw new PeelError("TOKENIZER", `SPM: no piece, byte token <0x${b.toString(16).toUpperCase().padStart(2, "0")}> or unknown token for ${JSON.stringify(piece)}; the vocabulary cannot encode this text`);
  }
}
