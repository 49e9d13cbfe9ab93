/**
 * A byte-level BPE tokenizer.json (+ tokenizer_config.json) as GGUF `tokenizer.ggml.*` metadata, the way
 * llama.cpp's converter writes it (convert_hf_to_gguf.py `_set_vocab_gpt2` with gguf-py's SpecialVocab):
 * - tokens: `model.vocab` and `added_tokens` laid out by id, 0 .. max(highest id, vocabSize − 1); ids
 *   neither names are "[PAD<id>]" of type unused (5);
 * - token_type: normal (1) for vocabulary pieces; an added token is control (3) when `special` or when it
 *   "looks special" to the converter (<|...|>, <｜...｜>, <unused...>, <pad>, <mask>), else user-defined (4);
 * - merges as "a b" strings ([a, b] pairs joined by a space, spaces inside a half as U+0120);
 * - special ids, add-BOS/EOS and the chat template as special-vocab.ts decides them.
 * SentencePiece-style tokenizers (Llama 2, Gemma, Phi-3: a BPE over "▁" pieces with byte fallback, or
 * Unigram) are spm-to-gguf.ts's. Browser-safe (parsed JSON in).
 */

import { kv } from "../../formats/gguf/write.js";
import type { GgufKv } from "../../formats/gguf/types.js";
import { PeelError } from "../../util/errors.js";
import { specialVocabEntries } from "./special-vocab.js";

const NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5;
type Json = Readonly<Record<string, unknown>>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function looksSpecial(t: string): boolean {
  return ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(t) || (t.startsWith("<|") && t.endsWith("|>")) ||
    (t.startsWith("<｜") && t.endsWith("｜>")) || (t.startsWith("<unused") && t.endsWith(">"));
}

function merges(raw: unknown, file: string): string[] {
  if (!Array.isArray(raw)) throw new PeelError("FORMAT", `${file}: model.merges is not an array`);
  return raw.map((m: unknown, i) => {
    if (typeof m === "string") return m;
    if (Array.isArray(m) && m.length === 2 && m.every((p): p is string => typeof p === "string")) return m.map((p) => p.replaceAll(" ", "\u0120")).join(" ");
    throw new PeelError("FORMAT", `${file}: merge ${i} is neither "a b" nor [a, b]`);
  });
}

/** True when the tokenizer.json is byte-level BPE (a BPE model with a ByteLevel pre-tokenizer or decoder somewhere). */
export function isByteLevelJson(root: unknown): boolean {
  if (!isObj(root) || !isObj(root["model"]) || root["model"]["type"] !== "BPE") return false;
  return JSON.stringify([root["pre_tokenizer"] ?? null, root["decoder"] ?? null]).includes("\"ByteLevel\"");
}

/**
 * GGUF tokenizer metadata for a byte-level BPE tokenizer; `pre` is llama.cpp's pre-tokenizer name,
 * `modelConfig` the checkpoint's config.json (special ids it names).
 */
/**
 * A tokenizer.json's pieces by id (model.vocab, then added_tokens where the vocab has no piece) over at least
 * vocabSize ids, undefined where an id has none, and each id's GGUF token type as the converter assigns it:
 * unused for a gap, normal for a vocabulary piece, control for a special (or special-looking) added token,
 * user-defined for another added token. Shared by the byte-level and WordPiece converters.
 */
export function vocabTable(root: Json, model: Json, vocabSize: number, looksSpecial: (t: string) => boolean, file: string):
  { pieces: Array<string | undefined>; types: Int32Array } {
  if (!isObj(model["vocab"])) throw new PeelError("FORMAT", `${file}: model.vocab is not an object`);
  const byId: (string | undefined)[] = [];
  for (const [piece, id] of Object.entries(model["vocab"])) if (typeof id === "number") byId[id] = piece;
  const added = (Array.isArray(root["added_tokens"]) ? root["added_tokens"] : []).flatMap((a: unknown) =>
    isObj(a) && typeof a["id"] === "number" && typeof a["content"] === "string" ? [{ id: a["id"], content: a["content"], special: a["special"] === true }] : []);
  const addedById = new Map(added.map((a) => [a.id, a]));
  for (const a of added) byId[a.id] ??= a.content;
  const n = Math.max(byId.length, vocabSize);
  const pieces = Array.from({ length: n }, (_, id) => byId[id]);
  const types = new Int32Array(n);
  for (let id = 0; id < n; id++) {
    const piece = pieces[id], a = addedById.get(id);
    types[id] = piece === undefined ? UNUSED : a === undefined ? NORMAL : a.special || looksSpecial(piece) ? CONTROL : USER_DEFINED;
  }
  return { pieces, types };
}

export function ggufVocabFromHfJson(tokenizerJson: unknown, tokenizerConfig: unknown, modelConfig: unknown, pre: string, vocabSize: number, file: string): Array<[string, GgufKv]> {
  if (!isObj(tokenizerJson) || !isObj(tokenizerJson["model"])) throw new PeelError("FORMAT", `${file}: no "model" object`);
  const model = tokenizerJson["model"];
  if (!isByteLevelJson(tokenizerJson)) {
    throw new PeelError("UNSUPPORTED", `${file}: expected a byte-level BPE tokenizer (Llama 3, Qwen, GPT-2 style); this one is ${String(model["type"])} without a ByteLevel pre-tokenizer or decoder`);
  }
  const { pieces, types } = vocabTable(tokenizerJson, model, vocabSize, looksSpecial, file);
  const tokens = pieces.map((piece, id) => piece ?? `[PAD${id}]`);
  const n = pieces.length;
  const md: Array<[string, GgufKv]> = [
    ["tokenizer.ggml.model", kv.str("gpt2")],
    ["tokenizer.ggml.pre", kv.str(pre)],
    ["tokenizer.ggml.tokens", kv.strArray(tokens)],
    ["tokenizer.ggml.token_type", kv.i32Array(types)],
    ["tokenizer.ggml.merges", kv.strArray(merges(model["merges"], file))],
  ];
  md.push(...specialVocabEntries({ tokenizerJson, tokenizerConfig, modelConfig, nVocab: n }));
  return md;
}
