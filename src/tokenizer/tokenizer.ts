/**
 * Builds a `Tokenizer` from a `Vocabulary`: picks the algorithm for the vocabulary's model (SPM by
 * scores, byte-level BPE by merges, WordPiece, Unigram with SentencePiece's normalizer), splits input on special tokens first, adds BOS/EOS/SEP
 * as the model says, and decodes the llama.cpp way (decode.ts). Loaders (load-gguf.ts, ...) produce the
 * Vocabulary; this file reads no files.
 */

import { createBpeEncoder, parseMerges } from "./bpe.js";
import { checkId, createDecodeStream, detokenize, renderPiece, type DecodeSettings, type PieceStyle } from "./decode.js";
import { withDerivedMethods } from "./offsets.js";
import { createMarkCutter, preTokenizerFor } from "./pretokenize.js";
import { byteTokenTable, spmEncode } from "./spm.js";
import type { DecodeOptions, EncodeOptions, MergeTrace, Tokenizer, TokenizerKind, Vocabulary, WordMergeTrace } from "./types.js";
import { toWellFormed } from "./utf8.js";
import { buildVocabIndex, splitOnSpecial, type VocabIndex } from "./vocab-index.js";
import { createWordPieceEncoder } from "./wordpiece.js";
import { parseCharsmap } from "./charsmap.js";
import { createUgmEncoder } from "./ugm.js";
import { PeelError } from "../util/errors.js";

/** The per-algorithm part of a tokenizer. */
export interface TokenizerCore {
  readonly kind: TokenizerKind;
  readonly index: VocabIndex;
  readonly style: PieceStyle;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSep: boolean;
  readonly addSpacePrefix: boolean;
  readonly cleanSpaces: boolean;
  /** Appends the ids of one stretch of text that holds no special token. */
  encodeFragment(text: string, out: number[], afterSpecial: boolean): void;
  /** Merge-ranked BPE only: each word of such a stretch, merge by merge. */
  traceFragment?(text: string): WordMergeTrace[];
  /** false: user-defined pieces stay in the text for the algorithm to match (SentencePiece's Unigram). Default true. */
  readonly splitUserDefined?: boolean;
}

export function createTokenizer(vocab: Vocabulary): Tokenizer {
  const index = buildVocabIndex(vocab);
  switch (vocab.model) {
    case "llama": return fromCore(spmCore(index));
    case "gpt2": return fromCore(bpeCore(index));
    case "bert": return fromCore(wordPieceCore(index));
    case "t5": return fromCore(ugmCore(index));
  }
}

function ugmCore(index: VocabIndex): TokenizerCore {
  const v = index.vocab;
  const encoder = createUgmEncoder(index, {
    charsmap: v.charsmap !== undefined && v.charsmap.length > 0 ? parseCharsmap(v.charsmap) : undefined,
    addSpacePrefix: v.addSpacePrefix,
    removeExtraWhitespaces: v.removeExtraWhitespaces ?? false,
    sentencePiece: v.sentencePiece ?? false,
  });
  return {
    kind: "t5", index, style: "sentencepiece", splitUserDefined: v.sentencePiece !== true,
    addBos: v.addBos, addEos: v.addEos, addSep: false, addSpacePrefix: v.addSpacePrefix, cleanSpaces: false,
    // every stretch between special tokens is normalized on its own, dummy prefix included (llama.cpp)
    encodeFragment(text, out) { encoder.encode(text, out); },
  };
}

function requireSpecial(id: number | undefined, flag: boolean, what: string): void {
  if (flag && id === undefined) throw new PeelError("TOKENIZER", `tokenizer: the model asks to add ${what}, but names no ${what} token`);
}

const SPM_CACHE_WORD_MAX = 64;
const SPM_CACHE_LIMIT = 1 << 16;

function spmCore(index: VocabIndex): TokenizerCore {
  const v = index.vocab;
  const byteIds = byteTokenTable(index);
  // SPM merges only into pieces, so the escaped text can be encoded piece by piece between ▁ cuts (see
  // createMarkCutter), and short pieces come from a cache.
  const cutter = createMarkCutter(v.pieces);
  const cache = new Map<string, number[]>();
  const encodePart = (part: string, out: number[]): void => {
    if (part.length > SPM_CACHE_WORD_MAX) { spmEncode(index, v.scores, byteIds, part, out); return; }
    let ids = cache.get(part);
    if (ids === undefined) {
      ids = [];
      spmEncode(index, v.scores, byteIds, part, ids);
      if (cache.size >= SPM_CACHE_LIMIT) cache.clear();
      cache.set(part, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i] as number);
  };
  return {
    kind: "llama", index, style: "sentencepiece",
    addBos: v.addBos, addEos: v.addEos, addSep: false, addSpacePrefix: v.addSpacePrefix, cleanSpaces: false,
    encodeFragment(text, out, afterSpecial) {
      const escaped = (v.addSpacePrefix && afterSpecial ? " " + text : text).replaceAll(" ", "\u2581");
      if (cutter) cutter(escaped, (part) => encodePart(part, out));
      else spmEncode(index, v.scores, byteIds, escaped, out);
    },
  };
}

