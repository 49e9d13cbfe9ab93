/**
 * `npm run bench:browser -- [--model FILE ...] [--prompt-tokens 128] [--gen-tokens 64] [--runs 3] [--threads 1,2]`:
 * Peel and wllama (llama.cpp compiled to WebAssembly, @wllama/wllama) in one headless Chromium page, on the
 * same GGUF files, the same prompt text of exactly --prompt-tokens tokens (wllama takes text, not ids; Peel
 * tokenizes it as llama.cpp does, and the counts are checked), prefilled in one batch,
 * then the same number of greedy decode steps; 1 and 2 threads each. The page is served cross-origin isolated
 * (COOP/COEP) so both engines may use WebAssembly threads. Runs alternate between the engines (Peel, wllama,
 * per thread count), one warm-up run each is excluded, and each figure is the median of --runs runs.
 * Default models: the 110M Q8_0 and Q4_0 bench files (`npm run bench:models -- --out /tmp/bm --only
 * 110M-Q8_0,110M-Q4_0`) and the shipped 1M model. Peel in the page is the built package (dist/, rebuilt here
 * with `tsc -p tsconfig.build.json` when older than src/); page files are TypeScript, transpiled as served.
 */

import { spawnSync } from "node:child_process";
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { basename, dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import ts from "typescript";
import type { Page } from "playwright-core";
import { summarize } from "../src/cli/commands/bench.js";
import { CHROMIUM, launchChromium } from "../test/web/browser.js";
import { newestMtime } from "../test/fixtures/peel-cli.js";
import type { Engine, Prompt, RunTimes } from "./browser/protocol.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WLLAMA_ESM = join(ROOT, "node_modules", "@wllama", "wllama", "esm");
/** Peel's one runtime dependency, served from node_modules (self-contained ESM), and where dist/ imports it. */
const JINJA_DIST = join(ROOT, "node_modules", "@huggingface", "jinja", "dist");
const BARE_IMPORTS: Readonly<Record<string, string>> = { "@huggingface/jinja": "/jinja/index.js" };
const DEFAULT_MODELS = ["/tmp/bm/peel-bench-110M-Q8_0.gguf", "/tmp/bm/peel-bench-110M-Q4_0.gguf", join(ROOT, "models", "peel-tinystories-1m.gguf")];

const { values } = parseArgs({
  options: {
    model: { type: "string", multiple: true }, "prompt-tokens": { type: "string", default: "128" },
    "gen-tokens": { type: "string", default: "64" }, runs: { type: "string", default: "3" }, threads: { type: "string", default: "1,2" },
  },
});

function positiveInt(name: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${s}"`);
  return n;
}
const promptTokens = positiveInt("prompt-tokens", values["prompt-tokens"]);
const genTokens = positiveInt("gen-tokens", values["gen-tokens"]);
const runs = positiveInt("runs", values.runs);
const threadCounts = values.threads.split(",").map((s) => positiveInt("threads", s));
const models = values.model ?? DEFAULT_MODELS;

function preflight(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`bench:browser needs Chromium at ${CHROMIUM}: apt-get install chromium`);
  if (!existsSync(join(WLLAMA_ESM, "wasm", "wllama.wasm"))) throw new Error(`no ${join(WLLAMA_ESM, "wasm", "wllama.wasm")}: npm install (@wllama/wllama is a devDependency)`);
  for (const m of models) {
    if (!existsSync(m)) {
      const bench = /^peel-bench-(.+)\.gguf$/.exec(basename(m));
      throw new Error(`model file not found: ${m}` + (bench !== null ? ` (write it with \`npm run bench:models -- --out ${dirname(m)} --only ${bench[1]}\`)` : ""));
    }
  }
}

/** The page imports dist/index.js; rebuild it when any source is newer, so a run never measures stale code. */
function ensureDist(): void {
  const entry = join(ROOT, "dist", "index.js");
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestMtime(join(ROOT, "src"))) return;
  console.error("dist/ is missing or older than src/: npx tsc -p tsconfig.build.json ...");
  const r = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error("tsc -p tsconfig.build.json failed; bench:browser loads Peel from dist/");
}

