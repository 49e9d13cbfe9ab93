/**
 * A T5 checkpoint's SentencePiece Unigram model (spiece.model or tokenizer.model) as the GGUF `t5` tokenizer
 * keys llama.cpp's converter writes (conversion/t5.py): every id up to config.json's vocab_size, the model's
 * pieces with their scores and types and the rest "[PAD{i}]" unused pieces; the dummy prefix and whitespace
 * flags and the precompiled charsmap from its normalizer; special ids from config.json (eos, pad) and the
 * model's unknown piece. It does not read tokenizer.json (the converter needs the .model file too).
 */

import { kv } from "../../formats/gguf/write.js";
import type { GgufKv } from "../../formats/gguf/types.js";
import { PeelError } from "../../util/errors.js";
import type { SpmModelProto } from "../spm-model-proto.js";
import { TokenType } from "../types.js";

export function ggufVocabFromT5Spm(proto: SpmModelProto, modelConfig: Readonly<Record<string, unknown>>, vocabSize: number, file: string): Array<[string, GgufKv]> {
  if (proto.modelType !== "unigram") {
    throw new PeelError("UNSUPPORTED", `${file}: a SentencePiece ${proto.modelType} model; a T5 checkpoint converts with a Unigram spiece.model`);
  }
  const n = Math.max(vocabSize, proto.pieces.length);
  const tokens = Array.from({ length: n }, (_, i) => `[PAD${i}]`);
  const scores = new Float32Array(n).fill(-10000);
  const types = new Int32Array(n).fill(TokenType.unused);
  proto.pieces.forEach((p, i) => { tokens[i] = p.piece; scores[i] = p.score; types[i] = p.type; });
  const id = (key: string): Array<[string, GgufKv]> => {
    const v = modelConfig[key];
    return typeof v === "number" && Number.isInteger(v) && v >= 0 && v < n ? [[`tokenizer.ggml.${key === "eos_token_id" ? "eos_token_id" : "padding_token_id"}`, kv.u32(v)]] : [];
  };
  const unk = proto.pieces.findIndex((p) => p.type === TokenType.unknown);
  return [
    ["tokenizer.ggml.model", kv.str("t5")],
    ["tokenizer.ggml.pre", kv.str("default")],
    ["tokenizer.ggml.tokens", kv.strArray(tokens)],
    ["tokenizer.ggml.scores", kv.f32Array(scores)],
    ["tokenizer.ggml.token_type", kv.i32Array(types)],
    ["tokenizer.ggml.add_space_prefix", kv.bool(proto.normalizer.addDummyPrefix)],
    ["tokenizer.ggml.remove_extra_whitespaces", kv.bool(proto.normalizer.removeExtraWhitespaces)],
    ...(proto.normalizer.charsmap.length > 0 ? [["tokenizer.ggml.precompiled_charsmap", kv.u8Array(proto.normalizer.charsmap)] as [string, GgufKv]] : []),
    ...id("eos_token_id"),
    ...(unk >= 0 ? [["tokenizer.ggml.unknown_token_id", kv.u32(unk)] as [string, GgufKv]] : []),
    ...id("pad_token_id"),
  ];
}
