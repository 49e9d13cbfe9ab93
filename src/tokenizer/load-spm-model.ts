/**
 * A tokenizer straight from a SentencePiece Unigram model file (`spiece.model`: T5, Flan-T5, ALBERT, XLNet),
 * encoding as the SentencePiece library does: its normalizer (the precompiled charsmap, dummy prefix,
 * whitespace rules; ugm.ts) and its Viterbi scoring (float32 path scores, user-defined pieces matched in the
 * text). Like SentencePiece's own `encode`, it adds no BOS or EOS (Hugging Face's T5Tokenizer appends "</s>";
 * a GGUF made by llama.cpp's converter says add_eos). BPE model files are refused: Peel reads those through
 * `peel convert` or their tokenizer.json. Browser-safe (bytes in).
 */

import { PeelError } from "../util/errors.js";
import { readSpmModelProto } from "./spm-model-proto.js";
import { createTokenizer } from "./tokenizer.js";
import { TokenType, type Tokenizer } from "./types.js";

/**
 * `addEos`: append the end-of-sequence token as Hugging Face's T5Tokenizer does (default false, as SentencePiece's
 * encode); `eosId`: that token when it is not the model's "</s>" (a config.json's eos_token_id).
 */
export function tokenizerFromSpmModel(bytes: Uint8Array, file: string, opts: { readonly addEos?: boolean; readonly eosId?: number } = {}): Tokenizer {
  const proto = readSpmModelProto(bytes, file);
  if (proto.modelType !== "unigram") {
    throw new PeelError("UNSUPPORTED", `${file}: a SentencePiece ${proto.modelType} model; Peel reads Unigram .model files directly (BPE ones through their tokenizer.json or peel convert)`);
  }
  if (!proto.normalizer.escapeWhitespaces) {
    throw new PeelError("UNSUPPORTED", `${file}: normalizer_spec.escape_whitespaces is false; Peel's Unigram tokenizer always writes spaces as "\u2581"`);
  }
  const pieces = proto.pieces.map((p) => p.piece);
  const idOf = (text: string, type: number): number | undefined => {
    const id = proto.pieces.findIndex((p) => p.piece === text && p.type === type);
    return id < 0 ? undefined : id;
  };
  const unk = proto.pieces.findIndex((p) => p.type === TokenType.unknown);
  return createTokenizer({
    model: "t5",
    pre: undefined,
    pieces,
    scores: Float32Array.from(proto.pieces, (p) => p.score),
    types: Int32Array.from(proto.pieces, (p) => p.type),
    merges: undefined,
    bosId: idOf("<s>", TokenType.control),
    eosId: opts.eosId !== undefined && opts.eosId >= 0 && opts.eosId < pieces.length ? opts.eosId : idOf("</s>", TokenType.control),
    eotId: undefined,
    eomId: undefined,
    unkId: unk < 0 ? undefined : unk,
    padId: idOf("<pad>", TokenType.control),
    sepId: undefined,
    addBos: false,
    addEos: opts.addEos ?? false,
    addSep: false,
    addSpacePrefix: proto.normalizer.addDummyPrefix,
    lowercase: false,
    stripAccents: false,
    modelName: undefined,
    charsmap: proto.normalizer.charsmap,
    removeExtraWhitespaces: proto.normalizer.removeExtraWhitespaces,
    sentencePiece: true,
  });
}
