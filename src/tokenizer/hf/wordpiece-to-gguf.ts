/**
 * A WordPiece tokenizer.json (BERT) as GGUF `tokenizer.ggml.*` metadata, the way llama.cpp's converter writes
 * it (convert_hf_to_gguf.py BertModel.set_vocab with gguf-py's SpecialVocab):
 * - token_type_count: config.json's `type_vocab_size` (1 without it), first;
 * - model "bert"; tokens laid out by id over 0 .. max(highest id, vocabSize − 1), "[PAD<id>]" (unused) where
 *   no piece has the id; an added token is control (3) when `special` or when it looks special, else
 *   user-defined (4); vocabulary pieces are normal (1);
 * - the converter's "phantom space" form, which llama.cpp's WPM tokenizer expects: a control token stays as
 *   it is, a continuation "##ing" becomes "ing", every other piece a word start "▁piece";
 * - special ids and add flags as special-vocab.ts decides them.
 * `tokenizer.ggml.pre` is "default": the converter names it from a hash of its test string's ids, but
 * llama.cpp ignores it for "bert" vocabularies (WPM always pre-tokenizes the same way). Browser-safe.
 */

import { kv } from "../../formats/gguf/write.js";
import type { GgufKv } from "../../formats/gguf/types.js";
import { PeelError } from "../../util/errors.js";
import { specialVocabEntries } from "./special-vocab.js";
import { vocabTable } from "./to-gguf.js";

const CONTROL = 3;
type Json = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** True when the tokenizer.json's model is WordPiece. */
export function isWordPieceJson(root: unknown): boolean {
  return isObj(root) && isObj(root["model"]) && root["model"]["type"] === "WordPiece";
}

// the converter's does_token_look_special, for the shapes a WordPiece vocabulary has
const looksSpecial = (t: string): boolean => ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(t) || (t.startsWith("<|") && t.endsWith("|>"));

export function ggufVocabFromWordPiece(tokenizerJson: unknown, tokenizerConfig: unknown, modelConfig: unknown, vocabSize: number, file: string): Array<[string, GgufKv]> {
  if (!isWordPieceJson(tokenizerJson)) throw new PeelError("UNSUPPORTED", `${file}: expected a WordPiece tokenizer (BERT style)`);
  const root = tokenizerJson as Json;
  const model = root["model"] as Json;
  const prefix = typeof model["continuing_subword_prefix"] === "string" ? model["continuing_subword_prefix"] : "##";
  if (prefix !== "##") throw new PeelError("UNSUPPORTED", `${file}: model.continuing_subword_prefix is ${JSON.stringify(prefix)}; llama.cpp's "bert" vocabulary knows "##" only`);
  const { pieces, types } = vocabTable(root, model, vocabSize, looksSpecial, file);
  const n = pieces.length;
  // llama.cpp's WordPiece convention: a word start carries U+2581, a "##" continuation drops its prefix
  const tokens = pieces.map((piece, id) => {
    const text = piece ?? `[PAD${id}]`;
    return types[id] === CONTROL ? text : text.startsWith("##") ? text.slice(2) : `\u2581${text}`;
  });
  const mc = isObj(modelConfig) ? modelConfig : {};
  const typeCount = typeof mc["type_vocab_size"] === "number" ? mc["type_vocab_size"] : 1;
  return [
    ["tokenizer.ggml.token_type_count", kv.u32(typeCount)],
    ["tokenizer.ggml.model", kv.str("bert")],
    ["tokenizer.ggml.pre", kv.str("default")],
    ["tokenizer.ggml.tokens", kv.strArray(tokens)],
    ["tokenizer.ggml.token_type", kv.i32Array(types)],
    ...specialVocabEntries({ tokenizerJson, tokenizerConfig, modelConfig, nVocab: n }),
  ];
}
