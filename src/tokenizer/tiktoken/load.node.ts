/**
 * Node loader for tiktoken rank files: reads a `.tiktoken` file and builds its tokenizer, with the pattern
 * and special tokens of a built-in encoding (`encodingName`) or given ones. A missing or unreadable file is
 * an IO error; the parsing and its errors are ranks.ts'.
 */

import { readFile } from "node:fs/promises";
import { PeelError } from "../../util/errors.js";
import { tiktokenEncodingSpec } from "./encodings.js";
import { parseTiktokenRanks } from "./ranks.js";
import { createTiktokenTokenizer, type TiktokenTokenizer } from "./tokenizer.js";

export interface LoadTiktokenOptions {
  /** A built-in encoding (cl100k_base, o200k_base, ...): its pattern and special tokens. */
  readonly encodingName?: string;
  /** The split pattern (overrides the encoding's): a RegExp or tiktoken's pattern text. */
  readonly pattern?: RegExp | string;
  /** Special token text -> id (overrides the encoding's). */
  readonly specialTokens?: Readonly<Record<string, number>>;
}

export async function loadTiktokenFile(path: string, opts: LoadTiktokenOptions): Promise<TiktokenTokenizer> {
  const spec = opts.encodingName !== undefined ? tiktokenEncodingSpec(opts.encodingName) : undefined;
  const pattern = opts.pattern ?? spec?.pattern;
  if (pattern === undefined) {
    throw new PeelError("INVALID_ARGUMENT", `tiktoken: ${path}: say which split pattern goes with these ranks (encodingName or pattern); rank files do not hold it`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new PeelError("IO", `tiktoken: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const ranks = parseTiktokenRanks(bytes, path);
  return createTiktokenTokenizer(ranks, { pattern, specialTokens: opts.specialTokens ?? spec?.specialTokens ?? {}, name: opts.encodingName ?? path });
}
