/**
 * The bench page: loads engines on request and times runs; bench/browser.ts drives it through Playwright
 * (globalThis.bench, protocol.ts) and does the alternating, the medians and the table.
 * - Peel runs in a dedicated Worker (peel-worker.ts), one per loaded instance.
 * - wllama (llama.cpp compiled to WebAssembly) runs in its own worker, CPU only (n_gpu_layers 0), its .wasm
 *   served from node_modules. Its times are llama-server's own: prompt_ms for the prompt batch, and
 *   predicted_ms over predicted_n - 1 decode steps (the first generated token comes from the prompt's logits).
 *   Its completion call takes text only, so the prompt goes in as text (protocol.ts: Prompt).
 */

import type { BenchPage, Engine, FromPeelWorker, Prompt, RunTimes, ToPeelWorker } from "./protocol.js";
import type { Wllama as WllamaClass } from "@wllama/wllama";

type WllamaApi = typeof import("@wllama/wllama");
/** wllama's ESM build, served from node_modules by bench/browser.ts (a variable, so tsc does not resolve it). */
const WLLAMA_URL = "/wllama/index.js";

interface Instance {
  run(prompt: Prompt, gen: number): Promise<RunTimes>;
  prompt?(n: number): Promise<Prompt>;
  unload(): Promise<void>;
}

async function peelInstance(url: string, threads: number, contextLength: number): Promise<{ inst: Instance; vocab: number }> {
  const worker = new Worker(new URL("./peel-worker.ts", import.meta.url), { type: "module" });
  type Answer = number | RunTimes | Prompt;
  const pending = new Map<number, { ok: (v: Answer) => void; fail: (e: Error) => void }>();
  let next = 0;
  worker.onmessage = (e: MessageEvent<FromPeelWorker>) => {
    const p = pending.get(e.data.id);
    pending.delete(e.data.id);
    if (e.data.ok) p?.ok(e.data.value);
    else p?.fail(new Error(`peel worker: ${e.data.error}`));
  };
  worker.onerror = (e) => { for (const p of pending.values()) p.fail(new Error(`peel worker failed: ${e.message}`)); };
  type Unsent = ToPeelWorker extends infer M ? (M extends ToPeelWorker ? Omit<M, "id"> : never) : never;
  const call = (m: Unsent): Promise<Answer> =>
    new Promise((ok, fail) => { const id = next++; pending.set(id, { ok, fail }); worker.postMessage({ ...m, id }); });
  const vocab = await call({ op: "load", url, threads, contextLength });
  if (typeof vocab !== "number") throw new Error("peel worker: load answered no vocabulary size");
  return {
    vocab,
    inst: {
      run: async (prompt, gen) => {
        const t = await call({ op: "run", prompt: prompt.ids, gen });
        if (typeof t !== "object" || !("decodeMs" in t)) throw new Error("peel worker: run answered no times");
        return t;
      },
      prompt: async (n) => {
        const p = await call({ op: "prompt", n });
        if (typeof p !== "object" || !("ids" in p)) throw new Error("peel worker: prompt answered no prompt");
        return p;
      },
      unload: async () => worker.terminate(),
    },
  };
}

async function wllamaInstance(url: string, threads: number, contextLength: number): Promise<{ inst: Instance; vocab: number }> {
  const { Wllama } = (await import(WLLAMA_URL)) as WllamaApi;
  const wasm = new URL("/wllama/wasm/wllama.wasm", location.href).href;
  const w: WllamaClass = new Wllama({ default: wasm }, { suppressNativeLog: true, logger: { debug: () => {}, log: () => {}, warn: console.warn, error: console.error } });
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch ${url}: HTTP ${r.status}`);
  const blob = await r.blob();
  await w.loadModel([blob], {
    n_threads: threads, n_gpu_layers: 0, n_ctx: contextLength, n_batch: 512, n_ubatch: 512, n_parallel: 1, flash_attn: true,
  });
  if (w.getNumThreads() !== threads) throw new Error(`wllama runs ${w.getNumThreads()} threads, asked for ${threads} (is the page cross-origin isolated?)`);
  const vocab = w.getLoadedContextInfo().n_vocab;
  return {
    vocab,
    inst: {
      run: async (prompt, gen) => {
        // gen + 1 tokens: the first comes from the prompt's logits, then gen decode steps. cache_prompt off, or
        // runs after the first would find the prompt in the cache and skip the prefill.
        const opts = { prompt: prompt.text, max_tokens: gen + 1, temperature: 0, top_k: 1, ignore_eos: true, cache_prompt: false };
        const res = await w.createCompletion(opts);
        const t = res.timings;
        if (t === undefined) throw new Error("wllama: the completion carried no timings");
        return { promptN: t.prompt_n, prefillMs: t.prompt_ms, decodeN: t.predicted_n - 1, decodeMs: t.predicted_ms };
      },
      unload: () => w.exit(),
    },
  };
}

const instances = new Map<string, Instance>();

const bench: BenchPage = {
  async load(engine: Engine, key: string, url: string, threads: number, contextLength: number): Promise<number> {
    const { inst, vocab } = engine === "peel" ? await peelInstance(url, threads, contextLength) : await wllamaInstance(url, threads, contextLength);
    instances.set(key, inst);
    return vocab;
  },
  async prompt(key, n) {
    const p = instances.get(key)?.prompt;
    if (p === undefined) throw new Error(`no loaded Peel instance ${key}`);
    return p(n);
  },
  async run(key, prompt, gen) {
    const inst = instances.get(key);
    if (inst === undefined) throw new Error(`no loaded instance ${key}`);
    return inst.run(prompt, gen);
  },
  async unload(key) {
    await instances.get(key)?.unload();
    instances.delete(key);
  },
  isolated: () => globalThis.crossOriginIsolated,
};

Object.assign(globalThis, { bench });
document.title = "ready";
