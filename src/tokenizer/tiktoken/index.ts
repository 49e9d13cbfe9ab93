/**
 * tiktoken support: rank files, the OpenAI encodings' patterns and special tokens, and the tokenizer.
 * Re-exports only (the Node file loader is load.node.ts, exported by the Node entry).
 */

export { parseTiktokenRanks, type TiktokenRanks } from "./ranks.js";
export { TIKTOKEN_ENCODING_NAMES, patternFromTiktoken, tiktokenEncodingSpec, type TiktokenEncodingName, type TiktokenEncodingSpec } from "./encodings.js";
export { createTiktokenTokenizer, type TiktokenOptions, type TiktokenTokenizer } from "./tokenizer.js";
