/**
 * A SentencePiece-style tokenizer (Llama 2, Mistral v0.1, Gemma, Phi-3) as GGUF `tokenizer.ggml.*` metadata
 * of model "llama", the way llama.cpp's converter writes it (`_create_vocab_sentencepiece`), from either
 * source a checkpoint folder may have:
 * - tokenizer.model (preferred, as the converter prefers it): every piece with its own score; type unknown,
 *   control, unused or byte as the proto says, anything else (user-defined included) normal.
 * - tokenizer.json whose model is BPE over "▁" pieces with byte fallback, or Unigram. Unigram pieces carry
 *   their scores. A BPE tokenizer.json has none, and llama.cpp's own tokenizer.json route (LlamaHfVocab)
 *   writes -1000 for every piece, which its score-ranked merging cannot tokenize like the file (equal scores
 *   merge leftmost first). So, as SentencePiece's BPE ranks pieces, each piece a merge makes scores minus
 *   (1 + the rank of the first merge that makes it), earlier merges winning; pieces no merge makes score
 *   below every merge (llama.cpp may still join them, the file never does). "<0xXX>" pieces are bytes, the
 *   unk token unknown.
 * Then, both ways: ids up to the model's vocab_size, the rest "[PAD<id>]" unused (score -10000); added tokens
 * (tokenizer_config.json's added_tokens_decoder, else tokenizer.json's added_tokens) score -1000 and become
 * control when special or special-looking, else user-defined with "▁" written as a space; Phi-3's converter
 * instead makes every non-special added token user-defined, from both files. Special ids, add-BOS/EOS and the
 * chat template come from special-vocab.ts. Browser-safe (parsed files in).
 */

import { kv } from "../../formats/gguf/write.js";
import type { GgufKv } from "../../formats/gguf/types.js";
import { PeelError } from "../../util/errors.js";
import { TokenType } from "../types.js";
import type { SpmModelProto } from "../spm-model-proto.js";
import { specialVocabEntries } from "./special-vocab.js";

type Json = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A family's departures from the converter's default SentencePiece vocabulary (architectures/hf.ts). */
export interface SpmFamilyRules {
  /** "phi3": Phi-3's converter's added-token rule (non-special → user-defined, tokenizer.json's too). */
  readonly addedTokens?: "default" | "phi3";
  /** Written as tokenizer.ggml.add_space_prefix (Gemma: false); otherwise tokenizer_config's add_prefix_space. */
  readonly addSpacePrefix?: boolean;
  /** Special ids the family's converter sets itself (Gemma's end-of-turn 107). */
  readonly fixedIds?: Readonly<Record<string, number>>;
}

export interface SpmSources {
  /** tokenizer.model, parsed; undefined: build from tokenizer.json. */
  readonly proto: SpmModelProto | undefined;
  readonly tokenizerJson: unknown;
  readonly tokenizerConfig: unknown;
  /** added_tokens.json (token → id), when the folder has one. */
  readonly addedTokensJson: unknown;
  /** config.json of the checkpoint. */
  readonly modelConfig: unknown;
  readonly rules: SpmFamilyRules;
  /** Names the tokenizer file in errors. */
  readonly file: string;
}

interface Table { tokens: string[]; scores: Float32Array; types: Int32Array }

function looksSpecial(t: string): boolean {
  return ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(t) || (t.startsWith("<|") && t.endsWith("|>")) ||
    (t.startsWith("<｜") && t.endsWith("｜>")) || (t.startsWith("<unused") && t.endsWith(">"));
}

function emptyTable(n: number): Table {
  return { tokens: Array.from({ length: n }, (_, i) => `[PAD${i}]`), scores: new Float32Array(n).fill(-10000), types: new Int32Array(n).fill(TokenType.unused) };
}

