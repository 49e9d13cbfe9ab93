/**
 * `peel serve`'s server over a real socket (port 0) with the shipped model, called with the official `openai`
 * npm client as an app would, plus raw fetch for the routes and errors the client does not reach: chat and
 * text completions streamed and not, usage equal to Peel's own token counts, greedy text equal to
 * generate(), seeds, stop strings, logprobs, n, embeddings, /tokenize round trips, two streams at once on
 * two slots (each equal to its run alone), a client abort freeing its slot, a full queue, and bad requests
 * (each answered with an OpenAI-shaped error, the server still serving afterwards; the fuzz test is
 * server-fuzz.e2e.test.ts). One server for the file;
 * the model has no chat template, so the server uses the chatml built-in. The CLI is spawned once at the end.
 */

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import OpenAI from "openai";
import { Ajv } from "ajv";
import { loadModel } from "../src/model/load.node.js";
import { generate } from "../src/generate/generate.js";
import { modelChatTemplate } from "../src/chat/model-template.js";
import { tokenizeChat } from "../src/chat/chat-session.js";
import { createPeelServer } from "../src/server/server.js";
import { peelArgv } from "./fixtures/peel-cli.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODEL_PATH = join(ROOT, "models/peel-tinystories-1m.gguf");
const KEY = "sk-test-key";
const model = await loadModel(MODEL_PATH);
const peel = createPeelServer(model, {
  modelId: "tiny", parallel: 2, maxQueue: 6, apiKey: KEY, bodyLimit: 64 * 1024, chatTemplate: { builtin: "chatml" },
});
const { url } = await peel.listen(0);
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
after(async () => { await peel.close(); await model.dispose(); });

const PROMPT = "Once upon a time";
const EOS_BAN = { [String(model.tokenizer.eosId ?? 0)]: -100 };

/** The fields the raw-fetch checks read: an error body, or /tokenize's and /detokenize's answers. */
interface Body {
  readonly error: { readonly message: string; readonly type: string; readonly param: string | null; readonly code: string | null };
  readonly tokens: number[];
  readonly content: string;
}

async function post(path: string, body: unknown, headers: Record<string, string> = { Authorization: `Bearer ${KEY}` }): Promise<{ status: number; json: Body; headers: Headers }> {
  const res = await fetch(url + path, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  // a streamed answer (a fuzzed body may ask for one): its events must be JSON, ending with [DONE]
  if (res.headers.get("content-type")?.startsWith("text/event-stream") === true) {
    const events = text.split("\n\n").filter((e) => e !== "").map((e) => e.replace(/^data: /, ""));
    assert.equal(events.at(-1), "[DONE]");
    for (const e of events.slice(0, -1)) JSON.parse(e);
    return { status: res.status, json: {} as Body, headers: res.headers };
  }
  return { status: res.status, json: JSON.parse(text) as Body, headers: res.headers };
}

async function generateText(prompt: string, maxTokens: number): Promise<string> {
  let text = "";
  for await (const t of generate(model, prompt, { maxTokens, temperature: 0 })) text += t.text;
  return text;
}

test("greedy completion equals generate(), usage equals the tokenizer's counts, streamed text equals the body", async () => {
  const want = await generateText(PROMPT, 24);
  const r = await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 24, temperature: 0 });
  assert.equal(r.object, "text_completion");
  assert.equal(r.choices[0]?.text, want);
  const ids = model.tokenize(PROMPT);
  assert.equal(r.usage?.prompt_tokens, ids.length);
  assert.equal(r.usage?.total_tokens, (r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
  assert.ok(r.choices[0]?.finish_reason === "length" || r.choices[0]?.finish_reason === "stop");
  // streamed: the pieces join to the same text; the usage chunk comes last with no choices
  const stream = await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = "", usage: OpenAI.CompletionUsage | undefined | null, finish: string | null | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) { text += c.text; finish ??= c.finish_reason; }
  }
  assert.equal(text, want);
  assert.equal(finish, r.choices[0]?.finish_reason);
  assert.deepEqual(usage, r.usage);
});

