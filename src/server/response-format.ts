/**
 * The hook for structured output: `responseFormatConstraint` turns a request's `response_format` into
 * what generation must obey. Plain text needs nothing. JSON mode and JSON Schema need a grammar-constrained
 * sampler stage (planned in sample/); until it is wired here, they are refused with a 400 rather than
 * answered with text that might not parse.
 */

import { ApiError } from "./api-error.js";
import type { ResponseFormat } from "./openai/requests.js";

/** What a response format asks of generation; today only "nothing". The grammar stage will extend this. */
export interface GenerationConstraint {
  readonly kind: "none";
}

export function responseFormatConstraint(format: ResponseFormat): GenerationConstraint {
  switch (format.type) {
    case "text": return { kind: "none" };
    case "json_object":
    case "json_schema":
      throw new ApiError(400, `response_format not supported yet (type "${format.type}"); only "text" is served`,
        { param: "response_format", code: "unsupported_response_format" });
  }
}
