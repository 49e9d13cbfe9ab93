/**
 * The one place errors become HTTP answers: an `ApiError` carries the status and the OpenAI error fields
 * (`type`, `param`, `code`) the handlers chose; any other error is mapped here from its PeelError code
 * (a bad value → 400, a prompt over the context → 400 context_length_exceeded, ...). Unknown errors are 500
 * with a generic message, so no stack or path leaks to a client. An ApiError is a PeelError too, so an
 * in-process caller (completion-api.ts) catches one error type; its `param` names the field at fault.
 * It writes nothing (server.ts does). Browser-safe.
 */

import { PeelError, type PeelErrorCode } from "../util/errors.js";

export type ApiErrorType = "invalid_request_error" | "authentication_error" | "not_found_error" | "server_error";

/** The PeelError code a library caller sees for an HTTP answer. */
function peelCode(status: number, code: string | null): PeelErrorCode {
  if (status === 499) return "ABORTED";
  if (code === "context_length_exceeded") return "CONTEXT_OVERFLOW";
  return "INVALID_ARGUMENT"; // every other ApiError is about the request (a 5xx one never leaves the server)
}

export class ApiError extends PeelError {
  readonly status: number;
  readonly type: ApiErrorType;
  /** The request field at fault (dotted path, as OpenAI names it), or null. */
  readonly param: string | null;
  /** OpenAI's `error.code` ("invalid_value", "model_not_found", ...); `code` is the PeelError code. */
  readonly apiCode: string | null;
  /** Extra headers for the answer (Retry-After on 503). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, opts: { type?: ApiErrorType; param?: string | null; code?: string | null; headers?: Record<string, string> } = {}) {
    super(peelCode(status, opts.code ?? null), message);
    this.name = "ApiError";
    this.status = status;
    this.type = opts.type ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.param = opts.param ?? null;
    this.apiCode = opts.code ?? null;
    this.headers = opts.headers ?? {};
  }
}

/** A 400 about one request field. */
export function badField(param: string, message: string): ApiError {
  return new ApiError(400, `${param}: ${message}`, { param, code: "invalid_value" });
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof PeelError) {
    switch (e.code) {
      case "INVALID_ARGUMENT": return new ApiError(400, e.message, { code: "invalid_value" });
      case "CONTEXT_OVERFLOW": return new ApiError(400, e.message, { code: "context_length_exceeded" });
      case "TOKENIZER": return new ApiError(400, e.message, { code: "invalid_value" });
      case "UNSUPPORTED": return new ApiError(400, e.message, { code: "unsupported" });
      case "CONFIG": return new ApiError(400, e.message, { code: "model_config" });
      case "ABORTED": return new ApiError(499, e.message, { code: "aborted" });
      case "FORMAT": case "IO": return new ApiError(500, e.message);
      case "DEVICE_LOST": return new ApiError(503, e.message, { code: "device_lost" });
    }
  }
  return new ApiError(500, "internal server error", { code: "internal_error" });
}

/** The OpenAI error body. */
export function errorBody(e: ApiError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.apiCode } };
}
