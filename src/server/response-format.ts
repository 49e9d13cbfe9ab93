/**
 * Structured output for the server: `responseFormatConstraint` turns a request's `response_format` into the
 * grammar generation must obey (sample/grammar's grammarForResponseFormat: any JSON object, or a JSON Schema
 * compiled to a grammar), or none for plain text. A schema Peel cannot enforce is a 400 naming the path,
 * never an answer that might not parse.
 */

import type { Grammar } from "../sample/grammar/grammar.js";
import { grammarForResponseFormat } from "../sample/grammar/response-format.js";
import { PeelError } from "../util/errors.js";
import { ApiError } from "./api-error.js";
import type { ResponseFormat } from "./openai/requests.js";

/** What a response format asks of generation: a grammar, or nothing. */
export interface GenerationConstraint {
  readonly grammar: Grammar | undefined;
}

export function responseFormatConstraint(format: ResponseFormat): GenerationConstraint {
  const wire = format.type === "json_schema" ? { type: "json_schema", json_schema: { name: format.name, schema: format.schema } } : { type: format.type };
  try {
    return { grammar: grammarForResponseFormat(wire) };
  } catch (e) {
    if (e instanceof PeelError && (e.code === "INVALID_ARGUMENT" || e.code === "UNSUPPORTED")) {
      throw new ApiError(400, e.message, { param: "response_format", code: "invalid_response_format" });
    }
    throw e;
  }
}