test("the library's generated tokens are the usage's completion_tokens", async () => {
  const g = generate(model, PROMPT, { maxTokens: 40, temperature: 0 });
  for await (const _ of g) { /* run */ }
  const r = await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 40, temperature: 0 });
  assert.equal(r.usage?.completion_tokens, g.tokens.length);
  assert.equal(r.choices[0]?.finish_reason, g.finishReason === "stop" ? "stop" : "length");
});

test("chat: the chatml rendering's tokens are the prompt usage; streamed and plain replies agree", async () => {
  const messages = [{ role: "system" as const, content: "You tell stories." }, { role: "user" as const, content: "Tell me about a cat." }];
  const template = modelChatTemplate(model, { builtin: "chatml" });
  const promptIds = tokenizeChat(model, template.render(messages, { addGenerationPrompt: true }));
  const r = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 20, temperature: 0 });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices[0]?.message.role, "assistant");
  assert.equal(r.usage?.prompt_tokens, promptIds.length);
  // the library on the same rendering, stopping where the template's turn ends, writes the same reply
  let want = "";
  for await (const t of generate(model, promptIds, { maxTokens: 20, temperature: 0, stop: [template.endOfTurn] })) want += t.text;
  assert.equal(r.choices[0]?.message.content, want);
  const stream = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 20, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = "", role: string | undefined, usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) { role ??= c.delta.role; text += c.delta.content ?? ""; }
  }
  assert.equal(role, "assistant");
  assert.equal(text, r.choices[0]?.message.content);
  assert.deepEqual(usage, r.usage);
});

const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(peel.metrics.render({ busySlots: 0, totalSlots: 0, queued: 0, rssBytes: 0 }))?.[1]);

test("prompt cache: a conversation's next turn finds its history in a slot and evaluates only the rest", async () => {
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Tell me about a frog who liked to sing." }];
  const first = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 12, temperature: 0 });
  messages.push({ role: "assistant", content: first.choices[0]?.message.content ?? "" }, { role: "user", content: "And then?" });
  const cachedBefore = metric("peel_prompt_tokens_cached_total");
  const second = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 12, temperature: 0 });
  const cached = metric("peel_prompt_tokens_cached_total") - cachedBefore;
  assert.ok(cached >= (first.usage?.prompt_tokens ?? Infinity), `${cached} cached of ${second.usage?.prompt_tokens}; the first turn's prompt had ${first.usage?.prompt_tokens}`);
  assert.ok(cached < (second.usage?.prompt_tokens ?? 0));
});

test("seed: the same seed gives the same text, another seed another", async () => {
  const ask = (seed: number) => client.completions.create({ model: "tiny", prompt: "The dog", max_tokens: 24, temperature: 1.2, seed, logit_bias: EOS_BAN });
  const a = (await ask(42)).choices[0]?.text;
  assert.equal((await ask(42)).choices[0]?.text, a);
  assert.notEqual((await ask(43)).choices[0]?.text, a);
});

test("stop strings end the text before the stop, with finish_reason stop", async () => {
  const full = (await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 24, temperature: 0 })).choices[0]?.text ?? "";
  const stop = " named";
  assert.ok(full.includes(stop), `fixture: "${full}" contains "${stop}"`);
  const r = await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 24, temperature: 0, stop: ["zzz", stop] });
  assert.equal(r.choices[0]?.text, full.slice(0, full.indexOf(stop)));
  assert.equal(r.choices[0]?.finish_reason, "stop");
});

