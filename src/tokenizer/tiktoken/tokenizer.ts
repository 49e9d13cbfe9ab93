/**
 * A `Tokenizer` over tiktoken ranks, encoding exactly as tiktoken does: special tokens are split out first
 * (only when asked: `parseSpecial`, tiktoken's allowed_special="all"; otherwise their text is ordinary
 * text, tiktoken's encode_ordinary), the split pattern cuts each stretch into pieces (unmatched text is
 * dropped, as tiktoken drops it), a piece that is a token is that token, and any other piece is merged
 * from its bytes by rank (bpe.ts; every two tokens whose bytes concatenate to a token are a pair with that
 * token's rank). Lone surrogates become U+FFFD first, as tiktoken's UTF-8 boundary does.
 * No file access here (load.node.ts), no GPT-2 byte alphabet for ranks (only for `piece()` display).
 */

import { PeelError } from "../../util/errors.js";
import { createMerges, createWordEncoder, NO_RANK, type WordEncoder } from "../bpe.js";
import type { DecodeOptions, DecodeStream, EncodeOptions, EncodingWithOffsets, Tokenizer } from "../types.js";
import { byteToUnicode, createUtf8StreamDecoder, toWellFormed, utf8Decode, utf8Encode } from "../utf8.js";
import { patternFromTiktoken } from "./encodings.js";
import { binaryToBytes, type TiktokenRanks } from "./ranks.js";

export interface TiktokenOptions {
  /** The split pattern: a RegExp (used with flags "gu") or tiktoken's own pattern text. */
  readonly pattern: RegExp | string;
  /** Special token text -> id; ids must not collide with ranks or each other. */
  readonly specialTokens?: Readonly<Record<string, number>>;
  readonly name?: string;
}

export interface TiktokenTokenizer extends Tokenizer {
  readonly name: string;
  readonly specialTokens: ReadonlyMap<string, number>;
  /** tiktoken's encode_ordinary: special-token text is encoded as plain text. */
  encodeOrdinary(text: string): number[];
}

const SURROGATE = /[\uD800-\uDFFF]/;

const escapeRegex = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");

function toGlobalRegex(p: RegExp | string): RegExp {
  if (typeof p === "string") return patternFromTiktoken(p);
  const flags = new Set([...p.flags, "g", "u"]);
  flags.delete("y");
  return new RegExp(p.source, [...flags].join(""));
}

function checkSpecials(ranks: TiktokenRanks, specials: Readonly<Record<string, number>>): Map<string, number> {
  const out = new Map<string, number>();
  const byId = new Map<number, string>();
  for (const [text, id] of Object.entries(specials)) {
    if (!Number.isInteger(id) || id < 0) throw new PeelError("TOKENIZER", `tiktoken: special token ${JSON.stringify(text)} has id ${id}; ids are non-negative integers`);
    if (text.length === 0) throw new PeelError("TOKENIZER", "tiktoken: a special token has empty text");
    if (ranks.tokens[id] !== undefined) throw new PeelError("TOKENIZER", `tiktoken: special token ${JSON.stringify(text)} has id ${id}, which is already the rank of an ordinary token`);
    const other = byId.get(id);
    if (other !== undefined) throw new PeelError("TOKENIZER", `tiktoken: special tokens ${JSON.stringify(other)} and ${JSON.stringify(text)} share id ${id}`);
    byId.set(id, text);
    out.set(text, id);
  }
  return out;
}

/** The word encoder: byte symbols, whole-token shortcut, pairs found on demand by concatenating tokens. */
function rankEncoder(ranks: TiktokenRanks): WordEncoder {
  const { tokens, rankOf, rankCount } = ranks;
  const byteIds = new Int32Array(256);
  const byteKeys: string[] = [];
  for (let b = 0; b < 256; b++) {
    const key = String.fromCharCode(b);
    const id = rankOf.get(key);
    if (id === undefined) throw new PeelError("TOKENIZER", `tiktoken: the ranks have no token for the single byte 0x${b.toString(16).padStart(2, "0")}; every byte needs one`);
    byteIds[b] = id;
    byteKeys.push(key);
  }
  const resolve = (l: number, r: number): number => rankOf.get((tokens[l] as string) + (tokens[r] as string)) ?? NO_RANK;
  const merges = createMerges(rankCount, 1 << 16, resolve);
  for (let rank = 0; rank < rankCount; rank++) if (tokens[rank] !== undefined) merges.mergedId[rank] = rank;
  return createWordEncoder({ merges, byteIds, whole: { byteKeys, ids: rankOf } });
}

