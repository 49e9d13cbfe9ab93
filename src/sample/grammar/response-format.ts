/**
 * The one entry point for OpenAI-style `response_format` (the server and in-process chat use it): `text` or
 * absent → no grammar; `json_object` → any JSON object (or, as llama-server allows, `{type: "json_object",
 * schema}`); `json_schema` → the schema at `json_schema.schema` (OpenAI's shape) or at `schema` (llama-server's).
 * The value arrives as unknown (a request body) and is checked here; bad shapes and bad schemas throw a
 * PeelError whose message names the offending path.
 */

import { PeelError } from "../../util/errors.js";
import { compileGbnf } from "./gbnf.js";
import type { Grammar } from "./grammar.js";
import { jsonObjectGbnf, jsonSchemaToGrammar } from "./json-schema.js";

let jsonObject: Grammar | undefined;

/** The grammar for any JSON object, compiled once. */
export function jsonObjectGrammar(): Grammar {
  return (jsonObject ??= compileGbnf(jsonObjectGbnf()));
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const bad = (path: string, what: string) => new PeelError("INVALID_ARGUMENT", `response_format${path}: ${what}`);

export function grammarForResponseFormat(format: unknown): Grammar | undefined {
  if (format === undefined || format === null) return undefined;
  if (!isRecord(format)) throw bad("", `expected an object like {"type": "json_object"}, got ${JSON.stringify(format)}`);
  switch (format.type) {
    case "text": return undefined;
    case "json_object":
      return format.schema === undefined ? jsonObjectGrammar() : schemaGrammar(format.schema, ".schema");
    case "json_schema": {
      if (isRecord(format.json_schema)) {
        if (format.json_schema.schema === undefined) throw bad(".json_schema.schema", "missing; put the JSON Schema there");
        return schemaGrammar(format.json_schema.schema, ".json_schema.schema");
      }
      if (format.schema !== undefined) return schemaGrammar(format.schema, ".schema");
      throw bad(".json_schema", "missing; expected {\"type\": \"json_schema\", \"json_schema\": {\"name\": …, \"schema\": {…}}}");
    }
    default: throw bad(".type", `expected "text", "json_object" or "json_schema", got ${JSON.stringify(format.type)}`);
  }
}

function schemaGrammar(schema: unknown, at: string): Grammar {
  try {
    return jsonSchemaToGrammar(schema);
  } catch (e) {
    // say which part of the request the schema path is relative to
    if (e instanceof PeelError) throw new PeelError(e.code, `response_format${at}: ${e.message}`, { cause: e });
    throw e;
  }
}
