/**
 * The structured-output flags `peel generate` and `peel chat` share: `--grammar FILE` (llama.cpp GBNF) and
 * `--json-schema FILE|JSON` (a JSON Schema file, or the schema inline when the value starts with "{"), read and
 * compiled here so a bad grammar is reported before the model loads. The library reads no files.
 */

import { existsSync, readFileSync } from "node:fs";
import type { Grammar } from "../sample/grammar/grammar.js";
import { compileGbnf } from "../sample/grammar/gbnf.js";
import { jsonSchemaToGrammar } from "../sample/grammar/json-schema.js";
import { PeelError } from "../util/errors.js";
import { stringOpt, UsageError, type OptionSpecs, type ParsedArgs } from "./args.js";

export const GRAMMAR_OPTIONS: OptionSpecs = {
  grammar: { type: "string", valueName: "FILE", help: "Only generate text this GBNF grammar (llama.cpp's format) accepts" },
  "json-schema": { type: "string", valueName: "FILE|JSON", help: "Only generate JSON valid under this JSON Schema (a file, or inline JSON starting with {)" },
};

function readText(flag: string, path: string): string {
  if (!existsSync(path)) throw new PeelError("IO", `--${flag}: no file "${path}"`);
  return readFileSync(path, "utf8");
}

/** The grammar the flags ask for, or undefined; throws UsageError for both at once, PeelError for bad contents. */
export function parseGrammarArgs(args: ParsedArgs): Grammar | undefined {
  const gbnf = stringOpt(args, "grammar");
  const schema = stringOpt(args, "json-schema");
  if (gbnf !== undefined && schema !== undefined) throw new UsageError("--grammar and --json-schema cannot be used together", args.command);
  if (gbnf !== undefined) return compileGbnf(readText("grammar", gbnf));
  if (schema === undefined) return undefined;
  const text = schema.trimStart().startsWith("{") ? schema : readText("json-schema", schema);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PeelError("INVALID_ARGUMENT", `--json-schema: not JSON (${(e as Error).message})`);
  }
  return jsonSchemaToGrammar(parsed);
}
