/**
 * Node helper: loads a tokenizer from a file, choosing the loader by content — a GGUF file (its
 * `tokenizer.ggml.*` metadata; tensors are not read) or a Hugging Face tokenizer.json (with the
 * tokenizer_config.json beside it when there is one). Other kinds (.tiktoken rank files, llama2.c
 * tokenizer.bin) are added by their own loaders. Browser code uses the loaders directly.
 */

import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { openFileSource } from "../formats/byte-source.node.js";
import { readGgufHeader } from "../formats/gguf/read.js";
import { PeelError } from "../util/errors.js";
import { tokenizerFromHfJson } from "./hf/load-tokenizer-json.js";
import { tokenizerFromGguf } from "./load-gguf.js";
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

/** Loads a tokenizer.json (HF) or a .gguf file's vocabulary. */
export async function loadTokenizerFile(path: string): Promise<Tokenizer> {
  const source = await openFileSource(path);
  try {
    const head = source.size >= 4 ? await source.read(0, 4) : new Uint8Array(0);
    if (String.fromCharCode(...head) === "GGUF") return tokenizerFromGguf((await readGgufHeader(source)).metadata);
  } finally {
    await source.close();
  }
  const text = new TextDecoder().decode(await readBytes(path)).trimStart();
  if (text.startsWith("{")) return tokenizerFromHfJson(parseJson(text, path), await siblingConfig(path));
  throw new PeelError("UNSUPPORTED", `${path}: not a tokenizer file Peel knows (expected a GGUF file or a Hugging Face tokenizer.json)`);
}
