/**
 * Tokenizers: text <-> ids. One model of tokenization (vocabulary + pre-tokenizer + algorithm + decoder)
 * with loaders that fill the vocabulary (GGUF; llama2.c's tokenizer.bin). Re-exports only.
 */

export { TokenType } from "./types.js";
export type { DecodeOptions, DecodeStream, EncodeOptions, Tokenizer, TokenizerKind, TokenTypeValue, VocabModel, Vocabulary } from "./types.js";
export { createTokenizer } from "./tokenizer.js";
export { tokenizerFromGguf, vocabularyFromGguf, type GgufMetadataLike } from "./load-gguf.js";
export { createLlama2cTokenizer, type Llama2cTokenizerData } from "./llama2c.js";
export { SUPPORTED_PRE_TOKENIZERS, preTokenize, preTokenizerFor, type PreTokenizer } from "./pretokenize.js";
