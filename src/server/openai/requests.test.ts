// OpenAI request bodies → Peel's records: wire names mapped once, OpenAI's defaults, llama-server's extras,
// and each mistake a 400 whose param names the field.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../api-error.js";
import { parseChatRequest, parseCompletionRequest, parseEmbeddingsRequest } from "./requests.js";

const V = 100;
const rejects = (f: () => unknown, param: string) =>
  assert.throws(f, (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === param, `param ${param}`);

test("chat: fields map to camelCase options with OpenAI's defaults", () => {
  const r = parseChatRequest({
    messages: [{ role: "developer", content: "Be brief." }, { role: "user", content: [{ type: "text", text: "Hi " }, { type: "text", text: "there" }] }],
    max_completion_tokens: 7, top_p: 0, seed: -1, logprobs: true, top_logprobs: 3, logit_bias: { "5": -100, "6": 2.5 },
    stream: true, stream_options: { include_usage: true }, stop: "END", min_p: 0.1, repeat_penalty: 1.1,
  }, V);
  assert.deepEqual(r.messages, [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi there" }]);
  assert.equal(r.maxTokens, 7);
  assert.equal(r.seed, 2 ** 32 - 1);
  assert.equal(r.logprobs, 3);
  assert.deepEqual(r.stop, ["END"]);
  assert.equal(r.includeUsage, true);
  assert.deepEqual(r.sampling, { temperature: 1, topP: 1e-9, topK: 40, minP: 0.1, repeatPenalty: 1.1, logitBias: { 5: -Infinity, 6: 2.5 } });
  assert.deepEqual(r.responseFormat, { type: "text" });
  const plain = parseChatRequest({ messages: [{ role: "user", content: "x" }] }, V);
  assert.equal(plain.logprobs, undefined);
  assert.equal(plain.n, 1);
  assert.equal(plain.stream, false);
  assert.equal(plain.maxTokens, undefined);
});

test("completions: text, token ids, logprobs count; embeddings: inputs and encoding", () => {
  assert.deepEqual(parseCompletionRequest({ prompt: [1, 2, 3], logprobs: 2 }, V).prompt, [1, 2, 3]);
  assert.equal(parseCompletionRequest({ prompt: ["one"] }, V).prompt, "one");
  assert.equal(parseCompletionRequest({ prompt: "x", logprobs: 2 }, V).logprobs, 2);
  const e = parseEmbeddingsRequest({ input: ["a", [1, 2]], encoding_format: "base64" }, V);
  assert.deepEqual(e.inputs, ["a", [1, 2]]);
  assert.equal(e.base64, true);
});

test("mistakes are 400s naming the field", () => {
  rejects(() => parseChatRequest([], V), "body");
  rejects(() => parseChatRequest({ messages: "hi" }, V), "messages");
  rejects(() => parseChatRequest({ messages: [] }, V), "messages");
  rejects(() => parseChatRequest({ messages: [{ role: 1, content: "x" }] }, V), "messages[0].role");
  rejects(() => parseChatRequest({ messages: [{ role: "user", content: 5 }] }, V), "messages[0].content");
  rejects(() => parseChatRequest({ messages: [{ role: "user", content: "x" }], temperature: 3 }, V), "temperature");
  rejects(() => parseChatRequest({ messages: [{ role: "user", content: "x" }], max_tokens: 0 }, V), "max_tokens");
  rejects(() => parseChatRequest({ messages: [{ role: "user", content: "x" }], n: 1.5 }, V), "n");
  rejects(() => parseChatRequest({ messages: [{ role: "user", content: "x" }], stop: [""] }, V), "stop[0]");
  rejects(() => parseChatRequest({ messages: [{ role: "user", content: "x" }], logit_bias: { "100": 1 } }, V), "logit_bias.100");
  rejects(() => parseChatRequest({ messages: [{ role: "user", content: "x" }], response_format: { type: "yaml" } }, V), "response_format.type");
  rejects(() => parseChatRequest({ messages: [{ role: "user", content: "x" }], stream_options: { include_usage: 1 } }, V), "stream_options.include_usage");
  rejects(() => parseCompletionRequest({}, V), "prompt");
  rejects(() => parseCompletionRequest({ prompt: [1, 200] }, V), "prompt[1]");
  rejects(() => parseCompletionRequest({ prompt: ["a", "b"] }, V), "prompt");
  rejects(() => parseEmbeddingsRequest({ input: [] }, V), "input");
});
