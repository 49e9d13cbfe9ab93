/**
 * Tokenizers: text <-> ids. One model of tokenization — normalizer, pre-tokenizer, algorithm (byte-level BPE by
 * rank, SentencePiece BPE by score, Unigram, WordPiece), post-processing and decoder — with loaders that fill it
 * (GGUF metadata, Hugging Face tokenizer.json, tiktoken rank files, llama2.c tokenizer.bin, BERT vocab.txt) and a
 * BPE trainer. Re-exports only; the Node file loaders are exported by index.node.ts.
 */

export { TokenType } from "./types.js";
export type {
  DecodeOptions, DecodeStream, EncodeOptions, EncodingWithOffsets, MergeStep, MergeTrace, Tokenizer, TokenizerKind, TokenTypeValue, VocabModel, Vocabulary, WordMergeTrace,
} from "./types.js";
export { createTokenizer } from "./tokenizer.js";
export { tokenizerFromGguf, vocabularyFromGguf, type GgufMetadataLike } from "./load-gguf.js";
export { createLlama2cTokenizer, type Llama2cTokenizerData } from "./llama2c.js";
export { tokenizerFromHfJson } from "./hf/load-tokenizer-json.js";
export { tokenizerFromBytes } from "./load-bytes.js";
export { wordPieceFromVocabTxt, type BertVocabOptions } from "./load-vocab-txt.js";
export {
  createTiktokenTokenizer, parseTiktokenRanks, tiktokenEncodingSpec, TIKTOKEN_ENCODING_NAMES,
  type TiktokenEncodingName, type TiktokenOptions, type TiktokenRanks, type TiktokenTokenizer,
} from "./tiktoken/index.js";
export { createUnigramModel, type UnigramModel } from "./unigram.js";
export { trainBpe, BPE_KINDS, type BpeKind, type TrainBpeOptions, type TrainedBpe } from "./train/train-bpe.js";
export { hfTokenizerJson, writeHfTokenizerJson, type HfTokenizerJson } from "./train/hf-json.js";
export { SUPPORTED_PRE_TOKENIZERS, preTokenize, preTokenizerFor, type PreTokenizer } from "./pretokenize.js";
