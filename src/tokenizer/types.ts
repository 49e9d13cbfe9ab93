/**
 * The shared vocabulary of tokenizers: token types, the `Vocabulary` record every loader produces
 * (GGUF today; tokenizer.json, tiktoken and llama2.c files later), and the public `Tokenizer` interface.
 * One model of tokenization: vocabulary + pre-tokenizer + algorithm + decoder; loaders only fill the record.
 * This file holds types and constants only; no behaviour.
 */

/** Per-token type as stored in GGUF `tokenizer.ggml.token_type` (SentencePiece's piece types). */
export const TokenType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;
export type TokenTypeValue = (typeof TokenType)[keyof typeof TokenType];

/** Which algorithm a vocabulary is for (GGUF `tokenizer.ggml.model`). */
export type VocabModel = "llama" | "gpt2" | "bert" | "t5";

/** The closed set of tokenizer kinds Peel implements. */
/** "hf": a Hugging Face tokenizer.json pipeline; "tiktoken": a tiktoken rank file. */
/** "t5": llama.cpp's Unigram tokenizer with SentencePiece's normalizer (ugm.ts). */
export type TokenizerKind = "llama" | "gpt2" | "bert" | "t5" | "llama2c" | "hf" | "tiktoken";

/** Everything a tokenizer needs, in foreign-name-free form. Ids are indices into `pieces`. */
export interface Vocabulary {
  readonly model: VocabModel;
  /** Pre-tokenizer name (GGUF `tokenizer.ggml.pre`); undefined means "default". */
  readonly pre: string | undefined;
  /** The raw vocabulary strings (SentencePiece keeps U+2581 for space; byte-level BPE keeps its mapped alphabet). */
  readonly pieces: readonly string[];
  /** SentencePiece scores (higher merges first); undefined for merge-ranked vocabularies. */
  readonly scores: Float32Array | undefined;
  /** One `TokenType` value per piece. */
  readonly types: Int32Array;
  /** BPE merges "left right", best first; undefined for score-ranked vocabularies. */
  readonly merges: readonly string[] | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly eotId: number | undefined;
  readonly eomId: number | undefined;
  readonly unkId: number | undefined;
  readonly padId: number | undefined;
  readonly sepId: number | undefined;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSep: boolean;
  /** Prepend a space to the text (SentencePiece "dummy prefix"). */
  readonly addSpacePrefix: boolean;
  /** BERT normalizer options (wordpiece only). */
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  /** The model's display name; a few per-model token quirks key on it (as llama.cpp does). */
  readonly modelName: string | undefined;
  /** Unigram ("t5"): SentencePiece's precompiled normalization charsmap (charsmap.ts), if the model has one. */
  readonly charsmap?: Uint8Array;
  /** Unigram ("t5"): collapse runs of whitespace and drop leading/trailing ones (SentencePiece's remove_extra_whitespaces). */
  readonly removeExtraWhitespaces?: boolean;
  /**
   * Unigram ("t5"): encode as the SentencePiece library does (a .model file read directly) instead of as llama.cpp
   * does (a GGUF file): float32 path scores, user-defined pieces matched inside the text at SentencePiece's
   * length bonus rather than split out first, unused pieces never matched.
   */
  readonly sentencePiece?: boolean;
}

export interface EncodeOptions {
  /** Add BOS/EOS (and SEP for BERT) as the model says. Default true. */
  readonly addSpecial?: boolean;
  /** Match the text of control tokens (e.g. "<s>") in the input. User-defined tokens always match. Default false. */
  readonly parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Render control and unknown tokens as nothing. Default true; false prints their text (e.g. "<s>"). */
  readonly skipSpecial?: boolean;
  /** Drop a leading BOS and trailing EOS when the model adds them (llama.cpp `remove_special`). Default false. */
  readonly removeSpecial?: boolean;
}

/** Ids with the span of the input each came from: [start, end) in UTF-16 code units of the original text. */
export interface EncodingWithOffsets {
  readonly ids: number[];
  /** Added special tokens (BOS/EOS) that stand for no text get [0, 0], as Hugging Face reports them. */
  readonly offsets: Array<[number, number]>;
}

/** Incremental decoding for streaming: emits only complete UTF-8 sequences. */
export interface DecodeStream {
  push(id: number): string;
  /** Emits what is left; an incomplete UTF-8 tail becomes U+FFFD. */
  flush(): string;
}

/** One merge: the pair at symbol position `at` became `merged` (lower rank merges first). */
export interface MergeStep {
  readonly at: number;
  readonly rank: number;
  readonly left: number;
  readonly right: number;
  readonly merged: number;
}

/** How one pre-tokenized word became tokens: its byte symbols, every merge in order, the final ids. */
export interface WordMergeTrace {
  readonly word: string;
  /** Symbol ids before any merge (−1 for a byte the vocabulary lacks). */
  readonly initial: readonly number[];
  readonly merges: readonly MergeStep[];
  readonly ids: readonly number[];
  /** True when the word is itself a piece and skipped merging (llama 3's ignore_merges). */
  readonly whole: boolean;
}

/** A text's merge-ranked BPE, word by word; special tokens matched in the text appear as words of one id. */
export interface MergeTrace {
  readonly words: readonly WordMergeTrace[];
}

export interface Tokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** The separator token (BERT's [SEP]) where the vocabulary has one; rerankers put it between query and document. */
  readonly sepId?: number | undefined;
  encode(text: string, opts?: EncodeOptions): number[];
  /** Ids and, for each, the span of `text` it covers (UTF-16 code units; characters, not bytes). */
  encodeWithOffsets(text: string, opts?: EncodeOptions): EncodingWithOffsets;
  encodeBatch(texts: readonly string[], opts?: EncodeOptions): number[][];
  countTokens(text: string, opts?: EncodeOptions): number;
  decode(ids: ArrayLike<number>, opts?: DecodeOptions): string;
  /** The bytes this token stands for when decoded, control tokens included (their text). */
  tokenBytes(id: number): Uint8Array;
  /** The raw vocabulary string. */
  piece(id: number): string;
  /** True for eos, eot, eom and the other end-of-generation tokens the vocabulary names. */
  isEndOfGeneration(id: number): boolean;
  createDecodeStream(opts?: { readonly skipSpecial?: boolean }): DecodeStream;
  /**
   * Merge-ranked byte-level BPE vocabularies (GGUF "gpt2"): how each word of `text` is merged, step by step,
   * as encode() merges it (BOS/EOS are not added). Absent for other algorithms.
   */
  traceMerges?(text: string, opts?: Pick<EncodeOptions, "parseSpecial">): MergeTrace;
}