test("logprobs: one entry per generated token with top alternatives (chat and completions)", async () => {
  const r = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 3, logit_bias: EOS_BAN });
  const content = r.choices[0]?.logprobs?.content ?? [];
  assert.equal(content.length, r.usage?.completion_tokens);
  for (const t of content) {
    assert.equal(t.top_logprobs.length, 3);
    assert.ok(t.logprob <= 0 && Array.isArray(t.bytes));
    assert.equal(t.top_logprobs[0]?.token, t.token, "greedy picks the most likely token");
  }
  assert.equal(content.map((t) => t.token).join(""), r.choices[0]?.message.content);
  const c = await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 5, temperature: 0, logprobs: 2, logit_bias: EOS_BAN });
  const lp = c.choices[0]?.logprobs;
  assert.equal(lp?.tokens?.length, 5);
  assert.equal(lp?.token_logprobs?.length, 5);
  assert.equal(Object.keys(lp?.top_logprobs?.[0] ?? {}).length, 2);
  // llama-server's post_sampling_probs: the draw's distribution, here the 2 candidates top-k keeps
  const sampled = await post("/v1/completions", { prompt: PROMPT, max_tokens: 3, temperature: 0.7, top_k: 2, seed: 1, logprobs: 5, post_sampling_probs: true });
  const tops = (sampled.json as unknown as { choices: Array<{ logprobs: { top_logprobs: Array<Record<string, number>> } }> }).choices[0]?.logprobs.top_logprobs ?? [];
  assert.equal(tops.length, 3);
  for (const t of tops) assert.ok(Object.keys(t).length <= 2 && Math.abs(Object.values(t).reduce((s, l) => s + Math.exp(l), 0) - 1) < 1e-6);
});

test("n = 2: two choices, indexed, usage counts both", async () => {
  const r = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], max_tokens: 10, temperature: 1, seed: 7, n: 2, logit_bias: EOS_BAN });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
  assert.notEqual(r.choices[0]?.message.content, r.choices[1]?.message.content);
  assert.equal(r.usage?.completion_tokens, 20);
  const stream = await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 10, temperature: 1, seed: 7, n: 2, stream: true, logit_bias: EOS_BAN });
  const texts = ["", ""];
  const finishes: (string | null)[] = [null, null];
  for await (const chunk of stream) for (const c of chunk.choices) { texts[c.index] += c.text; finishes[c.index] ??= c.finish_reason; }
  assert.deepEqual(finishes, ["length", "length"]);
  const plain = await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 10, temperature: 1, seed: 7, n: 2, logit_bias: EOS_BAN });
  assert.deepEqual(plain.choices.map((c) => c.text), texts);
});

test("/tokenize and /detokenize round trip; embeddings are unit vectors of the model's width", async () => {
  const text = "Lily saw a big red ball.";
  const t = await post("/tokenize", { content: text });
  assert.equal(t.status, 200);
  assert.deepEqual(t.json.tokens, model.tokenize(text, { addSpecial: false }));
  const d = await post("/detokenize", { tokens: t.json.tokens });
  assert.equal(d.json.content, text);
  const e = await client.embeddings.create({ model: "tiny", input: ["a cat", "a dog"] });
  assert.equal(e.data.length, 2);
  for (const v of e.data) {
    assert.equal(v.embedding.length, model.config.dim);
    assert.ok(Math.abs(Math.hypot(...v.embedding) - 1) < 1e-5);
  }
  assert.equal(e.usage.prompt_tokens, model.tokenize("a cat").length + model.tokenize("a dog").length);
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ["tiny"]);
});

async function streamText(prompt: string, maxTokens: number): Promise<string> {
  const s = await client.completions.create({ model: "tiny", prompt, max_tokens: maxTokens, temperature: 0, stream: true, logit_bias: EOS_BAN });
  let text = "";
  for await (const chunk of s) for (const c of chunk.choices) text += c.text;
  return text;
}

test("eight streams at once over two slots all complete, each equal to its run alone", async () => {
  const prompts = ["The little bird", "Tom had a red car", "One day, a cat", "Sue and Ben", "The sun was hot", "A big dog", "Mom said", "The tree"];
  const alone: string[] = [];
  for (const p of prompts) alone.push(await streamText(p, 24));
  let maxBusy = 0, maxQueued = 0;
  const poll = setInterval(() => { maxBusy = Math.max(maxBusy, peel.pool.busy); maxQueued = Math.max(maxQueued, peel.pool.queued); }, 1);
  const together = await Promise.all(prompts.map((p) => streamText(p, 24)));
  clearInterval(poll);
  assert.deepEqual(together, alone);
  assert.equal(maxBusy, 2, "both slots were busy at once");
  assert.ok(maxQueued >= 1, "the others waited in the queue");
});

