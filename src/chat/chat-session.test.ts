// Multi-turn chat on the shipped model (models/peel-tinystories-1m.gguf, the chatml built-in since the file
// has no template): the second turn prefills only the tokens after what the session already holds, and its
// reply equals a fresh session's reply to the whole conversation with the same seed; an edited history
// (a new system message) falls back to a full prefill.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadModel } from "../model/load.node.js";
import { createChatTemplate } from "./chat-template.js";
import { createChatSession, tokenizeChat } from "./chat-session.js";
import { modelChatTemplate } from "./model-template.js";

const model = await loadModel(fileURLToPath(new URL("../../models/peel-tinystories-1m.gguf", import.meta.url)), { backend: "ts" });
const template = modelChatTemplate(model, { builtin: "chatml" });
const OPTS = { maxTokens: 12, temperature: 0.8, seed: 42 } as const;

async function collect(text: AsyncIterable<string>): Promise<string> {
  let s = "";
  for await (const t of text) s += t;
  return s;
}

test("second turn reuses the cache: prefills only new tokens, replies as a fresh session would", async () => {
  const chat = createChatSession(model, template, { system: "You tell stories." });
  const first = chat.reply("Tell me about a cat.", OPTS);
  await collect(first.text);
  assert.equal(first.stats.reusedTokens, 0);
  const held = chat.session.tokens.length;

  const second = chat.reply("What did the cat do next?", OPTS);
  const reply2 = await collect(second.text);
  assert.ok(reply2.length > 0, "the second reply has text");
  const whole = tokenizeChat(model, template.render(chat.messages.slice(0, -1)));
  assert.equal(second.stats.reusedTokens, held, "everything already in the session is reused");
  assert.equal(second.stats.prefilledTokens, whole.length - held, "only the new tokens are prefilled");
  assert.ok(second.stats.prefilledTokens < whole.length / 2, `prefilled ${second.stats.prefilledTokens} of ${whole.length}`);

  // a fresh session on the same conversation (up to the second question) gives the same reply
  const fresh = createChatSession(model, template, { messages: chat.messages.slice(0, -2) });
  const freshReply = fresh.reply("What did the cat do next?", OPTS);
  assert.equal(await collect(freshReply.text), reply2);
  assert.equal(freshReply.stats.prefilledTokens, whole.length);
  assert.deepEqual(freshReply.generation.tokens, second.generation.tokens);
});

test("a changed system message re-renders from the start: the session resets and prefills everything", async () => {
  const chat = createChatSession(model, template);
  await collect(chat.reply("Hello", OPTS).text);
  chat.setSystem("Be brief.");
  const r = chat.reply("Again", OPTS);
  await collect(r.text);
  assert.equal(r.stats.reusedTokens, 0);
  assert.equal(r.stats.prefilledTokens, tokenizeChat(model, template.render(chat.messages.slice(0, -1))).length);
  chat.reset();
  assert.deepEqual(chat.messages, [{ role: "system", content: "Be brief." }]);
  assert.equal(chat.session.tokens.length, 0);
});

test("the template's end-of-turn text stops a reply when the vocabulary has no such token", async () => {
  // a template whose turns end in "." makes the first sentence the whole reply
  const dot = createChatTemplate("{% for m in messages %}{{ m.content }}.{% endfor %}{% if add_generation_prompt %} {% endif %}", { name: "dot" });
  assert.equal(dot.endOfTurn, ".");
  const chat = createChatSession(model, dot);
  const r = chat.reply("Once upon a time there was a dog", { maxTokens: 60, temperature: 0 });
  const text = await collect(r.text);
  assert.equal(r.generation.finishReason, "stop");
  assert.ok(!text.includes("."), JSON.stringify(text));
});