function bpeCore(index: VocabIndex): TokenizerCore {
  const v = index.vocab;
  if (!v.merges) throw new PeelError("TOKENIZER", "tokenizer: a byte-level BPE vocabulary needs merges, and this one has none");
  const pre = preTokenizerFor(v.pre);
  const encoder = createBpeEncoder(index, parseMerges(index, v.merges), pre);
  return {
    kind: "gpt2", index, style: "byte-level",
    addBos: v.addBos, addEos: v.addEos, addSep: false, addSpacePrefix: false, cleanSpaces: pre.cleanSpaces,
    encodeFragment(text, out) { encoder.encode(text, out); },
    traceFragment: (text) => encoder.trace(text),
  };
}

function wordPieceCore(index: VocabIndex): TokenizerCore {
  const v = index.vocab;
  const encoder = createWordPieceEncoder(index);
  return {
    kind: "bert", index, style: "sentencepiece",
    addBos: true, addEos: false, addSep: v.addSep, addSpacePrefix: false, cleanSpaces: true,
    encodeFragment(text, out) { encoder.encode(text, out); },
  };
}

/** Wraps an algorithm core with special-token splitting, BOS/EOS and decoding. */
export function fromCore(core: TokenizerCore): Tokenizer {
  const { index } = core;
  const v = index.vocab;
  requireSpecial(v.bosId, core.addBos, "BOS");
  requireSpecial(v.eosId, core.addEos, "EOS");
  requireSpecial(v.sepId, core.addSep, "SEP");
  const cache: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(index.size);
  const pieceBytes = (id: number): Uint8Array => (cache[id] ??= renderPiece(index, core.style, id));
  const settings: DecodeSettings = {
    index, style: core.style, addSpacePrefix: core.addSpacePrefix, cleanSpaces: core.cleanSpaces, addBos: core.addBos, addEos: core.addEos,
  };
  return withDerivedMethods({
    kind: core.kind,
    vocabSize: index.size,
    bosId: v.bosId,
    eosId: v.eosId,
    sepId: v.sepId,
    encode(text: string, opts: EncodeOptions = {}): number[] {
      const addSpecial = opts.addSpecial ?? true;
      const out: number[] = [];
      if (addSpecial && core.addBos) out.push(v.bosId as number);
      let afterSpecial = true;
      for (const f of splitOnSpecial(index, toWellFormed(text), opts.parseSpecial ?? false, core.splitUserDefined ?? true)) {
        if ("id" in f) out.push(f.id);
        else core.encodeFragment(f.text, out, afterSpecial);
        afterSpecial = "id" in f;
      }
      if (addSpecial && core.addEos) out.push(v.eosId as number);
      if (addSpecial && core.addSep) out.push(v.sepId as number);
      return out;
    },
    decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
      return detokenize(settings, pieceBytes, ids, opts);
    },
    tokenBytes(id: number): Uint8Array {
      checkId(index, id);
      return pieceBytes(id).slice();
    },
    piece(id: number): string {
      checkId(index, id);
      return v.pieces[id] as string;
    },
    isEndOfGeneration(id: number): boolean {
      return index.eogIds.has(id);
    },
    createDecodeStream(opts = {}) {
      return createDecodeStream(index, pieceBytes, opts.skipSpecial ?? true);
    },
    ...(core.traceFragment === undefined ? {} : {
      traceMerges(text: string, opts: Pick<EncodeOptions, "parseSpecial"> = {}): MergeTrace {
        const words: WordMergeTrace[] = [];
        for (const f of splitOnSpecial(index, toWellFormed(text), opts.parseSpecial ?? false)) {
          if ("id" in f) words.push({ word: v.pieces[f.id] as string, initial: [f.id], merges: [], ids: [f.id], whole: true });
          else words.push(...(core.traceFragment?.(f.text) ?? []));
        }
        return { words };
      },
    }),
  });
}