test("a client abort stops generation and frees the slot; a full queue is 503 with Retry-After", async () => {
  const before = peel.metrics.render({ busySlots: 0, totalSlots: 0, queued: 0, rssBytes: 0 });
  const generatedBefore = Number(/peel_generated_tokens_total (\d+)/.exec(before)?.[1]);
  const ac = new AbortController();
  const s = await client.completions.create({ model: "tiny", prompt: PROMPT, temperature: 0, stream: true, logit_bias: EOS_BAN }, { signal: ac.signal });
  let chunks = 0;
  try {
    for await (const _ of s) { chunks++; ac.abort(); }
  } catch { /* the client may end the stream with an AbortError or quietly */ }
  assert.ok(chunks >= 1);
  for (let i = 0; i < 200 && peel.pool.busy > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(peel.pool.busy, 0, "the slot is free again");
  // fill both slots and the six-place queue with long requests, then one more is refused
  const acs = Array.from({ length: 8 }, () => new AbortController());
  const long = acs.map((a) => fetch(`${url}/v1/completions`, { method: "POST", signal: a.signal, headers: { Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ prompt: PROMPT, stream: true, temperature: 0, logit_bias: EOS_BAN }) }).catch(() => undefined));
  const pool = peel.pool; // read afresh each time (the checks above narrowed pool.busy to 0)
  for (let i = 0; i < 400 && !(pool.busy === 2 && pool.queued === 6); i++) await new Promise((r) => setTimeout(r, 2));
  const full = await post("/v1/completions", { prompt: PROMPT, max_tokens: 2 });
  for (const a of acs) a.abort();
  await Promise.all(long);
  assert.equal(full.status, 503);
  assert.equal(full.headers.get("retry-after"), "1");
  assert.equal(full.json.error.code, "queue_full");
  for (let i = 0; i < 200 && (peel.pool.busy > 0 || peel.pool.queued > 0); i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(peel.pool.busy + peel.pool.queued, 0);
  const after = peel.metrics.render({ busySlots: 0, totalSlots: 0, queued: 0, rssBytes: 0 });
  const generated = Number(/peel_generated_tokens_total (\d+)/.exec(after)?.[1]) - generatedBefore;
  assert.ok(generated < 3 * 200, `aborted requests stopped early (${generated} tokens over 9 of them)`);
  console.log(`# aborted requests generated ${generated} tokens in all`);
  const ok = await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 3, temperature: 0 });
  assert.equal(ok.usage?.completion_tokens, 3);
});

