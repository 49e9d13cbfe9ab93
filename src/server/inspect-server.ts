/**
 * The HTTP side of `peel inspect`: serves the built inspector app (web/dist) and answers its calls with the
 * engine running in this Node process. One route does the work, `POST /api/call` with `{method, params}`,
 * answered by inspect/protocol.ts exactly as the in-page Worker answers; `GET /api/health` tells the app
 * it runs in server mode. Pages are sent cross-origin isolated (COOP/COEP) so the same build can also run
 * its own engine with threads. Calls run one at a time (the model's run state is shared).
 */

import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { Model } from "../model/model.js";
import { createInspector } from "../inspect/inspector.js";
import type { TokenizerLibrary } from "../inspect/tokenizer-shelf.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { callInspector } from "../inspect/protocol.js";
import { PeelError } from "../util/errors.js";
import { ApiError } from "./api-error.js";
import { readJsonBody } from "./http.js";

export interface InspectServerOptions {
  readonly model: Model;
  /** Folder with the built app (index.html and assets/); the API works without it. */
  readonly webRoot: string | undefined;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Largest request body in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Tokenizers the playground may load by name (default: the tokenizer.json files in webRoot/tokenizers/). */
  readonly tokenizerLibrary?: TokenizerLibrary;
  /** Tokenizers to compare from the start, by name. */
  readonly tokenizers?: ReadonlyMap<string, Tokenizer>;
}

export interface InspectServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".json": "application/json", ".wasm": "application/wasm", ".svg": "image/svg+xml", ".png": "image/png",
  ".gguf": "application/octet-stream", ".ico": "image/x-icon",
};

const ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Cross-Origin-Resource-Policy": "same-origin" };

/** HTTP status for an error a call threw: the caller's mistakes are 400, the rest 500. */
export function statusOfError(e: unknown): number {
  if (!(e instanceof PeelError)) return 500;
  switch (e.code) {
    case "INVALID_ARGUMENT": case "CONTEXT_OVERFLOW": case "TOKENIZER": return 400;
    case "UNSUPPORTED": return 422;
    default: return 500;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...ISOLATION });
  res.end(text);
}

async function serveStatic(root: string, urlPath: string, res: ServerResponse): Promise<void> {
  const rel = normalize(decodeURIComponent(urlPath)).replace(/^([/\\])+/, "");
  const file = resolve(root, rel === "" ? "index.html" : rel);
  if (file !== resolve(root) && !file.startsWith(resolve(root) + sep)) { res.writeHead(403).end("forbidden"); return; }
  const s = await stat(file).catch(() => undefined);
  const target = s?.isDirectory() ? join(file, "index.html") : file;
  const st = s?.isDirectory() ? await stat(target).catch(() => undefined) : s;
  if (st === undefined || !st.isFile()) { res.writeHead(404, { "Content-Type": "text/plain" }).end(`not found: ${urlPath}`); return; }
  res.writeHead(200, { "Content-Type": TYPES[extname(target)] ?? "application/octet-stream", "Content-Length": st.size, ...ISOLATION });
  createReadStream(target).pipe(res);
}

/** The tokenizer.json files of a folder (the app's shipped ones), loaded on demand by file name. */
export async function diskTokenizerLibrary(dir: string): Promise<TokenizerLibrary | undefined> {
  const files = await readdir(dir).catch(() => undefined);
  if (files === undefined) return undefined;
  const names = files.filter((f) => f.endsWith(".json") && f !== "index.json").map((f) => f.slice(0, -".json".length)).sort();
  return {
    names,
    async load(name) {
      const { tokenizerFromBytes } = await import("../tokenizer/load-bytes.js");
      return tokenizerFromBytes(new Uint8Array(await readFile(join(dir, `${name}.json`))), `${name}.json`);
    },
  };
}

export async function startInspectServer(opts: InspectServerOptions): Promise<InspectServer> {
  const library = opts.tokenizerLibrary ?? (opts.webRoot === undefined ? undefined : await diskTokenizerLibrary(join(opts.webRoot, "tokenizers")));
  const inspector = createInspector(opts.model, library === undefined ? {} : { tokenizerLibrary: library });
  for (const [name, t] of opts.tokenizers ?? []) inspector.addTokenizer(name, t);
  const limit = opts.maxBodyBytes ?? 1 << 20;
  let queue: Promise<unknown> = Promise.resolve();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/api/health" && req.method === "GET") {
      sendJson(res, 200, { mode: "server", model: opts.model.info.name ?? opts.model.info.source });
      return;
    }
    if (url.pathname === "/api/call") {
      if (req.method !== "POST") { sendJson(res, 405, { error: { code: "METHOD", message: "POST a JSON body {method, params} to /api/call" } }); return; }
      let body: unknown;
      try {
        body = await readJsonBody(req, limit);
      } catch (e) {
        // the shared reader's 413 (over the limit) or 400 (empty or not JSON)
        sendJson(res, e instanceof ApiError ? e.status : 400, { error: { code: "INVALID_ARGUMENT", message: (e as Error).message } });
        return;
      }
      const call = body as { method?: unknown; params?: unknown };
      if (typeof call !== "object" || call === null || typeof call.method !== "string") {
        sendJson(res, 400, { error: { code: "INVALID_ARGUMENT", message: 'the body must be {"method": string, "params": object}' } });
        return;
      }
      const run = queue.then(async () => callInspector(inspector, call.method as string, call.params));
      queue = run.catch(() => undefined);
      try {
        sendJson(res, 200, { result: await run });
      } catch (e) {
        const code = e instanceof PeelError ? e.code : "INTERNAL";
        sendJson(res, statusOfError(e), { error: { code, message: (e as Error).message } });
      }
      return;
    }
    if (url.pathname.startsWith("/api/")) { sendJson(res, 404, { error: { code: "NOT_FOUND", message: `no route ${url.pathname}` } }); return; }
    if (opts.webRoot === undefined) { res.writeHead(404, { "Content-Type": "text/plain" }).end("the inspector app is not built: run `npm run build:web`"); return; }
    if (req.method !== "GET" && req.method !== "HEAD") { res.writeHead(405).end(); return; }
    await serveStatic(opts.webRoot, url.pathname, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: "INTERNAL", message: (e as Error).message } });
      else res.destroy();
    });
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((ok, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) => fail(new PeelError("IO", `cannot listen on ${host}:${opts.port ?? 0}: ${e.code ?? e.message}`)));
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : opts.port ?? 0;
  return {
    server,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
