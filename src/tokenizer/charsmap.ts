/**
 * SentencePiece's precompiled normalization charsmap (NormalizerSpec.precompiled_charsmap; GGUF
 * `tokenizer.ggml.precompiled_charsmap`; HF tokenizer.json's Precompiled normalizer): a little-endian u32
 * byte length of a trie, the trie, then NUL-terminated replacement strings. The trie is a compact double array
 * over UTF-8 bytes in which each u32 packs a node: its BASE (bits 10–30, shifted left 8 more when bit 9 is
 * set), a LEAF flag (bit 8) and the byte that leads to it (LCHECK, bits 0–7; bit 31 marks value nodes, which
 * no byte matches). From node s, byte c leads to s' = s ^ BASE(s) ^ c when LCHECK(s') = c; at a LEAF, the node
 * BASE points to holds the replacement's offset. `normalizePrefix` finds the longest input prefix with a
 * replacement, as SentencePiece and llama.cpp do. Malformed maps are TOKENIZER errors naming what is wrong.
 * It does not apply the rest of SentencePiece's normalizer (spaces, dummy prefix): ugm.ts does that.
 */

import { PeelError } from "../util/errors.js";

export interface Charsmap {
  /**
   * The replacement (UTF-8 bytes) of the longest prefix of `input` from `offset` that the map normalizes, and
   * how many input bytes it replaces; undefined when no prefix has one.
   */
  normalizePrefix(input: Uint8Array, offset: number): { readonly out: Uint8Array; readonly consumed: number } | undefined;
  /**
   * The replacement of the shortest prefix of `chunk` that the map normalizes, or undefined: how Hugging Face
   * tokenizers' Precompiled normalizer reads the map (the first result of a common-prefix search), replacing
   * the whole chunk with it.
   */
  firstMatch(chunk: Uint8Array): Uint8Array | undefined;
}

const broken = (what: string) => new PeelError("TOKENIZER", `precompiled charsmap: ${what}; the file's normalizer data is damaged`);

export function parseCharsmap(bytes: Uint8Array): Charsmap {
  if (bytes.length < 4) throw broken(`${bytes.length} bytes is too short for the 4-byte trie size`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const trieBytes = dv.getUint32(0, true);
  if (trieBytes % 4 !== 0 || trieBytes > bytes.length - 4) {
    throw broken(`the trie is said to take ${trieBytes} bytes, but ${bytes.length - 4} follow the size (and it must be whole u32s)`);
  }
  const nodes = trieBytes / 4;
  const strings = bytes.subarray(4 + trieBytes);
  const node = (i: number): number => {
    if (i >= nodes) throw broken(`trie index ${i} is past its ${nodes} nodes`);
    return dv.getUint32(4 + 4 * i, true);
  };
  const base = (p: number): number => ((p >>> 10) << ((p & 0x200) >>> 6)) >>> 0;
  const cache = new Map<number, Uint8Array>();
  const replacement = (offset: number): Uint8Array => {
    let r = cache.get(offset);
    if (r !== undefined) return r;
    if (offset >= strings.length) throw broken(`replacement offset ${offset} is past the ${strings.length} bytes of strings`);
    const end = strings.indexOf(0, offset);
    if (end < 0) throw broken(`the replacement at offset ${offset} has no terminating NUL`);
    r = strings.subarray(offset, end);
    cache.set(offset, r);
    return r;
  };
  /** Walks the trie along input[offset..]: each prefix with a replacement, shortest first, until `stop` says so. */
  const walk = (input: Uint8Array, offset: number, stop: (len: number, at: number) => boolean): void => {
    if (nodes === 0) return;
    let s = base(node(0));
    for (let i = offset; i < input.length; i++) {
      const c = input[i] as number;
      if (c === 0) break;
      s = (s ^ c) >>> 0;
      const p = node(s);
      if ((p & 0x800000ff) >>> 0 !== c) break; // LCHECK (bit 31 set on value nodes: never a byte)
      const leaf = ((p >>> 8) & 1) === 1;
      s = (s ^ base(p)) >>> 0;
      if (leaf && stop(i - offset + 1, node(s) & 0x7fffffff)) return;
    }
  };
  return {
    normalizePrefix(input, offset) {
      let bestLen = 0, bestOffset = 0;
      walk(input, offset, (len, at) => { bestLen = len; bestOffset = at; return false; });
      return bestLen === 0 ? undefined : { out: replacement(bestOffset), consumed: bestLen };
    },
    firstMatch(chunk) {
      let found: number | undefined;
      walk(chunk, 0, (_, at) => { found = at; return true; });
      return found === undefined ? undefined : replacement(found);
    },
  };
}