test("bad requests get OpenAI-shaped 4xx errors naming the problem, and the server keeps serving", async () => {
  const chat = (extra: Record<string, unknown>) => post("/v1/chat/completions", { messages: [{ role: "user", content: "Hi" }], max_tokens: 4, ...extra });
  const cases: Array<[string, Promise<{ status: number; json: Body }>, number, RegExp]> = [
    ["malformed JSON", post("/v1/chat/completions", "{\"messages\": ["), 400, /not valid JSON/],
    ["wrong type", chat({ temperature: "hot" }), 400, /temperature/],
    ["unknown model", chat({ model: "gpt-4" }), 404, /gpt-4/],
    ["empty messages", post("/v1/chat/completions", { messages: [] }), 400, /messages/],
    ["bad content part", chat({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }), 400, /messages\[0\]\.content\[0\]\.type/],
    ["max_tokens 0", chat({ max_tokens: 0 }), 400, /max_tokens/],
    ["absurd max_tokens", chat({ max_tokens: 1e6 }), 400, /max_tokens/],
    ["prompt over the context", post("/v1/completions", { prompt: "the cat ".repeat(300) }), 400, /context/],
    ["body over the limit", post("/v1/completions", { prompt: "x".repeat(70 * 1024) }), 413, /limit/],
    ["invalid JSON schema", chat({ response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", properties: { a: { type: 3 } } } } } }), 400, /response_format\.json_schema\.schema: .*#\/properties\/a/],
    ["unsupported schema keyword", chat({ response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "string", pattern: "^a+$" } } } }), 400, /pattern/],
    ["stop list too long", chat({ stop: Array.from({ length: 17 }, (_, i) => `s${i}`) }), 400, /stop/],
    ["top_logprobs without logprobs", chat({ top_logprobs: 2 }), 400, /top_logprobs/],
    ["no API key", post("/v1/completions", { prompt: "x" }, {}), 401, /API key/],
    ["wrong API key", post("/v1/completions", { prompt: "x" }, { Authorization: "Bearer nope" }), 401, /API key/],
    ["unknown route", post("/v1/nothing", {}), 404, /no route/],
  ];
  for (const [name, pending, status, message] of cases) {
    const r = await pending;
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.json)}`);
    assert.match(r.json.error.message, message, name);
    assert.equal(typeof r.json.error.type, "string", name);
    assert.ok("param" in r.json.error && "code" in r.json.error, name);
  }
  const wrongType = await chat({ temperature: "hot" });
  assert.equal(wrongType.json.error.param, "temperature");
  await assert.rejects(new OpenAI({ baseURL: `${url}/v1`, apiKey: "bad", maxRetries: 0 }).models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200, "/health needs no key");
  const cors = await fetch(`${url}/v1/models`, { method: "OPTIONS" });
  assert.equal(cors.headers.get("access-control-allow-origin"), "*");
  const ok = await client.completions.create({ model: "tiny", prompt: PROMPT, max_tokens: 2, temperature: 0 });
  assert.equal(ok.usage?.completion_tokens, 2);
});

test("response_format json_schema: every reply parses and validates (openai client, sampled, several seeds)", async () => {
  const schema = {
    type: "object",
    properties: {
      name: { type: "string", maxLength: 12 },
      age: { type: "integer", minimum: 1, maximum: 99 },
      mood: { enum: ["happy", "sad", "sleepy"] },
      friends: { type: "array", items: { type: "string", maxLength: 8 }, maxItems: 3 },
    },
    required: ["name", "age", "mood", "friends"],
    additionalProperties: false,
  } as const;
  const validate = new Ajv().compile(schema);
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.create({
      model: "tiny", messages: [{ role: "user", content: "Describe a character." }], temperature: 1, seed, max_tokens: 200,
      response_format: { type: "json_schema", json_schema: { name: "character", schema, strict: true } },
    });
    const text = r.choices[0]?.message.content ?? "";
    const value: unknown = JSON.parse(text);
    assert.ok(validate(value), `seed ${seed}: ${text} ${JSON.stringify(validate.errors)}`);
    assert.equal(r.choices[0]?.finish_reason, "stop");
  }
  // json_object bounds nothing, and the 1M story model never closes a string (it writes a story inside the
  // first key), so its replies run to max_tokens; they must still be JSON so far: an object opened, and a
  // reply that does end by itself must parse as an object
  for (const seed of [1, 2]) {
    const obj = await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }], temperature: 1, seed, max_tokens: 40, response_format: { type: "json_object" } });
    const text = obj.choices[0]?.message.content ?? "";
    assert.match(text, /^\{\s*("|\})/);
    if (obj.choices[0]?.finish_reason === "stop") assert.equal(typeof JSON.parse(text), "object");
  }
});

test("peel serve (the CLI) prints its address and serves /health", async () => {
  const child = spawn(process.execPath, [...peelArgv(), "serve", "--model", MODEL_PATH, "--port", "0", "--threads", "1"], { cwd: ROOT });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => { out += d.toString(); const m = /listening on (http:\/\/\S+)/.exec(out); if (m?.[1] !== undefined) resolve(m[1]); });
      child.on("exit", (code) => reject(new Error(`peel serve exited with ${code}`)));
    });
    const r = await fetch(`${address}/health`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { status: string }).status, "ok");
  } finally {
    child.kill("SIGINT");
  }
});
