/**
 * A trained BPE (tokenizer/train) as GGUF `tokenizer.ggml.*` metadata that llama.cpp and Peel's GGUF
 * loader (tokenizer/load-gguf.ts) both read the way the trainer's own tokenizer.json encodes:
 *  - "byte-level" → model "gpt2" with pre-tokenizer "gpt-2" (the GPT-2 regex the trainer split words with),
 *    merges "left right" in rank order, special tokens CONTROL, BOS = EOS = <|endoftext|>, no BOS added
 *    (GPT-2 adds none; llama.cpp's default for "gpt-2" is also no BOS, written out anyway).
 *  - "sentencepiece" → model "llama" (Llama 2 style): llama.cpp merges the adjacent pair whose joined text is
 *    the highest-scoring piece, so each merged piece scores minus the rank of the merge that made it first:
 *    earlier merges win, as in the trainer's merge order. <unk> 0 / <s> 1 / </s> 2, BOS added, "▁" prefix.
 * Known differences from tokenizer.json, all llama.cpp behaviour that Peel's GGUF tokenizer copies:
 *  - scores cannot say "this pair is not a merge": the score-ranked encoder joins any adjacent pair whose text
 *    is a piece, so a literal "<0x41>" in the text can become the byte piece; on the test corpus nothing else
 *    differed (a piece joinable from a pair other than its merge could, in principle);
 *  - llama.cpp promotes pieces that look like control tokens ("<|end|>", "<|im_end|>", "</s>", ...) to
 *    control/end-of-generation tokens by their text, so a learned piece with such a text stops generation;
 *  - the "gpt-2" pre-tokenizer turns on llama.cpp's clean-up of spaces before punctuation when decoding.
 */

import { kv } from "../../formats/gguf/write.js";
import type { GgufKv } from "../../formats/gguf/types.js";
import type { TrainedBpe } from "../../tokenizer/train/train-bpe.js";
import { bytePieceName } from "../../tokenizer/train/train-bpe.js";
import { TokenType } from "../../tokenizer/types.js";
import { PeelError } from "../../util/errors.js";

/** The byte-level kind's end-of-text token, used as BOS and EOS when present. */
export const END_OF_TEXT = "<|endoftext|>";

type Entries = Array<[string, GgufKv]>;

function idOf(t: TrainedBpe): Map<string, number> {
  const ids = new Map<string, number>();
  t.vocab.forEach((piece, id) => {
    if (ids.has(piece)) throw new PeelError("INVALID_ARGUMENT", `GGUF export: the vocabulary holds ${JSON.stringify(piece)} twice (ids ${ids.get(piece)} and ${id}); a GGUF vocabulary needs distinct pieces`);
    ids.set(piece, id);
  });
  return ids;
}

function byteLevel(t: TrainedBpe, ids: Map<string, number>): Entries {
  const specials = new Set(t.specialTokens);
  // Without an end-of-text token llama.cpp would fall back to id 11 as BOS/EOS and stop generating there.
  const eosText = specials.has(END_OF_TEXT) ? END_OF_TEXT : t.specialTokens[0];
  const eos = eosText === undefined ? undefined : ids.get(eosText);
  if (eos === undefined) {
    throw new PeelError("INVALID_ARGUMENT", `GGUF export: a byte-level tokenizer needs a special token to serve as end of text (e.g. ${END_OF_TEXT}); this one has none, and llama.cpp would treat token 11 as BOS/EOS`);
  }
  return [
    ["tokenizer.ggml.model", kv.str("gpt2")],
    ["tokenizer.ggml.pre", kv.str("gpt-2")],
    ["tokenizer.ggml.tokens", kv.strArray(t.vocab)],
    ["tokenizer.ggml.token_type", kv.i32Array(t.vocab.map((p) => (specials.has(p) ? TokenType.control : TokenType.normal)))],
    ["tokenizer.ggml.merges", kv.strArray(t.merges.map(([a, b]) => `${a} ${b}`))],
    ["tokenizer.ggml.bos_token_id", kv.u32(eos)],
    ["tokenizer.ggml.eos_token_id", kv.u32(eos)],
    ["tokenizer.ggml.add_bos_token", kv.bool(false)],
    ["tokenizer.ggml.add_eos_token", kv.bool(false)],
  ];
}

const need = (ids: Map<string, number>, piece: string): number => {
  const id = ids.get(piece);
  if (id === undefined) throw new PeelError("INVALID_ARGUMENT", `GGUF export: a sentencepiece tokenizer needs the piece ${JSON.stringify(piece)}, which this vocabulary lacks`);
  return id;
};

/**
 * Scores for score-ranked (SentencePiece-style) merging: each piece a merge makes gets -(1 + rank of the first
 * merge that makes it), so a higher score means an earlier merge. Pieces no merge makes (special, byte and
 * single-character pieces) score 0: the encoder only ever looks up the scores of joined pairs.
 */
export function mergeRankScores(t: TrainedBpe, ids: ReadonlyMap<string, number>): Float32Array {
  const scores = new Float32Array(t.vocab.length);
  const scored = new Set<number>();
  t.merges.forEach(([a, b], rank) => {
    const id = ids.get(a + b);
    if (id === undefined) throw new PeelError("INVALID_ARGUMENT", `GGUF export: merge ${rank} (${JSON.stringify(a)} + ${JSON.stringify(b)}) makes a piece the vocabulary lacks`);
    if (scored.has(id)) return;
    scored.add(id);
    scores[id] = -(1 + rank);
  });
  return scores;
}

function sentencePiece(t: TrainedBpe, ids: Map<string, number>): Entries {
  const unk = need(ids, "<unk>"), bos = need(ids, "<s>"), eos = need(ids, "</s>");
  const byteIds = new Set(Array.from({ length: 256 }, (_, b) => need(ids, bytePieceName(b))));
  const specials = new Set(t.specialTokens);
  const types = t.vocab.map((p, id) =>
    id === unk ? TokenType.unknown : specials.has(p) ? TokenType.control : byteIds.has(id) ? TokenType.byte : TokenType.normal);
  return [
    ["tokenizer.ggml.model", kv.str("llama")],
    ["tokenizer.ggml.tokens", kv.strArray(t.vocab)],
    ["tokenizer.ggml.scores", kv.f32Array(mergeRankScores(t, ids))],
    ["tokenizer.ggml.token_type", kv.i32Array(types)],
    ["tokenizer.ggml.unknown_token_id", kv.u32(unk)],
    ["tokenizer.ggml.bos_token_id", kv.u32(bos)],
    ["tokenizer.ggml.eos_token_id", kv.u32(eos)],
    ["tokenizer.ggml.add_bos_token", kv.bool(true)],
    ["tokenizer.ggml.add_eos_token", kv.bool(false)],
    ["tokenizer.ggml.add_space_prefix", kv.bool(true)],
  ];
}

/** The `tokenizer.ggml.*` metadata entries for a trained BPE, in the order llama.cpp's converter writes them. */
export function tokenizerGgufMetadata(t: TrainedBpe): Array<[string, GgufKv]> {
  const ids = idOf(t);
  if (t.kind === "byte-level") return byteLevel(t, ids);
  if (t.kind === "sentencepiece") return sentencePiece(t, ids);
  throw new PeelError("UNSUPPORTED", `GGUF export: tokenizer kind ${JSON.stringify(t.kind as string)} is not supported; supported: byte-level, sentencepiece`);
}
