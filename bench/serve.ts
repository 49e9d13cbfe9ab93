/**
 * Load on `peel serve`: spawns the server (the shipped model unless --model, --parallel slots) and drives it
 * with the official `openai` client, C streaming completions at a time for C in --concurrency (default
 * 1,2,4,8), each client sending requests back to back for --requests per level. Reports requests/s, generated
 * tokens/s, time to first token and inter-token latency (p50/p99) per level, as a table and, with --json, as
 * one JSON line. With --soak N, then N more requests (4 clients) and the server's resident memory (from
 * /metrics) at 0, N/2 and N, to see that it stays flat. Not part of the tests:
 * `npm run bench:serve -- [--parallel 2] [--max-tokens 64] [--soak 500]`.
 */

import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import OpenAI from "openai";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: {
    model: { type: "string", default: join(ROOT, "models/peel-tinystories-1m.gguf") },
    parallel: { type: "string", default: "2" },
    concurrency: { type: "string", default: "1,2,4,8" },
    requests: { type: "string", default: "16" },
    "max-tokens": { type: "string", default: "64" },
    threads: { type: "string" },
    soak: { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});
const levels = (values.concurrency ?? "1").split(",").map(Number);
const perLevel = Number(values.requests);
const maxTokens = Number(values["max-tokens"]);
const PROMPTS = ["Once upon a time", "The little dog", "Tom and Sue went to the park", "One day, a bird", "Lily had a red ball"];

interface Level { concurrency: number; requests: number; seconds: number; requestsPerS: number; tokensPerS: number; ttftP50Ms: number; ttftP99Ms: number; itlP50Ms: number; itlP99Ms: number }

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const args = ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "serve", "--model", values.model ?? "", "--alias", "bench", "--port", "0", "--parallel", values.parallel ?? "1",
    ...(values.threads !== undefined ? ["--threads", values.threads] : [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => { out += d.toString(); const m = /listening on (http:\/\/\S+)/.exec(out); if (m?.[1] !== undefined) resolve(m[1]); });
    child.on("exit", (code) => reject(new Error(`peel serve exited with ${code}`)));
  });
  return { url, stop: () => child.kill("SIGINT") };
}

async function runLevel(client: OpenAI, concurrency: number, requests = perLevel): Promise<Level> {
  const ttft: number[] = [], itl: number[] = [];
  let tokens = 0, done = 0, next = 0;
  const t0 = performance.now();
  async function worker(): Promise<void> {
    while (next < requests) {
      const i = next++;
      const start = performance.now();
      let last = start, first = true;
      const stream = await client.completions.create({
        model: "bench", prompt: PROMPTS[i % PROMPTS.length] ?? "", max_tokens: maxTokens, temperature: 0.8, seed: i, stream: true,
        stream_options: { include_usage: true }, logit_bias: { "0": -100 },
      });
      for await (const chunk of stream) {
        if (chunk.usage) tokens += chunk.usage.completion_tokens;
        if (chunk.choices.length === 0 || chunk.choices[0]?.text === "") continue;
        const now = performance.now();
        if (first) { ttft.push(now - start); first = false; } else itl.push(now - last);
        last = now;
      }
      done++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    concurrency, requests: done, seconds: r(seconds), requestsPerS: r(done / seconds), tokensPerS: r(tokens / seconds),
    ttftP50Ms: r(pct(ttft, 50)), ttftP99Ms: r(pct(ttft, 99)), itlP50Ms: r(pct(itl, 50)), itlP99Ms: r(pct(itl, 99)),
  };
}

const server = await startServer();
try {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "none", maxRetries: 0 });
  await client.completions.create({ model: "bench", prompt: "warm up", max_tokens: 8 }).catch(() => undefined);
  const results: Level[] = [];
  for (const c of levels) results.push(await runLevel(client, c));
  const soak = Number(values.soak);
  const rss: Array<{ requests: number; rssMiB: number }> = [];
  if (soak > 0) {
    const rssNow = async () => Number(/process_resident_memory_bytes (\d+)/.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]) / 2 ** 20;
    rss.push({ requests: 0, rssMiB: Math.round(await rssNow()) });
    for (const half of [Math.floor(soak / 2), soak - Math.floor(soak / 2)]) {
      await runLevel(client, 4, half);
      rss.push({ requests: (rss.at(-1)?.requests ?? 0) + half, rssMiB: Math.round(await rssNow()) });
    }
  }
  if (values.json === true) console.log(JSON.stringify({ model: values.model, parallel: Number(values.parallel), maxTokens, results, rss }));
  else {
    console.log(`peel serve · ${values.model} · ${values.parallel} slots · ${perLevel} requests per level · ${maxTokens} tokens each`);
    console.table(results);
    if (rss.length > 0) { console.log("resident memory during the soak:"); console.table(rss); }
  }
} finally {
  server.stop();
}
