/**
 * The in-process OpenAI API (createChatCompletion, createChatCompletionStream, createCompletion,
 * createCompletionStream from the public index) against `peel serve` on the same model: for the same body
 * (greedy, and seeded sampling with n, stop and logprobs) the objects are equal but for `id` and `created`,
 * streamed chunks equal the server's events and assemble to the unstreamed text, a session passed in keeps
 * its prefix, and a bad body throws an ApiError (a PeelError) whose `param` names the field, as the server's
 * 400 does. The shipped model, chatml built-in template; one server (port 0) for the file.
 */

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import {
  ApiError, createChatCompletion, createChatCompletionStream, createCompletion, createCompletionStream, createSession, PeelError,
  type CompletionApiOptions,
} from "../src/index.js";
import { loadModel } from "../src/model/load.node.js";
import { createPeelServer } from "../src/server/server.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const model = await loadModel(join(ROOT, "models/peel-tinystories-1m.gguf"));
const peel = createPeelServer(model, { modelId: "tiny", parallel: 1, chatTemplate: { builtin: "chatml" } });
const { url } = await peel.listen(0);
after(async () => { await peel.close(); await model.dispose(); });

const OPTS: CompletionApiOptions = { modelId: "tiny", chatTemplate: { builtin: "chatml" } };
const EOS_BAN = { [String(model.tokenizer.eosId ?? 0)]: -100 };

type Json = Record<string, unknown>;
/** An answer without what differs per request (id, created). */
const stable = (o: unknown): Json => {
  const { id: _id, created: _created, ...rest } = o as Json;
  return rest;
};