function fromProto(proto: SpmModelProto, n: number): Table {
  const t = emptyTable(n);
  const kept: ReadonlySet<number> = new Set([TokenType.unknown, TokenType.control, TokenType.unused, TokenType.byte]);
  proto.pieces.slice(0, n).forEach((p, id) => {
    t.tokens[id] = p.piece;
    t.scores[id] = p.score;
    t.types[id] = kept.has(p.type) ? p.type : TokenType.normal; // the converter has no user-defined check here
  });
  return t;
}

const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;

/** The converter's base vocabulary, read from a SentencePiece-style tokenizer.json model. */
function fromJson(model: Json, n: number, file: string): Table {
  const t = emptyTable(n);
  const byteFallback = model["byte_fallback"] === true;
  const typeOf = (piece: string, id: number): number =>
    byteFallback && BYTE_PIECE.test(piece) ? TokenType.byte : (model["unk_token"] === piece || model["unk_id"] === id) ? TokenType.unknown : TokenType.normal;
  if (model["type"] === "Unigram") {
    if (!Array.isArray(model["vocab"])) throw new PeelError("FORMAT", `${file}: model.vocab of a Unigram model must be an array of [piece, score]`);
    model["vocab"].slice(0, n).forEach((e: unknown, id) => {
      if (!Array.isArray(e) || typeof e[0] !== "string" || typeof e[1] !== "number") throw new PeelError("FORMAT", `${file}: model.vocab[${id}] is not [piece, score]`);
      t.tokens[id] = e[0];
      t.scores[id] = e[1];
      t.types[id] = typeOf(e[0], id);
    });
    return t;
  }
  if (!isObj(model["vocab"])) throw new PeelError("FORMAT", `${file}: model.vocab is not an object`);
  const merges = model["merges"];
  if (!Array.isArray(merges)) throw new PeelError("FORMAT", `${file}: model.merges is not an array`);
  const idOf = new Map<string, number>();
  for (const [piece, id] of Object.entries(model["vocab"])) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) throw new PeelError("FORMAT", `${file}: model.vocab["${piece}"] is not a token id`);
    idOf.set(piece, id);
    if (id >= n) continue;
    t.tokens[id] = piece;
    t.scores[id] = -(merges.length + 1); // below every merge: no merge makes this piece
    t.types[id] = typeOf(piece, id);
  }
  const scored = new Set<number>();
  merges.forEach((m: unknown, rank) => {
    const pair = typeof m === "string" ? m.split(" ") : m;
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
      throw new PeelError("FORMAT", `${file}: model.merges[${rank}] is neither "a b" nor [a, b]`);
    }
    const id = idOf.get(pair[0] + pair[1]);
    if (id === undefined) throw new PeelError("FORMAT", `${file}: model.merges[${rank}] makes ${JSON.stringify(pair[0] + pair[1])}, which model.vocab lacks`);
    if (id < n && !scored.has(id)) { scored.add(id); t.scores[id] = -(1 + rank); }
  });
  return t;
}

interface Added { readonly id: number; readonly content: string; readonly special: boolean }

function addedTokens(v: unknown): Added[] {
  if (Array.isArray(v)) {
    return v.flatMap((a: unknown) => isObj(a) && typeof a["id"] === "number" && typeof a["content"] === "string" ? [{ id: a["id"], content: a["content"], special: a["special"] === true }] : []);
  }
  if (!isObj(v)) return [];
  return Object.entries(v).flatMap(([id, a]) => isObj(a) && typeof a["content"] === "string" ? [{ id: Number(id), content: a["content"], special: a["special"] === true }] : []);
}

