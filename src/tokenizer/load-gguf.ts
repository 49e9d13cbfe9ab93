/**
 * Loads a tokenizer from GGUF metadata (the `tokenizer.ggml.*` keys), with llama.cpp's defaults: SPM
 * ("llama") adds BOS and a space prefix, byte-level BPE ("gpt2") adds BOS only where the pre-tokenizer
 * or the file says so, BERT adds [CLS]/[SEP]. Metadata values enter as `unknown` and are checked here.
 * Reading the GGUF file itself is formats/gguf's job.
 */

import { PeelError } from "../util/errors.js";
import { preTokenizerFor } from "./pretokenize.js";
import { createTokenizer } from "./tokenizer.js";
import type { Tokenizer, VocabModel, Vocabulary } from "./types.js";

/** The shape of formats/gguf metadata this loader needs: key -> { value }. */
export type GgufMetadataLike = ReadonlyMap<string, { readonly value: unknown }>;

const K = {
  model: "tokenizer.ggml.model",
  pre: "tokenizer.ggml.pre",
  tokens: "tokenizer.ggml.tokens",
  scores: "tokenizer.ggml.scores",
  types: "tokenizer.ggml.token_type",
  merges: "tokenizer.ggml.merges",
  bos: "tokenizer.ggml.bos_token_id",
  eos: "tokenizer.ggml.eos_token_id",
  eot: "tokenizer.ggml.eot_token_id",
  eom: "tokenizer.ggml.eom_token_id",
  unk: "tokenizer.ggml.unknown_token_id",
  sep: "tokenizer.ggml.seperator_token_id", // sic: the GGUF spelling
  pad: "tokenizer.ggml.padding_token_id",
  addBos: "tokenizer.ggml.add_bos_token",
  addEos: "tokenizer.ggml.add_eos_token",
  addSep: "tokenizer.ggml.add_sep_token",
  addSpacePrefix: "tokenizer.ggml.add_space_prefix",
  lowercase: "tokenizer.ggml.normalizer.lowercase",
  stripAccents: "tokenizer.ggml.normalizer.strip_accents",
  removeExtraWs: "tokenizer.ggml.remove_extra_whitespaces",
  charsmap: "tokenizer.ggml.precompiled_charsmap",
  name: "general.name",
} as const;

const MODELS: readonly VocabModel[] = ["llama", "gpt2", "bert", "t5"];

export function tokenizerFromGguf(metadata: GgufMetadataLike): Tokenizer {
  return createTokenizer(vocabularyFromGguf(metadata));
}

function bad(key: string, expected: string, found: unknown): PeelError {
  const what = found === undefined ? "nothing" : Array.isArray(found) ? "an array" : typeof found;
  return new PeelError("TOKENIZER", `GGUF tokenizer: ${key} should be ${expected}, found ${what}`);
}

function arrayValues(v: unknown): unknown {
  return typeof v === "object" && v !== null && "values" in v ? (v as { values: unknown }).values : v;
}

function optString(md: GgufMetadataLike, key: string): string | undefined {
  const v = md.get(key)?.value;
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw bad(key, "a string", v);
  return v;
}

function optBool(md: GgufMetadataLike, key: string): boolean | undefined {
  const v = md.get(key)?.value;
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw bad(key, "a boolean", v);
  return v;
}

function optInt(md: GgufMetadataLike, key: string): number | undefined {
  const v = md.get(key)?.value;
  if (v === undefined) return undefined;
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) throw bad(key, "an integer", v);
  return n;
}

function optStringArray(md: GgufMetadataLike, key: string): string[] | undefined {
  const entry = md.get(key);
  if (entry === undefined) return undefined;
  const vals = arrayValues(entry.value);
  if (!Array.isArray(vals) || !vals.every((s): s is string => typeof s === "string")) throw bad(key, "an array of strings", vals);
  return vals;
}

function optNumberArray(md: GgufMetadataLike, key: string, length: number): ArrayLike<number> | undefined {
  const entry = md.get(key);
  if (entry === undefined) return undefined;
  const vals = arrayValues(entry.value);
  const ok = ArrayBuffer.isView(vals) && !(vals instanceof DataView) && !(vals instanceof BigInt64Array) && !(vals instanceof BigUint64Array);
  const arr = ok ? (vals as unknown as ArrayLike<number>) : Array.isArray(vals) && vals.every((x) => typeof x === "number") ? (vals as number[]) : undefined;
  if (arr === undefined) throw bad(key, "an array of numbers", vals);
  if (arr.length !== length) {
    throw new PeelError("TOKENIZER", `GGUF tokenizer: ${key} has ${arr.length} entries but ${K.tokens} has ${length}; they must match one to one`);
  }
  return arr;
}

