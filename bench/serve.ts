/**
 * Load on `peel serve`, and the same load on llama-server: each engine serves the same model file with the
 * same slots (--parallel; llama-server gets `-np N -c N×ctx`, so each slot holds what a Peel slot holds)
 * and is driven with the official `openai` client: C streaming completions at a time for C in
 * --concurrency (default 1,4,16), each client sending requests back to back, --requests per level, every
 * request the same prompt cycle, seed, sampler chain (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, given
 * explicitly) and length (end of text banned, so each runs to --max-tokens). Reports requests/s, generated tokens/s, time to first token and inter-token latency
 * (p50/p99) per level and server, and the ratio Peel ÷ llama-server of each figure (throughput: > 1 is
 * Peel ahead; latency: < 1 is Peel ahead). Each engine runs once per thread count in --threads and
 * --llama-threads (default 1,2 for both, as bench:llamacpp does: on a loaded machine llama.cpp's spinning
 * thread pool can stall with as many threads as cores), and the ratio compares each engine's best server at
 * that level (by tokens/s). The servers' levels alternate (every server at C=1, then at C=4, ...), all
 * servers up (an idle one uses no CPU), so drifting load on a shared machine hits all alike.
 *
 * llama-server comes from --llama-server PATH or $LLAMA_SERVER (built from the bundled llama.cpp source,
 * see bench/README.md); without one, only Peel runs and the script says so. With --soak N, then N more
 * requests to Peel (4 clients) and its resident memory (from /metrics) at 0, N/2 and N. Not part of the
 * tests: `npm run bench:serve -- [--parallel 2] [--max-tokens 64] [--threads 1,2] [--llama-server PATH] [--soak 500] [--json]`.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { openFileSource } from "../src/formats/byte-source.node.js";
import { readGgufHeader } from "../src/formats/gguf/read.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    model: { type: "string", default: join(ROOT, "models/peel-tinystories-1m.gguf") },
    parallel: { type: "string", default: "2" },
    concurrency: { type: "string", default: "1,4,16" },
    requests: { type: "string", default: "32" },
    "max-tokens": { type: "string", default: "64" },
    threads: { type: "string", default: "1,2" },
    "llama-threads": { type: "string" },
    "ctx-size": { type: "string", default: "256" },
    "llama-server": { type: "string", default: process.env["LLAMA_SERVER"] ?? "" },
    soak: { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});
const MODEL = values.model ?? "";
const PARALLEL = Number(values.parallel);
const THREADS = (values.threads ?? "2").split(",");
const LLAMA_THREADS = (values["llama-threads"] ?? values.threads ?? "2").split(",");
const CTX = Number(values["ctx-size"]);
const levels = (values.concurrency ?? "1").split(",").map(Number);
const perLevel = Number(values.requests);
const maxTokens = Number(values["max-tokens"]);
/** The model's end-of-text token, banned so that every request runs to max_tokens on both engines. */
const modelSource = await openFileSource(MODEL);
const eosKv = (await readGgufHeader(modelSource)).metadata.get("tokenizer.ggml.eos_token_id");
await modelSource.close();
const EOS_BAN: Record<string, number> = eosKv !== undefined && typeof eosKv.value === "number" ? { [String(eosKv.value)]: -100 } : {};
/**
 * The sampler chain, spelled out so both engines run the same one: llama-server's defaults (top-k 40, top-p
 * 0.95, min-p 0.05) at temperature 0.8. Left out, each falls back to its own defaults (Peel: OpenAI's, no
 * top-k, which makes Peel sort the whole vocabulary every step), and the two would not do the same work.
 */
const SAMPLING = { temperature: 0.8, top_k: 40, top_p: 0.95, min_p: 0.05 } as const;
const PROMPTS = ["Once upon a time", "The little dog", "Tom and Sue went to the park", "One day, a bird", "Lily had a red ball"];

type Engine = "peel" | "llama-server";
interface Level { server: string; engine: Engine; concurrency: number; requests: number; failed: number; seconds: number; requestsPerS: number; tokensPerS: number; ttftP50Ms: number; ttftP99Ms: number; itlP50Ms: number; itlP99Ms: number }
interface Server { readonly label: string; readonly engine: Engine; readonly url: string; readonly client: OpenAI; stop(): void }

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const a = s.address(); s.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0)); });
  });
}

function server(engine: Engine, threads: string, child: ChildProcess, url: string): Server {
  return { label: `${engine} -t ${threads}`, engine, url, client: new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 }), stop: () => child.kill("SIGINT") };
}

async function startPeel(threads: string): Promise<Server> {
  const args = ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "serve", "--model", MODEL, "--alias", "bench", "--port", "0",
    "--parallel", String(PARALLEL), "--ctx-size", String(CTX), "--threads", threads];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => { out += d.toString(); const m = /listening on (http:\/\/\S+)/.exec(out); if (m?.[1] !== undefined) resolve(m[1]); });
    child.on("exit", (code) => reject(new Error(`peel serve exited with ${code}`)));
  });
  return server("peel", threads, child, url);
}

/** llama-server on the same file: N slots of CTX tokens each (its -c is split across the slots), same threads. */
async function startLlamaServer(bin: string, threads: string): Promise<Server> {
  const port = await freePort();
  const args = ["-m", MODEL, "--host", "127.0.0.1", "--port", String(port), "-np", String(PARALLEL), "-c", String(CTX * PARALLEL), "--no-kv-unified",
    "-t", threads, "-tb", threads, "-a", "bench", "--no-webui"];
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`llama-server exited with ${child.exitCode}:\n${log}`);
    const ok = await fetch(`${url}/health`).then((r) => r.status === 200, () => false);
    if (ok) return server("llama-server", threads, child, url);
    await new Promise((res) => setTimeout(res, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`llama-server did not become healthy in 60 s:\n${log}`);
}