const TYPES: Readonly<Record<string, string>> = { ".html": "text/html", ".js": "text/javascript", ".ts": "text/javascript", ".wasm": "application/wasm" };

/** URL path → file: the page (bench/browser/), Peel (dist/), wllama (its esm/), and the models by index. */
function fileFor(path: string): string | undefined {
  const within = (root: string, rel: string): string | undefined => {
    const f = resolve(root, `.${rel}`);
    return f.startsWith(resolve(root) + sep) ? f : undefined;
  };
  if (path === "/") return join(ROOT, "bench", "browser", "index.html");
  const model = /^\/models\/(\d+)\.gguf$/.exec(path);
  if (model !== null) return models[Number(model[1])];
  for (const [prefix, dir] of [["/bench/browser/", join(ROOT, "bench", "browser")], ["/dist/", join(ROOT, "dist")], ["/wllama/", WLLAMA_ESM], ["/jinja/", JINJA_DIST]] as const) {
    if (path.startsWith(prefix)) return within(dir, path.slice(prefix.length - 1));
  }
  return undefined;
}

function send(res: ServerResponse, file: string): void {
  // Cross-origin isolated, so SharedArrayBuffer (WebAssembly threads) exists in the page and its workers.
  const headers = { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };
  if (extname(file) === ".ts") {
    const out = ts.transpileModule(readFileSync(file, "utf8"), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
    // The page's relative imports name ./x.js (NodeNext style); the files served are the .ts sources.
    res.writeHead(200, headers).end(out.outputText.replace(/from "\.\/([\w-]+)\.js"/g, 'from "./$1.ts"'));
    return;
  }
  if (file.startsWith(join(ROOT, "dist") + sep) && extname(file) === ".js") {
    // A browser resolves no bare specifiers (and module workers take no import map): point them at /jinja/.
    const text = readFileSync(file, "utf8").replace(/from "(@[\w-]+\/[\w-]+)"/g, (m, name: string) => BARE_IMPORTS[name] === undefined ? m : `from "${BARE_IMPORTS[name]}"`);
    res.writeHead(200, headers).end(text);
    return;
  }
  res.writeHead(200, { ...headers, "Content-Length": statSync(file).size });
  createReadStream(file).pipe(res);
}

async function serve(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const file = fileFor(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    if (file === undefined || !existsSync(file) || !statSync(file).isFile()) {
      if (req.url !== "/favicon.ico") console.error(`bench:browser server: 404 ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    send(res, file);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }) };
}

/** Calls globalThis.bench.<fn>(...args) in the page (as a string: tsx's transpiled closures do not survive page.evaluate). */
function call(page: Page, fn: string, ...args: readonly unknown[]): Promise<unknown> {
  return page.evaluate(`globalThis.bench.${fn}(${args.map((a) => JSON.stringify(a)).join(", ")})`);
}

function parseRun(v: unknown, what: string): RunTimes {
  const o = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
  const nums = ["promptN", "prefillMs", "decodeN", "decodeMs"].map((k) => o[k]);
  if (!nums.every((n) => typeof n === "number" && Number.isFinite(n))) throw new Error(`${what}: expected run times, got ${JSON.stringify(v)}`);
  const [promptN, prefillMs, decodeN, decodeMs] = nums as number[];
  return { promptN: promptN!, prefillMs: prefillMs!, decodeN: decodeN!, decodeMs: decodeMs! };
}

function parsePrompt(v: unknown, what: string): Prompt {
  const o = (typeof v === "object" && v !== null ? v : {}) as Record<string, unknown>;
  const ids = o["ids"];
  if (typeof o["text"] !== "string" || !Array.isArray(ids) || !ids.every((i) => Number.isInteger(i))) {
    throw new Error(`${what}: expected a prompt {text, ids}, got ${JSON.stringify(v)}`);
  }
  return { text: o["text"], ids: ids as number[] };
}

interface Row { model: string; engine: Engine; threads: number; prefill: number; decode: number }

async function benchModel(page: Page, index: number): Promise<Row[]> {
  const name = basename(models[index]!, ".gguf");
  const url = `/models/${index}.gguf`;
  const ctx = promptTokens + genTokens + 16;
  const keys: { engine: Engine; threads: number; key: string }[] = [];
  for (const threads of threadCounts) {
    for (const engine of ["peel", "wllama"] as const) {
      const key = `${engine}-${index}-${threads}`;
      const v = await call(page, "load", engine, key, url, threads, ctx);
      if (typeof v !== "number") throw new Error(`${engine} load of ${name}: expected a vocabulary size, got ${JSON.stringify(v)}`);
      keys.push({ engine, threads, key });
    }
  }
  const prompt = parsePrompt(await call(page, "prompt", keys[0]!.key, promptTokens), name);
  const times = new Map<string, RunTimes[]>(keys.map((k) => [k.key, []]));
  for (let r = -1; r < runs; r++) { // r = -1: warm-up, excluded
    for (const k of keys) {
      const t = parseRun(await call(page, "run", k.key, prompt, genTokens), `${k.key} run`);
      if (t.promptN !== promptTokens || t.decodeN !== genTokens) {
        throw new Error(`${k.key}: timed ${t.promptN} prompt and ${t.decodeN} decode tokens, expected ${promptTokens} and ${genTokens}`);
      }
      if (r >= 0) times.get(k.key)!.push(t);
      const rate = (n: number, ms: number): string => ((n * 1000) / ms).toFixed(1);
      console.error(`  ${r < 0 ? "warm-up" : `run ${r + 1}/${runs}`} ${k.engine} ${k.threads}t: prefill ${rate(t.promptN, t.prefillMs)}, decode ${rate(t.decodeN, t.decodeMs)} tok/s`);
    }
  }
  for (const k of keys) await call(page, "unload", k.key);
  return keys.map((k) => {
    const ts = times.get(k.key)!;
    return {
      model: name, engine: k.engine, threads: k.threads,
      prefill: summarize(ts.map((t) => (t.promptN * 1000) / t.prefillMs)).median,
      decode: summarize(ts.map((t) => (t.decodeN * 1000) / t.decodeMs)).median,
    };
  });
}

function printTable(rows: readonly Row[]): void {
  const ref = (r: Row): Row | undefined => rows.find((o) => o.model === r.model && o.threads === r.threads && o.engine === "wllama");
  const fmt = (x: number): string => x.toFixed(1);
  console.log(`\nprompt ${promptTokens} tokens (one batch), ${genTokens} greedy decode steps; median of ${runs} alternated runs after a warm-up; tok/s`);
  console.log("| model | engine | threads | prefill tok/s | decode tok/s | prefill Peel/wllama | decode Peel/wllama |");
  console.log("|---|---|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const w = ref(r);
    const ratios = r.engine === "peel" && w !== undefined ? `${(r.prefill / w.prefill).toFixed(2)}× | ${(r.decode / w.decode).toFixed(2)}×` : " | ";
    console.log(`| ${r.model} | ${r.engine} | ${r.threads} | ${fmt(r.prefill)} | ${fmt(r.decode)} | ${ratios} |`);
  }
}

try {
  preflight();
} catch (e) {
  // A missing browser, package or model is a setup problem: say which, without a stack trace.
  console.error(`bench:browser: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
ensureDist();
const server = await serve();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.error(`[page] ${m.text()}`); });
  page.on("pageerror", (e) => console.error(`[page] ${e.message}`));
  await page.goto(server.url);
  await page.waitForFunction(`document.title === "ready"`, undefined, { timeout: 30_000 });
  if ((await call(page, "isolated")) !== true) throw new Error("the bench page is not cross-origin isolated: no threads");
  const rows: Row[] = [];
  for (let i = 0; i < models.length; i++) {
    console.error(`${basename(models[i]!)} ...`);
    rows.push(...(await benchModel(page, i)));
  }
  printTable(rows);
} finally {
  await browser.close();
  await server.close();
}