/** Reads the vocabulary record from GGUF metadata, applying llama.cpp's per-model defaults. */
export function vocabularyFromGguf(md: GgufMetadataLike): Vocabulary {
  const modelName = optString(md, K.model);
  if (modelName === undefined) throw new PeelError("TOKENIZER", `GGUF tokenizer: ${K.model} is missing; the file has no tokenizer (is it a vocab-less model?)`);
  const model = MODELS.find((m) => m === modelName);
  if (model === undefined) {
    throw new PeelError("UNSUPPORTED", `GGUF tokenizer: model ${JSON.stringify(modelName)} is not supported; supported: ${MODELS.join(", ")}`);
  }
  const pieces = optStringArray(md, K.tokens);
  if (pieces === undefined || pieces.length === 0) throw new PeelError("TOKENIZER", `GGUF tokenizer: ${K.tokens} is missing or empty; a tokenizer needs its vocabulary`);
  const n = pieces.length;
  const scoreArr = optNumberArray(md, K.scores, n);
  const typeArr = optNumberArray(md, K.types, n);
  const merges = optStringArray(md, K.merges);
  if (model === "gpt2" && merges === undefined) throw new PeelError("TOKENIZER", `GGUF tokenizer: ${K.merges} is missing; a "gpt2" (byte-level BPE) vocabulary needs its merges`);
  const pre = optString(md, K.pre);
  // Checked here so an unknown pre-tokenizer fails at load, listing the supported ones.
  const addBosDefault = model === "gpt2" ? preTokenizerFor(pre).addBosDefault : model !== "t5"; // llama.cpp's UGM: EOS, no BOS
  const defaults = DEFAULT_IDS[model];
  const id = (key: string, dflt: number | undefined): number | undefined => {
    const base = dflt !== undefined && dflt < n ? dflt : undefined;
    const v = optInt(md, key);
    return v !== undefined && v >= 0 && v < n ? v : base;
  };
  return {
    model,
    pre,
    pieces,
    scores: scoreArr ? Float32Array.from(scoreArr) : undefined,
    types: typeArr ? Int32Array.from(typeArr) : new Int32Array(n).fill(1),
    merges,
    bosId: id(K.bos, defaults.bos),
    eosId: id(K.eos, defaults.eos),
    eotId: id(K.eot, undefined),
    eomId: id(K.eom, undefined),
    unkId: id(K.unk, defaults.unk),
    padId: id(K.pad, defaults.pad),
    sepId: id(K.sep, defaults.sep),
    addBos: optBool(md, K.addBos) ?? addBosDefault,
    addEos: optBool(md, K.addEos) ?? model === "t5",
    addSep: optBool(md, K.addSep) ?? model === "bert",
    addSpacePrefix: optBool(md, K.addSpacePrefix) ?? model === "llama",
    lowercase: optBool(md, K.lowercase) ?? true,
    stripAccents: optBool(md, K.stripAccents) ?? optBool(md, K.lowercase) ?? true,
    modelName: optString(md, K.name),
    ...(model === "t5" ? { charsmap: optBytes(md, K.charsmap), removeExtraWhitespaces: optBool(md, K.removeExtraWs) ?? false } : {}),
  };
}

/** A byte array (UINT8 or INT8 elements, as llama.cpp accepts for the charsmap); empty when absent. */
function optBytes(md: GgufMetadataLike, key: string): Uint8Array {
  const entry = md.get(key);
  if (entry === undefined) return new Uint8Array(0);
  const vals = arrayValues(entry.value);
  if (vals instanceof Uint8Array) return vals;
  if (vals instanceof Int8Array) return new Uint8Array(vals.buffer, vals.byteOffset, vals.byteLength);
  throw bad(key, "an array of bytes (UINT8 or INT8)", vals);
}

interface DefaultIds { readonly bos?: number; readonly eos?: number; readonly unk?: number; readonly sep?: number; readonly pad?: number }

/** llama.cpp's special-token ids for files that do not name them. */
const DEFAULT_IDS: Readonly<Record<VocabModel, DefaultIds>> = {
  llama: { bos: 1, eos: 2, unk: 0 },
  gpt2: { bos: 11, eos: 11 },
  bert: { bos: 101, unk: 100, sep: 102, pad: 0 },
  t5: { eos: 1, unk: 2, pad: 0 },
};
