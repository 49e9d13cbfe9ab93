/**
 * The derived parts of the `Tokenizer` interface for tokenizers that have only `encode` and `tokenBytes`
 * (GGUF kinds, llama2.c, tiktoken): `encodeBatch`, `countTokens`, and `encodeWithOffsets` by lining each
 * token's bytes up with the input's UTF-8. That is exact for lossless byte-level tokenizers; for
 * SentencePiece the dummy-prefix space is skipped; for tokenizers that normalize (BERT lowercasing) the
 * alignment is best effort (ASCII case-insensitive, whitespace the tokens dropped is skipped). Offsets
 * of a token holding part of a character span the whole character, as Hugging Face reports them.
 * The tokenizer.json pipeline computes its own offsets (hf/); this file does not tokenize.
 */

import type { EncodeOptions, EncodingWithOffsets, Tokenizer } from "./types.js";
import { toWellFormed, utf8Encode } from "./utf8.js";

export type CoreTokenizer = Omit<Tokenizer, "encodeWithOffsets" | "encodeBatch" | "countTokens">;

/** Completes a tokenizer with batch, count and byte-aligned offsets. */
export function withDerivedMethods(core: CoreTokenizer): Tokenizer {
  return {
    ...core,
    encodeWithOffsets(text: string, opts?: EncodeOptions): EncodingWithOffsets {
      const ids = core.encode(text, opts);
      return { ids, offsets: offsetsByBytes(text, ids, (id) => core.tokenBytes(id)) };
    },
    encodeBatch(texts: readonly string[], opts?: EncodeOptions): number[][] {
      return texts.map((x) => core.encode(x, opts));
    },
    countTokens(text: string, opts?: EncodeOptions): number {
      return core.encode(text, opts).length;
    },
  };
}

const lowerAscii = (b: number): number => (b >= 0x41 && b <= 0x5a ? b + 32 : b);

function matchesAt(src: Uint8Array, at: number, tok: Uint8Array, from: number): boolean {
  if (at + tok.length - from > src.length) return false;
  for (let i = from; i < tok.length; i++) if (lowerAscii(src[at + i - from] as number) !== lowerAscii(tok[i] as number)) return false;
  return true;
}

const isSpaceByte = (b: number | undefined): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;

/** Offsets (UTF-16 units) of each id, found by matching token bytes against the text's UTF-8. */
export function offsetsByBytes(text: string, ids: readonly number[], bytesOf: (id: number) => Uint8Array): Array<[number, number]> {
  const s = toWellFormed(text);
  const src = utf8Encode(s);
  // byte offset -> [UTF-16 start of its character, UTF-16 end of its character]
  const cs = new Int32Array(src.length + 1);
  const ce = new Int32Array(src.length + 1);
  for (let u = 0, b = 0; u < s.length; ) {
    const cp = s.codePointAt(u) ?? 0;
    const units = cp > 0xffff ? 2 : 1;
    const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < bytes; k++) { cs[b + k] = u; ce[b + k] = u + units; }
    b += bytes;
    u += units;
  }
  cs[src.length] = s.length;
  ce[src.length] = s.length;
  const out: Array<[number, number]> = [];
  let p = 0;
  for (const id of ids) {
    const tok = bytesOf(id);
    let span = matchSpan(src, p, tok);
    if (span === undefined) {
      let q = p;
      while (q < src.length && isSpaceByte(src[q])) q++;
      span = q > p ? matchSpan(src, q, tok) : undefined;
    }
    if (span === undefined) { out.push([cs[p] as number, cs[p] as number]); continue; }
    const [a, e] = span;
    out.push(e > a ? [cs[a] as number, ce[e - 1] as number] : [cs[a] as number, cs[a] as number]);
    p = e;
  }
  return out;
}

function matchSpan(src: Uint8Array, p: number, tok: Uint8Array): [number, number] | undefined {
  if (tok.length === 0) return [p, p];
  if (matchesAt(src, p, tok, 0)) return [p, p + tok.length];
  if (tok[0] === 0x20 && matchesAt(src, p, tok, 1)) return [p, p + tok.length - 1];
  return undefined;
}