/** The converter's passes over added tokens: added_tokens.json, then the tokenizer's own list. */
function applyAdded(t: Table, src: SpmSources): void {
  const n = t.tokens.length;
  const put = (id: number, text: string, type: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= n) return; // the converter skips ids past vocab_size
    t.tokens[id] = text;
    t.scores[id] = -1000;
    t.types[id] = type;
  };
  if (isObj(src.addedTokensJson)) for (const [text, id] of Object.entries(src.addedTokensJson)) if (typeof id === "number") put(id, text, TokenType.userDefined);
  const config = isObj(src.tokenizerConfig) ? src.tokenizerConfig : {};
  const json = isObj(src.tokenizerJson) ? src.tokenizerJson["added_tokens"] : undefined;
  if (src.rules.addedTokens === "phi3") {
    for (const a of [...addedTokens(config["added_tokens_decoder"]), ...addedTokens(json)]) put(a.id, a.content, a.special ? TokenType.control : TokenType.userDefined);
    return;
  }
  const list = config["added_tokens_decoder"] !== undefined || src.proto !== undefined ? addedTokens(config["added_tokens_decoder"]) : addedTokens(json);
  for (const a of list) {
    if (a.special || looksSpecial(a.content)) put(a.id, a.content, TokenType.control);
    else put(a.id, a.content.replaceAll("\u2581", " "), TokenType.userDefined); // llama.cpp matches user-defined text before "▁" escaping
  }
}

/** Whether a tokenizer.json model is SentencePiece-style: Unigram, or BPE with byte fallback. */
export function isSentencePieceJson(tokenizerJson: unknown): boolean {
  const model = isObj(tokenizerJson) ? tokenizerJson["model"] : undefined;
  return isObj(model) && (model["type"] === "Unigram" || (model["type"] === "BPE" && model["byte_fallback"] === true));
}

/** GGUF tokenizer metadata for a SentencePiece-style tokenizer; `vocabSize` is config.json's (the embedding rows). */
export function ggufVocabFromSpm(src: SpmSources, vocabSize: number | undefined): Array<[string, GgufKv]> {
  let table: Table;
  if (src.proto !== undefined) table = fromProto(src.proto, vocabSize ?? src.proto.pieces.length);
  else {
    const model = isObj(src.tokenizerJson) ? src.tokenizerJson["model"] : undefined;
    if (!isObj(model)) throw new PeelError("FORMAT", `${src.file}: no "model" object`);
    if (!isSentencePieceJson(src.tokenizerJson)) {
      throw new PeelError("UNSUPPORTED", `${src.file}: model.type is ${JSON.stringify(model["type"])}${model["type"] === "BPE" ? " without byte_fallback" : ""}; ` +
        `a SentencePiece-style tokenizer.json is Unigram or BPE with byte fallback (or pass the folder's tokenizer.model)`);
    }
    table = fromJson(model, vocabSize ?? jsonVocabSize(src.tokenizerJson as Json, model), src.file);
  }
  applyAdded(table, src);
  const md: Array<[string, GgufKv]> = [
    ["tokenizer.ggml.model", kv.str("llama")],
    ["tokenizer.ggml.pre", kv.str("default")],
    ["tokenizer.ggml.tokens", kv.strArray(table.tokens)],
    ["tokenizer.ggml.scores", kv.f32Array(table.scores)],
    ["tokenizer.ggml.token_type", kv.i32Array(table.types)],
    ...specialVocabEntries({ tokenizerJson: src.tokenizerJson, tokenizerConfig: src.tokenizerConfig, modelConfig: src.modelConfig, nVocab: table.tokens.length, ...(src.rules.fixedIds !== undefined ? { fixedIds: src.rules.fixedIds } : {}) }),
  ];
  const prefix = src.rules.addSpacePrefix ?? (isObj(src.tokenizerConfig) ? src.tokenizerConfig["add_prefix_space"] : undefined);
  if (typeof prefix === "boolean") md.push(["tokenizer.ggml.add_space_prefix", kv.bool(prefix)]);
  return md;
}

/** Tokens a tokenizer.json holds when config.json gives no vocab_size: one past its highest id. */
function jsonVocabSize(root: Json, model: Json): number {
  let max = Array.isArray(model["vocab"]) ? model["vocab"].length - 1 : -1;
  if (isObj(model["vocab"])) for (const id of Object.values(model["vocab"])) if (typeof id === "number" && id > max) max = id;
  for (const a of addedTokens(root["added_tokens"])) max = Math.max(max, a.id);
  return max + 1;
}
