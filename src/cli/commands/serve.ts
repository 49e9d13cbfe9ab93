/**
 * `peel serve`: loads a model and serves it over HTTP with OpenAI's API (server/server.ts) until Ctrl-C.
 * Prints the address it listens on (with --port 0, the port the system chose) on stdout, so scripts and
 * tests can read it. It does not handle requests itself.
 */

import { basename } from "node:path";
import type { KvDType } from "../../kernels/kernels.js";
import { PeelError } from "../../util/errors.js";
import { choiceOpt, intOpt, stringOpt, UsageError } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { ATTENTION_OPTIONS, BACKEND_OPTIONS, LOAD_OPTIONS, loadModelForCommand, MODEL_OPTIONS, parseFlashArg, resolveModelPath } from "../model-file.js";
import { BUILTINS, templateChoice } from "./chat.js";

async function run({ args, io, signal }: CommandContext): Promise<number> {
  const host = stringOpt(args, "host") ?? "127.0.0.1";
  const port = intOpt(args, "port", 0, 65535) ?? 8080;
  const parallel = intOpt(args, "parallel", 1, 256) ?? 1;
  const contextLength = intOpt(args, "ctx-size", 1, 1 << 24);
  const maxQueue = intOpt(args, "queue", 0, 100000);
  const apiKey = stringOpt(args, "api-key") ?? (io.env["PEEL_API_KEY"] !== undefined && io.env["PEEL_API_KEY"] !== "" ? io.env["PEEL_API_KEY"] : undefined);
  if (apiKey === "") throw new UsageError("--api-key needs a value", args.command);
  const alias = stringOpt(args, "alias");
  const kvType = choiceOpt(args, "kv-type", ["f16", "f32"] as const);
  const flashAttention = parseFlashArg(args);
  const chatTemplate = templateChoice(args, io.cwd);
  const modelPath = resolveModelPath(args, io);
  const model = await loadModelForCommand(args, io, signal);
  try {
    const { createPeelServer } = await import("../../server/server.js");
    if (contextLength !== undefined && contextLength > model.config.contextLength) {
      throw new UsageError(`--ctx-size ${contextLength}: the model's context is ${model.config.contextLength} tokens`, args.command);
    }
    const server = createPeelServer(model, {
      modelId: alias ?? basename(modelPath).replace(/\.gguf$/i, ""),
      parallel,
      ...(contextLength !== undefined ? { contextLength } : {}),
      ...(maxQueue !== undefined ? { maxQueue } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(chatTemplate !== undefined ? { chatTemplate } : {}),
      ...(flashAttention !== undefined ? { flashAttention } : {}),
      ...(kvType !== undefined ? { kvType: kvType.toUpperCase() as KvDType } : {}),
    });
    const address = await server.listen(port, host).catch((e: unknown) => {
      const code = (e as { code?: unknown }).code;
      const why = code === "EADDRINUSE" ? "the port is in use (pick another with --port, or 0 for any free one)"
        : code === "EACCES" ? "permission denied (ports below 1024 need privileges)" : code === "EADDRNOTAVAIL" ? "this machine has no such address" : String((e as Error).message);
      throw new PeelError("IO", `cannot listen on ${host}:${port}: ${why}`, { cause: e });
    });
    io.stdout.write(`peel serve: listening on ${address.url} (${parallel} slot${parallel === 1 ? "" : "s"}${apiKey !== undefined ? ", API key required" : ""})\n`);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    io.stderr.write("peel serve: shutting down\n");
    await server.close();
    return EXIT.ok;
  } finally {
    await model.dispose();
  }
}

export const serveCommand: Command = {
  name: "serve",
  summary: "Serve a model over HTTP with OpenAI's API (chat, completions, embeddings)",
  usage: "peel serve [--model FILE] [--host 127.0.0.1] [--port 8080] [--parallel N] [--api-key KEY] [--ctx-size N] [options]",
  options: {
    ...MODEL_OPTIONS,
    host: { type: "string", valueName: "ADDR", help: "Address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface)" },
    port: { type: "string", valueName: "N", help: "Port (default 8080; 0 picks a free one, printed at start)" },
    parallel: { type: "string", valueName: "N", help: "Requests served at once, each in its own slot with its own KV cache (default 1)" },
    "ctx-size": { type: "string", short: "c", valueName: "N", help: "Tokens each slot holds, prompt and reply (default: the model's context, at most 4096)" },
    queue: { type: "string", valueName: "N", help: "Requests that may wait for a free slot; more get 503 with Retry-After (default 64)" },
    "api-key": { type: "string", valueName: "KEY", help: "Require 'Authorization: Bearer KEY' on every route but /health (or set PEEL_API_KEY)" },
    alias: { type: "string", valueName: "NAME", help: "Model name clients send and /v1/models lists (default: the file name without .gguf)" },
    "chat-template": { type: "string", valueName: "NAME|FILE", help: `Chat template: a built-in (${BUILTINS.join(", ")}) or a Jinja file (default: the model's own)` },
    "kv-type": { type: "string", valueName: "f16|f32", help: "KV cache storage (default f16, as llama.cpp)" },
    ...BACKEND_OPTIONS,
    ...ATTENTION_OPTIONS,
    ...LOAD_OPTIONS,
  },
  details: [
    "Routes: GET /v1/models, POST /v1/chat/completions, POST /v1/completions (both streamed as Server-Sent\n" +
      "Events with \"stream\": true), POST /v1/embeddings (mean-pooled hidden states), POST /tokenize,\n" +
      "POST /detokenize, GET /health, GET /metrics (Prometheus). Errors are OpenAI-shaped JSON.",
    "Each slot keeps its KV cache between requests and reuses the longest prefix the next prompt shares\n" +
      "with it. Ctrl-C stops the server.",
    "Examples:\n" +
      "  peel serve --model model.gguf --port 8080 --parallel 4\n" +
      "  curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\\n" +
      "    -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":32}'",
  ],
  run,
};
