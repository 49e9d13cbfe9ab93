/**
 * WordPiece (GGUF tokenizer.ggml.model = "bert") as llama.cpp does it: BERT-style normalization (each
 * code point mapped to the first code point of its NFD form, accents dropped, lowercased), words split on
 * whitespace, punctuation, ASCII symbols and CJK ideographs, then greedy longest-match against pieces
 * where a word start carries "▁" (the GGUF convention) and continuations are bare. A word that cannot
 * be covered becomes the unknown token. Special tokens and [CLS]/[SEP] are handled in tokenizer.ts.
 */

import type { VocabIndex } from "./vocab-index.js";

const WHITESPACE = /^\p{White_Space}$/u;
const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const MARK = /^\p{M}$/u;
const PUNCT = /^\p{P}$/u;
const SYMBOL = /^\p{S}$/u;

function isChinese(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

const firstCodePoint = (s: string): string => String.fromCodePoint(s.codePointAt(0) ?? 0);

/** Normalizes and splits text into words (llama.cpp's WPM preprocess). */
export function wordPieceWords(text: string, lowercase: boolean, stripAccents: boolean): string[] {
  const words: string[] = [];
  let cur = "";
  const finish = (): void => { if (cur.length > 0) { words.push(cur); cur = ""; } };
  for (const orig of text) {
    const ch = stripAccents ? firstCodePoint(orig.normalize("NFD")) : orig;
    const cp = ch.codePointAt(0) ?? 0;
    if (WHITESPACE.test(ch)) { finish(); continue; }
    if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
    if (stripAccents && MARK.test(ch)) continue;
    const s = lowercase ? firstCodePoint(ch.toLowerCase()) : ch;
    if (PUNCT.test(ch) || (cp < 0x7f && SYMBOL.test(ch)) || isChinese(cp)) {
      finish();
      words.push(s);
    } else {
      cur += s;
    }
  }
  finish();
  return words;
}

export interface WordPieceEncoder {
  encode(text: string, out: number[]): void;
}

export function createWordPieceEncoder(index: VocabIndex): WordPieceEncoder {
  const v = index.vocab;
  let maxLen = 0;
  for (const p of v.pieces) maxLen = Math.max(maxLen, p.length);
  return {
    encode(text, out) {
      for (const word of wordPieceWords(text, v.lowercase, v.stripAccents)) {
        const w = "\u2581" + word;
        const mark = out.length;
        for (let i = 0; i < w.length; ) {
          let matched = -1;
          for (let j = Math.min(w.length, i + maxLen + 1); j > i; j--) {
            const id = index.idOf.get(w.slice(i, j));
            if (id !== undefined) { out.push(id); matched = j; break; }
          }
          if (matched < 0) { out.length = mark; break; }
          i = matched;
        }
        if (out.length === mark && v.unkId !== undefined) out.push(v.unkId);
      }
    },
  };
}
