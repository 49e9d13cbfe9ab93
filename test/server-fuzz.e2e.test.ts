/**
 * Fuzzing `peel serve`: a few thousand mutated request bodies posted over a real socket to the generation,
 * embedding and tokenizer routes, four at a time (two slots, so requests also queue). A body starts valid
 * and gets one to three mutations: a value anywhere in its tree (nested messages, content parts,
 * response_format, stream_options included) replaced by junk of another type or deleted, or the JSON text
 * itself cut short or with a character changed. Every answer must be 200 (a streamed one well-formed SSE
 * ending in [DONE]) or an OpenAI-shaped 4xx, never a 5xx or a dropped connection, and the server must still
 * serve a plain request afterwards. Seeded, so a failing body can be replayed; the shipped model, sizes kept
 * tiny (max_tokens and n mutate only to small or invalid values) so the file runs in seconds.
 */

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { loadModel } from "../src/model/load.node.js";
import { createPeelServer } from "../src/server/server.js";
import { mulberry32 } from "./tokenizer-parity-strings.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const model = await loadModel(join(ROOT, "models/peel-tinystories-1m.gguf"));
const peel = createPeelServer(model, { modelId: "tiny", parallel: 2, maxQueue: 8, bodyLimit: 64 * 1024, chatTemplate: { builtin: "chatml" } });
const { url } = await peel.listen(0);
after(async () => { await peel.close(); await model.dispose(); });

const BODIES = 3000;
const AT_ONCE = 4;

type Node = Record<string, unknown> | unknown[];
const JUNK: readonly unknown[] = [null, true, false, -1, 0, 1.5, 1e308, -1e9, "", "x", "0", "user", "text", [], [1, "a"], {}, { a: 1 }, [[]],
  "\u0000\uffff", "\ud800", Array(40).fill("s"), { type: "json_schema" }, [{ role: "user" }], { "-1": 5 }];
const SIZES: readonly unknown[] = [0, -3, 1.5, "2", 1e9, null, 1, 2]; // max_tokens and n: invalid or tiny

function base(): Record<string, unknown> {
  return {
    model: "tiny", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: [{ type: "text", text: "Hi" }] }], prompt: "Hi",
    max_tokens: 2, temperature: 0.5, top_p: 0.9, top_k: 5, min_p: 0.05, n: 1, seed: 1, stop: ["."], logprobs: false, top_logprobs: 1,
    stream: false, stream_options: { include_usage: true }, logit_bias: { "5": 1 }, presence_penalty: 0, frequency_penalty: 0,
    response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", properties: { a: { type: "integer", maximum: 9 } }, required: ["a"] } } },
    input: ["hi", [1, 2]], content: "hi", tokens: [1, 2], encoding_format: "float",
  };
}

/** Every (container, key) in the tree, so a mutation may land at any depth. */
function slots(node: Node, out: Array<[Node, string | number]> = []): Array<[Node, string | number]> {
  const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
  for (const k of keys) {
    out.push([node, k]);
    const v = (node as Record<string | number, unknown>)[k];
    if (typeof v === "object" && v !== null) slots(v as Node, out);
  }
  return out;
}

function mutatedBody(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const body = base();
  for (let m = 0, k = 1 + Math.floor(rand() * 3); m < k; m++) {
    const [node, key] = pick(slots(body));
    const rec = node as Record<string | number, unknown>;
    if (rand() < 0.2) { if (Array.isArray(node) && typeof key === "number") node.splice(key, 1); else delete rec[key]; }
    else rec[key] = key === "max_tokens" || key === "n" ? pick(SIZES) : structuredClone(pick(JUNK));
  }
  const text = JSON.stringify(body);
  const r = rand();
  if (r < 0.08) return text.slice(0, Math.floor(rand() * text.length)); // cut short
  if (r < 0.16) { // one character changed
    const at = Math.floor(rand() * text.length);
    return text.slice(0, at) + pick(["{", "}", "[", "]", "\"", ",", ":", "0", "a", "\\", "\u00e9", " "]) + text.slice(at + 1);
  }
  return text;
}

interface Answer { readonly status: number; readonly error: string | undefined }

async function post(path: string, raw: string): Promise<Answer> {
  const res = await fetch(url + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: raw });
  const text = await res.text();
  if (res.headers.get("content-type")?.startsWith("text/event-stream") === true) {
    const events = text.split("\n\n").filter((e) => e !== "").map((e) => e.replace(/^data: /, ""));
    assert.equal(events.at(-1), "[DONE]", `a stream ends with [DONE]: ${raw}`);
    for (const e of events.slice(0, -1)) assert.equal(typeof JSON.parse(e), "object");
    return { status: res.status, error: undefined };
  }
  const json = JSON.parse(text) as { error?: { message?: unknown } };
  return { status: res.status, error: typeof json.error?.message === "string" ? json.error.message : undefined };
}

test(`fuzz: ${BODIES} mutated request bodies each get 200 or an OpenAI-shaped 4xx (never 5xx), and the server still serves`, async () => {
  const rand = mulberry32(1234);
  const paths = ["/v1/chat/completions", "/v1/chat/completions", "/v1/completions", "/v1/completions", "/v1/embeddings", "/tokenize", "/detokenize"];
  const jobs = Array.from({ length: BODIES }, (_, i) => ({ i, path: paths[Math.floor(rand() * paths.length)] as string, raw: mutatedBody(rand) }));
  const seen = new Map<number, number>();
  let next = 0;
  const t0 = performance.now();
  async function worker(): Promise<void> {
    for (let job = jobs[next++]; job !== undefined; job = jobs[next++]) {
      const a = await post(job.path, job.raw);
      seen.set(a.status, (seen.get(a.status) ?? 0) + 1);
      assert.ok(a.status === 200 || (a.status >= 400 && a.status < 500), `body ${job.i} to ${job.path} (${job.raw}): status ${a.status} ${a.error ?? ""}`);
      if (a.status !== 200) assert.ok(a.error !== undefined, `body ${job.i}: an OpenAI-shaped error`);
    }
  }
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  const seconds = (performance.now() - t0) / 1000;
  assert.ok((seen.get(200) ?? 0) > BODIES / 10 && (seen.get(400) ?? 0) > BODIES / 4, JSON.stringify([...seen]));
  console.log(`# fuzz: ${BODIES} bodies in ${seconds.toFixed(1)} s, statuses ${JSON.stringify(Object.fromEntries(seen))}`);
  assert.equal(peel.pool.busy + peel.pool.queued, 0, "every slot is free again");
  const ok = await fetch(`${url}/v1/completions`, { method: "POST", body: JSON.stringify({ prompt: "Once upon a time", max_tokens: 2, temperature: 0 }) });
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens, 2);
});
