/**
 * Node helper: loads a tokenizer from a file, choosing the loader by content and name — a GGUF file (its
 * `tokenizer.ggml.*` metadata; tensors are not read), a Hugging Face tokenizer.json (with the
 * tokenizer_config.json beside it when there is one), a tiktoken rank file (`.tiktoken`; the encoding's
 * pattern and special tokens come from its name, e.g. cl100k_base.tiktoken, or from `encoding`), or a llama2.c
 * tokenizer.bin (`.bin`). Browser code uses the loaders directly.
 */

import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { openFileSource } from "../formats/byte-source.node.js";
import { readGgufHeader } from "../formats/gguf/read.js";
import { PeelError } from "../util/errors.js";
import { tokenizerFromHfJson } from "./hf/load-tokenizer-json.js";
import { tokenizerFromSpmModel } from "./load-spm-model.js";
import { tokenizerFromGguf } from "./load-gguf.js";
import { readLlama2cTokenizer } from "../formats/llama2c/tokenizer-bin.js";
import { createLlama2cTokenizer } from "./llama2c.js";
import { loadTiktokenFile } from "./tiktoken/load.node.js";
import { TIKTOKEN_ENCODING_NAMES } from "./tiktoken/encodings.js";
import type { Tokenizer } from "./types.js";

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new PeelError("IO", `cannot read ${path}: ${code === "ENOENT" ? "no such file" : String(e)}`, { cause: e });
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new PeelError("TOKENIZER", `${path}: not valid JSON (${(e as Error).message}); expected a Hugging Face tokenizer.json`);
  }
}

/** The tokenizer_config.json next to `path`, if present and readable. */
async function siblingConfig(path: string): Promise<unknown> {
  try {
    return parseJson(await readFile(join(dirname(path), "tokenizer_config.json"), "utf8"), "tokenizer_config.json");
  } catch {
    return undefined;
  }
}

export interface LoadTokenizerFileOptions {
  /** For .tiktoken rank files: the encoding whose pattern and special tokens apply (default: from the file name). */
  readonly encoding?: string;
}

/** The tiktoken encoding a rank file belongs to, from the option or the file name. */
function tiktokenEncoding(path: string, given: string | undefined): string {
  if (given !== undefined) return given;
  const base = basename(path).replace(/\.tiktoken$/, "");
  const known = TIKTOKEN_ENCODING_NAMES.find((n) => base === n || base.endsWith(`${n}`));
  if (known === undefined) {
    throw new PeelError("INVALID_ARGUMENT", `${path}: a tiktoken rank file does not say which split pattern it uses; name the encoding (one of ${TIKTOKEN_ENCODING_NAMES.join(", ")}), e.g. --encoding cl100k_base`);
  }
  return known;
}

/** Loads a tokenizer.json (HF), a .gguf file's vocabulary, a SentencePiece Unigram .model, a .tiktoken rank file or a llama2.c tokenizer.bin. */
export async function loadTokenizerFile(path: string, opts: LoadTokenizerFileOptions = {}): Promise<Tokenizer> {
  if (path.endsWith(".tiktoken") || opts.encoding !== undefined) return loadTiktokenFile(path, { encodingName: tiktokenEncoding(path, opts.encoding) });
  if (path.endsWith(".bin")) {
    const bytes = await readBytes(path);
    try {
      return createLlama2cTokenizer(readLlama2cTokenizer(bytes, undefined, path));
    } catch (e) {
      if (!(e instanceof PeelError) || (e.code !== "FORMAT" && e.code !== "TOKENIZER")) throw e;
      throw new PeelError("UNSUPPORTED", `${path}: not a tokenizer file Peel knows (read as a llama2.c tokenizer.bin: ${e.message}); ` +
        "expected a GGUF file, a Hugging Face tokenizer.json, a .tiktoken rank file or a llama2.c tokenizer.bin");
    }
  }
  const source = await openFileSource(path);
  try {
    const head = source.size >= 4 ? await source.read(0, 4) : new Uint8Array(0);
    if (String.fromCharCode(...head) === "GGUF") return tokenizerFromGguf((await readGgufHeader(source)).metadata);
  } finally {
    await source.close();
  }
  const bytes = await readBytes(path);
  const text = new TextDecoder().decode(bytes).trimStart();
  if (text.startsWith("{")) return tokenizerFromHfJson(parseJson(text, path), await siblingConfig(path));
  if (path.endsWith(".model")) return tokenizerFromSpmModel(bytes, path);
  throw new PeelError("UNSUPPORTED", `${path}: not a tokenizer file Peel knows; expected a GGUF file, a Hugging Face tokenizer.json, a SentencePiece Unigram .model, a .tiktoken rank file or a llama2.c tokenizer.bin`);
}
