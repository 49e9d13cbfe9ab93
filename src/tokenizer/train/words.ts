/**
 * The first step of BPE training: texts -> the table of distinct words with their counts, each word as a
 * sequence of initial symbol ids. Byte-level (GPT-2 style): words come from the GPT-2 pre-tokenizer regex
 * and the symbols are the 256 byte values. SentencePiece style: each line gets a "▁" in front and "▁" for
 * every space, is cut before each "▁", and the symbols are the characters that cover `coverage` of all
 * character occurrences (the rest are left to byte fallback, so words are cut at them too).
 * It learns no merges (merge.ts does).
 */

import { preTokenize, preTokenizerFor } from "../pretokenize.js";
import { toWellFormed, utf8Encode } from "../utf8.js";

export const SPACE_MARK = "\u2581";

export interface WordTable {
  /** The initial symbols: id -> text (byte-level: the byte value's char code, mapped later). */
  readonly alphabet: readonly string[];
  /** Distinct words as symbol ids. */
  readonly words: Int32Array[];
  /** How often each word occurs. */
  readonly counts: Float64Array;
}

function countInto(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function table(alphabet: readonly string[], wordCounts: ReadonlyMap<string, number>, symbolsOf: (w: string) => Int32Array): WordTable {
  const words: Int32Array[] = [];
  const counts = new Float64Array(wordCounts.size);
  // Sorted so the table (and so training) does not depend on the order texts came in.
  for (const w of [...wordCounts.keys()].sort()) {
    counts[words.length] = wordCounts.get(w) ?? 0;
    words.push(symbolsOf(w));
  }
  return { alphabet, words, counts };
}

/** Byte-level words: GPT-2 regex pieces as UTF-8 bytes; symbol id = byte value. */
export function byteLevelWords(texts: Iterable<string>): WordTable {
  const pre = preTokenizerFor("gpt-2");
  const wordCounts = new Map<string, number>();
  for (const text of texts) for (const w of preTokenize(pre, toWellFormed(text))) countInto(wordCounts, w);
  const alphabet = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
  return table(alphabet, wordCounts, (w) => Int32Array.from(utf8Encode(w)));
}

/** SentencePiece-style words; `maxAlphabet` caps the characters kept (most frequent first). */
export function sentencePieceWords(texts: Iterable<string>, coverage: number, maxAlphabet: number): WordTable {
  const chunks = new Map<string, number>();
  for (const text of texts) {
    for (const line of toWellFormed(text).split(/\r?\n/)) {
      if (line.length === 0) continue;
      const marked = SPACE_MARK + line.replaceAll(" ", SPACE_MARK);
      for (const m of marked.matchAll(/\u2581[^\u2581]*|[^\u2581]+/g)) countInto(chunks, m[0]);
    }
  }
  const charCounts = new Map<string, number>();
  let total = 0;
  for (const [chunk, n] of chunks) {
    for (const ch of chunk) {
      countInto(charCounts, ch, n);
      total += n;
    }
  }
  const ranked = [...charCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const alphabet: string[] = [];
  let covered = 0;
  for (const [ch, n] of ranked) {
    if (alphabet.length >= maxAlphabet || (alphabet.length > 0 && covered / total >= coverage)) break;
    alphabet.push(ch);
    covered += n;
  }
  const idOf = new Map(alphabet.map((ch, i) => [ch, i]));
  // Cut words at characters outside the alphabet: no merge may span a byte-fallback character.
  const words = new Map<string, number>();
  for (const [chunk, n] of chunks) {
    let cur = "";
    for (const ch of chunk) {
      if (idOf.has(ch)) { cur += ch; continue; }
      if (cur !== "") countInto(words, cur, n);
      cur = "";
    }
    if (cur !== "") countInto(words, cur, n);
  }
  return table(alphabet, words, (w) => Int32Array.from(Array.from(w), (ch) => idOf.get(ch) ?? 0));
}
