/**
 * The OpenAI-compatible HTTP server over one loaded model: `createPeelServer(model, opts)` makes the slots
 * (sessions created once, reused by every request), the chat template and the metrics, and routes
 * requests: /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings (also without /v1), and
 * llama-server's /tokenize, /detokenize, /health, /metrics. CORS is on for every route; with an API key,
 * every route but /health and CORS preflights needs it. A client that disconnects aborts its request.
 * It does not load models or parse argv (cli/commands/serve.ts does).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { embedTokensInSession, PeelError, type ChatTemplateChoice, type FlashAttention, type KvDType, type Model } from "../index.js";
import { ApiError, toApiError } from "./api-error.js";
import { chatSetupFor, checkModelName, DEFAULT_CONTEXT } from "./completion-api.js";
import { handleChatCompletions, handleCompletions, slotPlace, type ServerContext } from "./generation-routes.js";
import { checkAuth, CORS_HEADERS, readJsonBody, sendError, sendJson, sendText } from "./http.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { parseDetokenizeRequest, parseEmbeddingsRequest, parseTokenizeRequest } from "./openai/requests.js";
import { embeddingsBody, modelsBody } from "./openai/responses.js";
import { createSlotPool, type SlotPool } from "./slots.js";

export interface ServeOptions {
  /** The name clients use in `model` (default "peel"). */
  readonly modelId?: string;
  /** Requests served at once, each in its own slot (default 1). */
  readonly parallel?: number;
  /** Tokens each slot's context holds (default: the model's context length, at most 4096). */
  readonly contextLength?: number;
  /** Requests that may wait for a slot before new ones get 503 (default 64). */
  readonly maxQueue?: number;
  readonly apiKey?: string;
  /** Largest request body in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Chat template (default: the model's own). */
  readonly chatTemplate?: ChatTemplateChoice;
  readonly flashAttention?: FlashAttention;
  readonly kvType?: KvDType;
}

export interface PeelServer {
  readonly server: Server;
  readonly pool: SlotPool;
  readonly metrics: Metrics;
  /** Listens on host:port (port 0: any free port) and resolves with the address it got. */
  listen(port: number, host?: string): Promise<{ readonly host: string; readonly port: number; readonly url: string }>;
  /** Stops accepting connections, ends open ones and resolves when the server is closed. */
  close(): Promise<void>;
}

const ROUTES = new Set(["/health", "/v1/models", "/models", "/metrics", "/v1/chat/completions", "/chat/completions", "/v1/completions", "/completions",
  "/v1/embeddings", "/embeddings", "/tokenize", "/detokenize"]);
/** The metrics label of a path: unknown paths share one, so a scan of random URLs cannot grow the metrics. */
const routeLabel = (path: string) => (ROUTES.has(path) ? path : "other");

