/**
 * Peel in a dedicated Worker of the bench page, as the inspector app runs it (a page's main thread may not
 * block, and the wasm pool's caller waits on its workers). It imports the built package entry (dist/index.js)
 * by URL, so only Peel's public API is used, and the pool's workers load from dist/ beside it.
 * One worker holds one model at one thread count.
 */

/// <reference lib="webworker" />
import type { FromPeelWorker, Prompt, RunTimes, ToPeelWorker } from "./protocol.js";
import type { Session, Tokenizer } from "../../src/index.js";

type PeelApi = typeof import("../../src/index.js");
declare const self: DedicatedWorkerGlobalScope;
/** The built package entry, served by bench/browser.ts (a variable, so tsc does not resolve it as a module). */
const PEEL_URL = "/dist/index.js";

let session: Session | undefined;
let tokenizer: Tokenizer | undefined;

/** Plain words to build prompts from (any text would do: speed does not depend on which ids are evaluated). */
const WORDS = ("Once upon a time there was a little girl named Lily . She liked to play in the park with her dog , " +
  "and every day they ran to the big tree by the river to look at the birds and the boats").split(" ");

/** A text of exactly n tokens (BOS counted where the model adds one): words while they fit, then one-token fillers. */
function promptOf(n: number): Prompt {
  if (tokenizer === undefined) throw new Error("prompt before load");
  const tok = tokenizer;
  let text = "";
  let count = tok.countTokens(text);
  for (let i = 0, misses = 0; count < n && misses < WORDS.length; i++) {
    const next = `${text}${text === "" ? "" : " "}${WORDS[i % WORDS.length] as string}`;
    const c = tok.countTokens(next);
    if (c <= n) { text = next; count = c; misses = 0; } else misses++;
  }
  if (count !== n) throw new Error(`cannot build a prompt of exactly ${n} tokens (got ${count})`);
  return { text, ids: tok.encode(text) };
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if ((x[i] as number) > (x[best] as number)) best = i;
  return best;
}

async function load(url: string, threads: number, contextLength: number): Promise<number> {
  const peel = (await import(PEEL_URL)) as PeelApi;
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch ${url}: HTTP ${r.status}`);
  const bytes = new Uint8Array(await r.arrayBuffer());
  const model = await peel.loadModelFromSource(peel.bytesSource(bytes, url), { backend: "wasm", threads });
  // Flash attention on, as llama.cpp (and so wllama) is told here too; one batch for the whole prompt.
  session = peel.createSession(model, { contextLength, batchSize: Math.min(contextLength, 512), flashAttention: "on" });
  tokenizer = model.tokenizer;
  return model.config.vocabSize;
}

/** One prefill of `prompt`, then `gen` greedy steps (the first feeds the argmax of the prompt's logits). */
function run(prompt: readonly number[], gen: number): RunTimes {
  if (session === undefined) throw new Error("run before load");
  session.reset();
  const t0 = performance.now();
  const logits = session.evaluate(prompt);
  const t1 = performance.now();
  let id = argmax(logits);
  for (let i = 0; i < gen; i++) id = argmax(session.evaluate([id]));
  const t2 = performance.now();
  return { promptN: prompt.length, prefillMs: t1 - t0, decodeN: gen, decodeMs: t2 - t1 };
}

self.onmessage = (e: MessageEvent<ToPeelWorker>) => {
  const m = e.data;
  const work = m.op === "load" ? load(m.url, m.threads, m.contextLength)
    : Promise.resolve().then(() => (m.op === "prompt" ? promptOf(m.n) : run(m.prompt, m.gen)));
  work.then(
    (value) => self.postMessage({ id: m.id, ok: true, value } satisfies FromPeelWorker),
    (err: unknown) => self.postMessage({ id: m.id, ok: false, error: err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err) } satisfies FromPeelWorker),
  );
};