/**
 * Offsets of the tokens ids[first..] that encode `word` (at `start` in the text): each token covers a run
 * of the word's UTF-8 bytes; its span runs from the character holding its first byte to the end of the
 * character holding its last, so the tokens of one split character all span that character.
 */
export function wordOffsets(word: string, start: number, ids: readonly number[], first: number, byteLen: (id: number) => number, out: Array<[number, number]>): void {
  let unit = 0; // UTF-16 index of the current character in word
  let charBytes = 0; // bytes of the current character
  let used = 0; // bytes of the current character already consumed
  const step = (): void => {
    const c = word.charCodeAt(unit);
    const wide = c >= 0xd800 && c <= 0xdbff && unit + 1 < word.length;
    charBytes = wide ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  };
  if (word.length > 0) step();
  for (let k = first; k < ids.length; k++) {
    const s = start + unit;
    let left = byteLen(ids[k] as number);
    while (left > 0 && unit < word.length) {
      const take = Math.min(left, charBytes - used);
      left -= take;
      used += take;
      if (used === charBytes) {
        const c = word.charCodeAt(unit);
        unit += c >= 0xd800 && c <= 0xdbff && unit + 1 < word.length ? 2 : 1;
        used = 0;
        if (unit < word.length) step();
      }
    }
    const c = word.charCodeAt(unit);
    const partial = used > 0 ? (c >= 0xd800 && c <= 0xdbff ? 2 : 1) : 0;
    out.push([s, start + unit + partial]);
  }
}

interface EncodeSide {
  encodeInto(raw: string, parseSpecial: boolean, out: number[]): void;
  encodeWithOffsets(raw: string, parseSpecial: boolean): EncodingWithOffsets;
}

/** Special-token splitting, the split pattern and the word encoder. */
function encodeSide(ranks: TiktokenRanks, pattern: RegExp, specials: ReadonlyMap<string, number>): EncodeSide {
  const specialRe = specials.size === 0 ? undefined
    : new RegExp([...specials.keys()].sort((a, b) => b.length - a.length).map(escapeRegex).join("|"), "gu");
  const words = rankEncoder(ranks);
  /** Calls `onWord` for each piece the pattern cuts from text[from, to), with its start. */
  const eachWord = (text: string, from: number, to: number, onWord: (w: string, start: number) => void): void => {
    const piece = from === 0 && to === text.length ? text : text.slice(from, to);
    pattern.lastIndex = 0;
    for (let m = pattern.exec(piece); m !== null; m = pattern.exec(piece)) {
      const w = m[0];
      if (w.length === 0) { // an empty match cuts nothing; step over one code point
        const c = piece.charCodeAt(m.index);
        pattern.lastIndex = m.index + (c >= 0xd800 && c <= 0xdbff ? 2 : 1);
        continue;
      }
      onWord(w, from + m.index);
    }
  };
  /** Splits out special tokens (when parsing them) and hands the stretches between to `onText`. */
  const scan = (raw: string, parseSpecial: boolean, onText: (text: string, from: number, to: number) => void, onSpecial: (id: number, start: number, end: number) => void): void => {
    const text = SURROGATE.test(raw) ? toWellFormed(raw) : raw;
    if (!parseSpecial || specialRe === undefined) { onText(text, 0, text.length); return; }
    let last = 0;
    specialRe.lastIndex = 0;
    for (let m = specialRe.exec(text); m !== null; m = specialRe.exec(text)) {
      if (m.index > last) onText(text, last, m.index);
      onSpecial(specials.get(m[0]) as number, m.index, m.index + m[0].length);
      last = m.index + m[0].length;
    }
    if (last < text.length) onText(text, last, text.length);
  };
  /** The hot path: eachWord with the word encoder inlined. */
  const encodeStretch = (text: string, from: number, to: number, out: number[]): void => {
    const piece = from === 0 && to === text.length ? text : text.slice(from, to);
    const re = pattern;
    re.lastIndex = 0;
    for (let m = re.exec(piece); m !== null; m = re.exec(piece)) {
      if (m[0].length > 0) words.encodeWord(m[0], out);
      else { // an empty match: finish on the careful path
        eachWord(piece, m.index, piece.length, (w) => words.encodeWord(w, out));
        return;
      }
    }
  };
  return {
    encodeInto(raw, parseSpecial, out) {
      scan(raw, parseSpecial, (text, from, to) => encodeStretch(text, from, to, out), (id) => out.push(id));
    },
    encodeWithOffsets(raw, parseSpecial) {
      const ids: number[] = [];
      const offsets: Array<[number, number]> = [];
      const onWord = (w: string, start: number): void => {
        const first = ids.length;
        words.encodeWord(w, ids);
        wordOffsets(w, start, ids, first, (id) => (ranks.tokens[id] as string).length, offsets);
      };
      scan(raw, parseSpecial, (text, from, to) => eachWord(text, from, to, onWord), (id, s, e) => { ids.push(id); offsets.push([s, e]); });
      return { ids, offsets };
    },
  };
}