export function createPeelServer(model: Model, opts: ServeOptions = {}): PeelServer {
  if (model.config.encoder !== undefined) {
    throw new PeelError("UNSUPPORTED", `serve: "${model.config.architecture}" is an encoder; peel serve serves decoder models (use peel embed for encoders)`);
  }
  const parallel = opts.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 256) throw new PeelError("INVALID_ARGUMENT", `serve: parallel must be an integer in 1..256, got ${parallel}`);
  const contextLength = opts.contextLength ?? Math.min(model.config.contextLength, DEFAULT_CONTEXT);
  const bodyLimit = opts.bodyLimit ?? 1 << 20;
  const pool = createSlotPool(model, parallel, opts.maxQueue ?? 64, {
    contextLength,
    ...(opts.flashAttention !== undefined ? { flashAttention: opts.flashAttention } : {}),
    ...(opts.kvType !== undefined ? { kvType: opts.kvType } : {}),
  });
  const metrics = createMetrics();
  const ctx: ServerContext = { model, modelId: opts.modelId ?? "peel", pool, metrics, contextLength, chat: chatSetupFor(model, opts.chatTemplate, "peel serve --chat-template") };
  const place = slotPlace(ctx);
  const created = Math.floor(Date.now() / 1000);

  async function route(req: IncomingMessage, res: ServerResponse, path: string, signal: AbortSignal): Promise<void> {
    const method = req.method ?? "GET";
    const post = async () => {
      if (method !== "POST") throw methodNotAllowed(method, path, "POST");
      checkAuth(req, opts.apiKey);
      return readJsonBody(req, bodyLimit);
    };
    const get = () => {
      if (method !== "GET") throw methodNotAllowed(method, path, "GET");
      checkAuth(req, opts.apiKey);
    };
    switch (path) {
      case "/health":
        if (method !== "GET") throw methodNotAllowed(method, path, "GET");
        return sendJson(res, 200, { status: "ok", slots_idle: pool.size - pool.busy, slots_processing: pool.busy, queue_depth: pool.queued });
      case "/v1/models": case "/models":
        get();
        return sendJson(res, 200, modelsBody([ctx.modelId], created));
      case "/metrics":
        get();
        return sendText(res, 200, metrics.render({ busySlots: pool.busy, totalSlots: pool.size, queued: pool.queued, rssBytes: process.memoryUsage.rss() }), "text/plain; version=0.0.4; charset=utf-8");
      case "/v1/chat/completions": case "/chat/completions":
        return handleChatCompletions(ctx, place, await post(), res, signal);
      case "/v1/completions": case "/completions":
        return handleCompletions(ctx, place, await post(), res, signal);
      case "/v1/embeddings": case "/embeddings":
        return embeddings(await post(), res, signal);
      case "/tokenize": {
        const r = parseTokenizeRequest(await post());
        const ids = model.tokenize(r.content, { addSpecial: r.addSpecial, parseSpecial: r.parseSpecial });
        return sendJson(res, 200, { tokens: r.withPieces ? ids.map((id) => ({ id, piece: model.detokenize([id]) })) : ids });
      }
      case "/detokenize": {
        const r = parseDetokenizeRequest(await post(), model.config.vocabSize);
        return sendJson(res, 200, { content: model.detokenize(r.tokens) });
      }
      default:
        throw new ApiError(404, `no route ${method} ${path}; routes: GET /v1/models, POST /v1/chat/completions, POST /v1/completions, POST /v1/embeddings, POST /tokenize, POST /detokenize, GET /health, GET /metrics`,
          { type: "not_found_error", code: "not_found" });
    }
  }

  /** Mean-pooled decoder embeddings, computed in a slot's session (its cached prompt is lost). */
  async function embeddings(body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const r = parseEmbeddingsRequest(body, model.config.vocabSize);
    checkModelName(ctx, r.model);
    const ids = r.inputs.map((x) => (typeof x === "string" ? model.tokenize(x) : [...x]));
    ids.forEach((t, i) => {
      if (t.length > contextLength) throw new ApiError(400, `input[${i}] has ${t.length} tokens; the context holds ${contextLength}`, { param: "input", code: "context_length_exceeded" });
    });
    const slot = await pool.acquire([], signal);
    try {
      const vectors = ids.map((t) => embedTokensInSession(slot.session, t));
      sendJson(res, 200, embeddingsBody(ctx.modelId, vectors, ids.reduce((s, t) => s + t.length, 0), r.base64));
    } finally {
      slot.session.reset();
      pool.release(slot);
    }
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
    if (req.method === "OPTIONS") {
      res.writeHead(204, CORS_HEADERS);
      res.end();
      return;
    }
    // a client that goes away before the answer is complete aborts its request (generation stops, the slot frees)
    const ac = new AbortController();
    res.on("close", () => { if (!res.writableFinished) ac.abort(); });
    route(req, res, path, ac.signal).then(
      () => metrics.request(routeLabel(path), res.statusCode),
      (e: unknown) => {
        const err = toApiError(e);
        if (err.status === 500) console.error(`peel serve: ${req.method ?? "?"} ${path}:`, e);
        metrics.request(routeLabel(path), err.status);
        if (!res.destroyed) sendError(res, err);
      },
    );
  });

  return {
    server,
    pool,
    metrics,
    listen(port, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const a = server.address() as AddressInfo;
          const shownHost = a.family === "IPv6" ? `[${a.address}]` : a.address;
          resolve({ host: a.address, port: a.port, url: `http://${shownHost}:${a.port}` });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function methodNotAllowed(method: string, path: string, allowed: string): ApiError {
  return new ApiError(405, `${method} ${path} is not allowed; use ${allowed}`, { code: "method_not_allowed", headers: { Allow: allowed } });
}
