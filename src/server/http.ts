/**
 * node:http plumbing the routes share: reading a JSON body with a size limit (413 past it, 400 naming the
 * problem for bad JSON), writing JSON and OpenAI-shaped errors, Server-Sent Events, CORS headers (any
 * origin, so the browser inspector can call the server), and the bearer-token check. Node's own http
 * module and no framework: the server has a dozen routes and needs streaming and abort on disconnect,
 * which node:http gives directly, without a dependency.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, errorBody } from "./api-error.js";

export const CORS_HEADERS: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
  "Access-Control-Allow-Headers": "Authorization, Content-Type, OpenAI-Organization, OpenAI-Project, X-Stainless-Lang, X-Stainless-Package-Version, X-Stainless-OS, X-Stainless-Arch, X-Stainless-Runtime, X-Stainless-Runtime-Version, X-Stainless-Retry-Count, X-Stainless-Timeout",
  "Access-Control-Max-Age": "86400",
};

/** Reads the whole body as JSON; 413 once it passes `limit` bytes, 400 when it is not JSON. */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume(); // drain, so the answer reaches the client
      reject(tooLarge(declared, limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) { failed = true; reject(tooLarge(size, limit)); return; }
      chunks.push(chunk);
    });
    req.on("error", (e) => { if (!failed) { failed = true; reject(e); } });
    req.on("end", () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") { reject(new ApiError(400, "the request body is empty; expected a JSON object", { code: "invalid_json" })); return; }
      try {
        resolve(JSON.parse(text) as unknown);
      } catch (e) {
        reject(new ApiError(400, `the request body is not valid JSON: ${(e as Error).message}`, { code: "invalid_json" }));
      }
    });
  });
}

function tooLarge(size: number, limit: number): ApiError {
  return new ApiError(413, `the request body is ${size}+ bytes; the limit is ${limit} bytes`, { code: "request_too_large" });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...CORS_HEADERS, ...headers, "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, e: ApiError): void {
  if (res.headersSent) {
    // a stream already started: say it in the stream, as OpenAI does, then end it
    if (!res.writableEnded) { res.write(`data: ${JSON.stringify(errorBody(e))}\n\n`); res.end(); }
    return;
  }
  sendJson(res, e.status, errorBody(e), e.headers);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { ...CORS_HEADERS, "Content-Type": contentType, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** Starts a Server-Sent Events stream; returns a writer of `data:` events. */
export function startEventStream(res: ServerResponse): { send(data: unknown): void; done(): void } {
  res.writeHead(200, { ...CORS_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" });
  res.flushHeaders();
  return {
    send(data) { if (!res.writableEnded) res.write(`data: ${JSON.stringify(data)}\n\n`); },
    done() { if (!res.writableEnded) { res.write("data: [DONE]\n\n"); res.end(); } },
  };
}

/** With an API key set, the request must carry `Authorization: Bearer KEY`; 401 otherwise. */
export function checkAuth(req: IncomingMessage, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const header = req.headers.authorization;
  if (header === undefined) {
    throw new ApiError(401, "missing API key: send the header Authorization: Bearer YOUR_KEY", { type: "authentication_error", code: "invalid_api_key" });
  }
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (m === null || !constantTimeEqual(m[1]?.trim() ?? "", apiKey)) {
    throw new ApiError(401, "incorrect API key provided", { type: "authentication_error", code: "invalid_api_key" });
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