async function serverPost(path: string, body: unknown): Promise<{ status: number; json: Json; events: Json[] }> {
  const res = await fetch(url + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.headers.get("content-type")?.startsWith("text/event-stream") === true) {
    const events = text.split("\n\n").filter((e) => e !== "").map((e) => e.replace(/^data: /, ""));
    assert.equal(events.at(-1), "[DONE]");
    return { status: res.status, json: {}, events: events.slice(0, -1).map((e) => JSON.parse(e) as Json) };
  }
  return { status: res.status, json: JSON.parse(text) as Json, events: [] };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const CHAT = { model: "tiny", messages: [{ role: "system", content: "You tell stories." }, { role: "user", content: "Tell me about a cat." }], max_tokens: 20, temperature: 0 };
const SAMPLED = { prompt: "The dog", max_tokens: 12, temperature: 1.1, seed: 42, n: 2, logprobs: 2, stop: [" and"], logit_bias: EOS_BAN };

test("greedy chat: the in-process object equals the server's answer for the same body", async () => {
  const local = await createChatCompletion(model, CHAT, OPTS);
  const remote = await serverPost("/v1/chat/completions", CHAT);
  assert.equal(remote.status, 200);
  assert.equal(local.object, "chat.completion");
  assert.match(local.id, /^chatcmpl-/);
  assert.deepEqual(stable(local), stable(remote.json));
});

test("seeded completion with n, stop and logprobs: equal to the server's, and the same seed gives the same object", async () => {
  const local = await createCompletion(model, SAMPLED, OPTS);
  const remote = await serverPost("/v1/completions", SAMPLED);
  assert.deepEqual(stable(local), stable(remote.json));
  assert.deepEqual(stable(await createCompletion(model, SAMPLED, OPTS)), stable(local));
  assert.equal(local.choices.length, 2);
});

test("streams: chunks equal the server's events and assemble to the unstreamed text; include_usage ends with the usage", async () => {
  const body = { ...CHAT, stream_options: { include_usage: true } };
  const chunks = await collect(createChatCompletionStream(model, body, OPTS));
  const remote = await serverPost("/v1/chat/completions", { ...body, stream: true });
  assert.deepEqual(chunks.map(stable), remote.events.map(stable));
  const whole = await createChatCompletion(model, CHAT, OPTS);
  let text = "";
  for (const c of chunks) for (const ch of c.choices) text += ch.delta.content ?? "";
  assert.equal(text, whole.choices[0]?.message.content);
  assert.deepEqual(chunks.at(-1)?.usage, whole.usage);
  // text completions, sampled, two choices interleaved by index
  const sampled = await collect(createCompletionStream(model, SAMPLED, OPTS));
  const remoteSampled = await serverPost("/v1/completions", { ...SAMPLED, stream: true });
  assert.deepEqual(sampled.map(stable), remoteSampled.events.map(stable));
  const texts = ["", ""];
  for (const c of sampled) for (const ch of c.choices) texts[ch.index] += ch.text;
  assert.deepEqual(texts, (await createCompletion(model, SAMPLED, OPTS)).choices.map((c) => c.text));
});

test("a session passed in keeps the conversation: the next turn finds its history and answers as a fresh session would", async () => {
  const session = createSession(model);
  const first = await createChatCompletion(model, CHAT, { ...OPTS, session });
  const held = session.tokens.length;
  assert.ok(held >= (first.usage.prompt_tokens), "the session holds the prompt and reply");
  const next = { ...CHAT, messages: [...CHAT.messages, { role: "assistant", content: first.choices[0]?.message.content ?? "" }, { role: "user", content: "And then?" }] };
  const again = await createChatCompletion(model, next, { ...OPTS, session });
  const fresh = await createChatCompletion(model, next, OPTS);
  assert.deepEqual(stable(again), stable(fresh));
  // one call at a time per session
  const a = createChatCompletion(model, CHAT, { ...OPTS, session });
  await assert.rejects(createChatCompletion(model, CHAT, { ...OPTS, session }), (e: unknown) => e instanceof PeelError && /one call at a time/.test(e.message));
  await a;
});

test("bad bodies throw ApiErrors (PeelErrors) naming the field, as the server's 400s do; the streams throw at the call", async () => {
  const cases: Array<[string, Json, string]> = [
    ["wrong type", { ...CHAT, temperature: "hot" }, "temperature"],
    ["empty messages", { messages: [] }, "messages"],
    ["bad content part", { messages: [{ role: "user", content: [{ type: "image_url" }] }] }, "messages[0].content[0].type"],
    ["max_tokens 0", { ...CHAT, max_tokens: 0 }, "max_tokens"],
    ["stop list too long", { ...CHAT, stop: Array.from({ length: 17 }, (_, i) => `s${i}`) }, "stop"],
    ["unknown model", { ...CHAT, model: "gpt-4" }, "model"],
    ["invalid JSON schema", { ...CHAT, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", properties: { a: { type: 3 } } } } } }, "response_format"],
  ];
  for (const [name, body, param] of cases) {
    const remote = await serverPost("/v1/chat/completions", body);
    await assert.rejects(createChatCompletion(model, body, OPTS), (e: unknown) => {
      assert.ok(e instanceof ApiError && e instanceof PeelError, name);
      assert.equal(e.param, param, name);
      assert.equal(e.status, remote.status, name);
      assert.deepEqual({ message: e.message, param: e.param, code: e.apiCode }, { message: (remote.json["error"] as Json)["message"], param: (remote.json["error"] as Json)["param"], code: (remote.json["error"] as Json)["code"] });
      return true;
    });
    assert.throws(() => createChatCompletionStream(model, body, OPTS), (e: unknown) => e instanceof ApiError && e.param === param, name);
  }
  await assert.rejects(createCompletion(model, { prompt: [1, model.config.vocabSize] }, OPTS), (e: unknown) => e instanceof ApiError && e.param === "prompt[1]");
  assert.throws(() => createCompletionStream(model, { prompt: "x", n: 1.5 }), (e: unknown) => e instanceof ApiError && e.param === "n");
  const over = await createCompletion(model, { prompt: "the cat ".repeat(300) }, { contextLength: 256 }).catch((e: unknown) => e);
  assert.ok(over instanceof PeelError && over.code === "CONTEXT_OVERFLOW", String(over));
});

test("without modelId any model name is accepted and echoed; an aborted call rejects with ABORTED", async () => {
  const r = await createCompletion(model, { model: "anything", prompt: "Hi", max_tokens: 2, temperature: 0 });
  assert.equal(r.model, "anything");
  const ac = new AbortController();
  const pending = createCompletion(model, { prompt: "Once upon a time", temperature: 0, logit_bias: EOS_BAN }, { signal: ac.signal, contextLength: 256 });
  setTimeout(() => ac.abort(), 5);
  await assert.rejects(pending, (e: unknown) => e instanceof PeelError && e.code === "ABORTED");
});
