/**
 * Turning ids back into bytes and text, following llama.cpp's token_to_piece and detokenize: control and
 * unknown tokens render empty unless asked, SentencePiece ▁ becomes a space, <0xXX> tokens become raw
 * bytes, byte-level BPE characters map back to bytes, one leading space is dropped when the model adds a
 * space prefix, and BPE models tidy spaces before punctuation. Also the streaming decoder.
 * Encoding is elsewhere.
 */

import { PeelError } from "../util/errors.js";
import type { DecodeOptions, DecodeStream } from "./types.js";
import { concatBytes, createUtf8StreamDecoder, unicodeToByte, utf8Decode, utf8Encode } from "./utf8.js";
import { Attr, type VocabIndex } from "./vocab-index.js";

/** How a normal piece's text becomes bytes. */
export type PieceStyle = "sentencepiece" | "byte-level";

export interface DecodeSettings {
  readonly index: VocabIndex;
  readonly style: PieceStyle;
  readonly addSpacePrefix: boolean;
  readonly cleanSpaces: boolean;
  readonly addBos: boolean;
  readonly addEos: boolean;
}

const EMPTY = new Uint8Array(0);

/** The bytes of a token as llama.cpp renders it with special tokens shown. */
export function renderPiece(index: VocabIndex, style: PieceStyle, id: number): Uint8Array {
  const attr = index.attrs[id] ?? 0;
  const piece = index.vocab.pieces[id] ?? "";
  if (attr & (Attr.unknown | Attr.control | Attr.userDefined)) return utf8Encode(piece);
  if (attr & Attr.normal) return style === "sentencepiece" ? utf8Encode(piece.replaceAll("\u2581", " ")) : byteLevelBytes(piece);
  if (attr & Attr.byte) return Uint8Array.of(parseInt(piece.slice(3, 5), 16) & 0xff);
  return EMPTY;
}

function byteLevelBytes(piece: string): Uint8Array {
  const map = unicodeToByte();
  const out: number[] = [];
  for (const ch of piece) {
    const b = map.get(ch);
    if (b !== undefined) { out.push(b); continue; }
    // llama.cpp writes characters outside the byte alphabet as a visible marker
    const hex = Array.from(utf8Encode(ch), (x) => x.toString(16).padStart(2, "0")).join("");
    for (const x of utf8Encode(`[UNK_BYTE_0x${hex}${piece}]`)) out.push(x);
  }
  return Uint8Array.from(out);
}

export function checkId(index: VocabIndex, id: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= index.size) {
    throw new PeelError("INVALID_ARGUMENT", `token id ${id} is outside the vocabulary (0..${index.size - 1})`);
  }
}

/** Bytes of a token sequence, as llama.cpp's detokenize. */
export function detokenizeBytes(s: DecodeSettings, pieceBytes: (id: number) => Uint8Array, ids: ArrayLike<number>, opts: DecodeOptions): Uint8Array {
  const showSpecial = opts.skipSpecial === false;
  let begin = 0;
  let end = ids.length;
  let removeSpace = s.addSpacePrefix;
  const bos = s.index.vocab.bosId;
  const eos = s.index.vocab.eosId;
  if (opts.removeSpecial && s.addBos && end > 0 && ids[0] === bos) { removeSpace = false; begin++; }
  if (opts.removeSpecial && s.addEos && end > begin && ids[end - 1] === eos) end--;
  const parts: Uint8Array[] = [];
  for (let i = begin; i < end; i++) {
    const id = ids[i] as number;
    checkId(s.index, id);
    const attr = s.index.attrs[id] ?? 0;
    if (showSpecial || !(attr & (Attr.unknown | Attr.control))) {
      const bytes = pieceBytes(id);
      parts.push(removeSpace && bytes[0] === 0x20 ? bytes.subarray(1) : bytes);
    }
    removeSpace = false;
  }
  const bytes = concatBytes(parts);
  return s.cleanSpaces ? cleanUpSpaces(bytes) : bytes;
}

const SP = 0x20;
const QUOTE = 0x27;

/**
 * llama.cpp's clean_up_tokenization_spaces, three in-place passes over the bytes: a space before ? ! . ,
 * goes; " ' " loses both spaces; a space before 's 'm 're 've goes.
 */
export function cleanUpSpaces(input: Uint8Array): Uint8Array {
  const t = Uint8Array.from(input);
  let total = t.length;
  // pass 1
  let n = total;
  total = n > 0 ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const x = t[i] as number;
    if (t[i - 1] === SP && (x === 0x3f || x === 0x21 || x === 0x2e || x === 0x2c)) total--;
    t[total++] = x;
  }
  // pass 2
  n = total;
  total = n > 0 ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const x = t[i] as number;
    if (x === QUOTE && i + 1 < n && t[i - 1] === SP && t[i + 1] === SP) {
      total--;
      t[++i] = 0;
    }
    t[total++] = x;
  }
  // pass 3
  n = total;
  total = n > 0 ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const x = t[i] as number;
    if (t[i - 1] === SP && x === QUOTE && i + 1 < n) {
      const x1 = t[i + 1];
      if (x1 === 0x73 || x1 === 0x6d) total--; // 's 'm
      else if (x1 !== 0x74 && x1 !== 0x64 && i + 2 < n) {
        const x2 = t[i + 2];
        if ((x1 === 0x72 && x2 === 0x65) || (x1 === 0x76 && x2 === 0x65)) total--; // 're 've
      }
    }
    t[total++] = x;
  }
  return t.subarray(0, total);
}

export function detokenize(s: DecodeSettings, pieceBytes: (id: number) => Uint8Array, ids: ArrayLike<number>, opts: DecodeOptions): string {
  return utf8Decode(detokenizeBytes(s, pieceBytes, ids, opts));
}

/** Streams pieces as text, holding back incomplete UTF-8 sequences until a later push or flush. */
export function createDecodeStream(index: VocabIndex, pieceBytes: (id: number) => Uint8Array, skipSpecial: boolean): DecodeStream {
  const decoder = createUtf8StreamDecoder();
  return {
    push(id: number): string {
      checkId(index, id);
      if (skipSpecial && (index.attrs[id] ?? 0) & (Attr.unknown | Attr.control)) return "";
      return decoder.decode(pieceBytes(id), { stream: true });
    },
    flush(): string {
      return decoder.decode();
    },
  };
}
