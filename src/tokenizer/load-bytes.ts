/**
 * A tokenizer from a file's bytes, wherever they came from (a file dropped on a page, a fetch, a Node
 * read): a GGUF file's vocabulary, a Hugging Face tokenizer.json or a SentencePiece Unigram .model. Browser-safe; the Node loader that also
 * reads .tiktoken and llama2.c files by path is load-file.node.ts.
 */

import { bytesSource } from "../formats/byte-source.js";
import { readGgufHeader } from "../formats/gguf/read.js";
import { PeelError } from "../util/errors.js";
import { tokenizerFromHfJson } from "./hf/load-tokenizer-json.js";
import { tokenizerFromGguf } from "./load-gguf.js";
import { tokenizerFromSpmModel } from "./load-spm-model.js";
import type { Tokenizer } from "./types.js";

export async function tokenizerFromBytes(bytes: Uint8Array, name: string, tokenizerConfig?: unknown): Promise<Tokenizer> {
  if (bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === "GGUF") {
    return tokenizerFromGguf((await readGgufHeader(bytesSource(bytes, name))).metadata);
  }
  const text = new TextDecoder().decode(bytes).trimStart();
  // a SentencePiece .model: a protobuf whose first field is a piece (field 1, length-delimited: byte 0x0a)
  if (!text.startsWith("{") && (name.endsWith(".model") || bytes[0] === 0x0a)) return tokenizerFromSpmModel(bytes, name);
  if (!text.startsWith("{")) {
    throw new PeelError("UNSUPPORTED", `${name}: not a tokenizer file Peel reads here; expected a GGUF file, a Hugging Face tokenizer.json or a SentencePiece Unigram .model`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PeelError("TOKENIZER", `${name}: not valid JSON (${(e as Error).message}); expected a Hugging Face tokenizer.json`);
  }
  return tokenizerFromHfJson(json, tokenizerConfig);
}