async function runLevel(s: Server, concurrency: number, requests = perLevel): Promise<Level> {
  const ttft: number[] = [], itl: number[] = [];
  let tokens = 0, done = 0, failed = 0, next = 0;
  const t0 = performance.now();
  async function worker(): Promise<void> {
    while (next < requests) {
      const i = next++;
      const start = performance.now();
      let last = start, first = true;
      try {
        const stream = await s.client.completions.create({
          model: "bench", prompt: PROMPTS[i % PROMPTS.length] ?? "", max_tokens: maxTokens, seed: i, stream: true,
          stream_options: { include_usage: true }, logit_bias: EOS_BAN, ...SAMPLING,
        });
        for await (const chunk of stream) {
          if (chunk.usage) tokens += chunk.usage.completion_tokens;
          if (chunk.choices.length === 0 || chunk.choices[0]?.text === "") continue;
          const now = performance.now();
          if (first) { ttft.push(now - start); first = false; } else itl.push(now - last);
          last = now;
        }
      } catch (e) {
        // counted and shown, not fatal: one server's failure should not hide the other figures
        failed++;
        console.error(`bench:serve: ${s.label} request ${i} at concurrency ${concurrency} failed: ${(e as Error).message} ${String((e as { cause?: { cause?: unknown } }).cause?.cause ?? "")}`);
        continue;
      }
      done++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return {
    server: s.label, engine: s.engine, concurrency, requests: done, failed, seconds: r2(seconds), requestsPerS: r2(done / seconds), tokensPerS: r2(tokens / seconds),
    ttftP50Ms: r2(pct(ttft, 50)), ttftP99Ms: r2(pct(ttft, 99)), itlP50Ms: r2(pct(itl, 50)), itlP99Ms: r2(pct(itl, 99)),
  };
}

/** Peel ÷ llama-server for each figure of one level. */
function ratio(p: Level, l: Level): Record<string, number | string> {
  const q = (a: number, b: number) => r2(a / b);
  return {
    concurrency: p.concurrency, peel: p.server, llama: l.server, requestsPerS: q(p.requestsPerS, l.requestsPerS), tokensPerS: q(p.tokensPerS, l.tokensPerS),
    ttftP50: q(p.ttftP50Ms, l.ttftP50Ms), ttftP99: q(p.ttftP99Ms, l.ttftP99Ms), itlP50: q(p.itlP50Ms, l.itlP50Ms), itlP99: q(p.itlP99Ms, l.itlP99Ms),
  };
}

const llamaBin = values["llama-server"] ?? "";
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
const loadBefore = load(); // a shared machine's load, shown with the figures
const servers: Server[] = [];
try {
  for (const t of THREADS) servers.push(await startPeel(t));
  if (llamaBin === "") console.error("bench:serve: no llama-server given (--llama-server PATH or LLAMA_SERVER=PATH); running Peel alone");
  else if (!existsSync(llamaBin)) console.error(`bench:serve: llama-server not found at ${llamaBin}; running Peel alone`);
  else for (const t of LLAMA_THREADS) servers.push(await startLlamaServer(llamaBin, t));
  for (const s of servers) await s.client.completions.create({ model: "bench", prompt: "warm up", max_tokens: 8 }).catch(() => undefined);
  const results: Level[] = [];
  for (const c of levels) for (const s of servers) results.push(await runLevel(s, c));
  const ratios = levels.flatMap((c) => {
    const best = (e: Engine) => results.filter((x) => x.engine === e && x.concurrency === c).sort((a, b) => b.tokensPerS - a.tokensPerS)[0];
    const p = best("peel"), l = best("llama-server");
    return p !== undefined && l !== undefined ? [ratio(p, l)] : [];
  });
  const soak = Number(values.soak);
  const rss: Array<{ requests: number; rssMiB: number }> = [];
  const peel = servers[0];
  if (soak > 0 && peel !== undefined) {
    const rssNow = async () => Number(/process_resident_memory_bytes (\d+)/.exec(await (await fetch(`${peel.url}/metrics`)).text())?.[1]) / 2 ** 20;
    rss.push({ requests: 0, rssMiB: Math.round(await rssNow()) });
    for (const half of [Math.floor(soak / 2), soak - Math.floor(soak / 2)]) {
      await runLevel(peel, 4, half);
      rss.push({ requests: (rss.at(-1)?.requests ?? 0) + half, rssMiB: Math.round(await rssNow()) });
    }
  }
  if (values.json === true) console.log(JSON.stringify({ model: MODEL, parallel: PARALLEL, threads: THREADS.map(Number), llamaThreads: LLAMA_THREADS.map(Number), ctx: CTX, maxTokens, loadBefore, loadAfter: load(), results, ratios, rss }));
  else {
    console.log(`${MODEL} · ${PARALLEL} slots of ${CTX} tokens · threads ${THREADS.join(",")} (llama-server ${LLAMA_THREADS.join(",")}) · ${perLevel} requests per level · ${maxTokens} tokens each · load average ${loadBefore} before, ${load()} after`);
    console.table(results);
    if (ratios.length > 0) { console.log("Peel ÷ llama-server, each engine's best server per level (throughput > 1 and latency < 1: Peel ahead):"); console.table(ratios); }
    if (rss.length > 0) { console.log("Peel's resident memory during the soak:"); console.table(rss); }
  }
} finally {
  for (const s of servers) s.stop();
}