type DecodeSide = Pick<Tokenizer, "decode" | "piece" | "createDecodeStream"> & { bytesOf(id: number): Uint8Array };

/** Token bytes (ranks' bytes, specials' UTF-8 text), decoding and display pieces. */
function decodeSide(ranks: TiktokenRanks, specialText: ReadonlyMap<number, string>, vocabSize: number): DecodeSide {
  const bytesCache = new Map<number, Uint8Array>();
  const bytesOf = (id: number): Uint8Array => {
    let b = bytesCache.get(id);
    if (b === undefined) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize || (ranks.tokens[id] === undefined && !specialText.has(id))) {
        throw new PeelError("INVALID_ARGUMENT", `token id ${id} is not in this tiktoken vocabulary (0..${vocabSize - 1}, with gaps)`);
      }
      const t = ranks.tokens[id];
      b = t !== undefined ? binaryToBytes(t) : utf8Encode(specialText.get(id) as string);
      bytesCache.set(id, b);
    }
    return b;
  };
  const shown = (id: number, skipSpecial: boolean): Uint8Array | undefined => {
    const b = bytesOf(id);
    return skipSpecial && specialText.has(id) ? undefined : b;
  };
  return {
    bytesOf,
    decode(ids: ArrayLike<number>, o: DecodeOptions = {}): string {
      const skip = o.skipSpecial ?? true;
      const parts: Uint8Array[] = [];
      let n = 0;
      for (let i = 0; i < ids.length; i++) {
        const b = shown(ids[i] as number, skip);
        if (b) { parts.push(b); n += b.length; }
      }
      const all = new Uint8Array(n);
      let at = 0;
      for (const p of parts) { all.set(p, at); at += p.length; }
      return utf8Decode(all);
    },
    piece(id: number): string {
      const special = specialText.get(id);
      if (special !== undefined) return special;
      const alphabet = byteToUnicode();
      let s = "";
      for (const b of bytesOf(id)) s += alphabet[b] as string;
      return s;
    },
    createDecodeStream(o = {}): DecodeStream {
      const skip = o.skipSpecial ?? true;
      const dec = createUtf8StreamDecoder();
      return {
        push(id: number): string {
          const b = shown(id, skip);
          return b ? dec.decode(b, { stream: true }) : "";
        },
        flush: () => dec.decode(),
      };
    },
  };
}

/** Builds a tokenizer from parsed ranks, a split pattern and special tokens. */
export function createTiktokenTokenizer(ranks: TiktokenRanks, opts: TiktokenOptions): TiktokenTokenizer {
  const specials = checkSpecials(ranks, opts.specialTokens ?? {});
  const vocabSize = Math.max(ranks.rankCount, ...[...specials.values()].map((id) => id + 1));
  const enc = encodeSide(ranks, toGlobalRegex(opts.pattern), specials);
  const dec = decodeSide(ranks, new Map([...specials].map(([t, id]) => [id, t])), vocabSize);
  const eosId = specials.get("<|endoftext|>");
  const encode = (text: string, parseSpecial: boolean): number[] => {
    const out: number[] = [];
    enc.encodeInto(text, parseSpecial, out);
    return out;
  };
  return {
    kind: "tiktoken",
    name: opts.name ?? "tiktoken",
    vocabSize,
    bosId: undefined,
    eosId,
    specialTokens: specials,
    encode: (text: string, o: EncodeOptions = {}) => encode(text, o.parseSpecial ?? false),
    encodeOrdinary: (text: string) => encode(text, false),
    encodeWithOffsets: (text, o = {}) => enc.encodeWithOffsets(text, o.parseSpecial ?? false),
    encodeBatch: (texts, o = {}) => texts.map((t) => encode(t, o.parseSpecial ?? false)),
    countTokens: (text, o = {}) => encode(text, o.parseSpecial ?? false).length,
    decode: dec.decode,
    tokenBytes: (id) => dec.bytesOf(id).slice(),
    piece: dec.piece,
    isEndOfGeneration: (id) => id === eosId,
    createDecodeStream: dec.createDecodeStream,
  };
}
