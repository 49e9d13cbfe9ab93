// Chat templates against llama.cpp: every Jinja test case of its tests/test-chat-template.cpp (35 templates,
// its six-message conversation, its bos/eos per case) and real model templates from its models/templates
// (Llama 3.1/3.2/3.3, Qwen 2.5, Qwen 3, Gemma 2, Phi-3.5, Mistral Nemo, DeepSeek-R1 distills), from the
// committed fixture test/fixtures/chat-templates.json (made by scripts/extract-chat-template-fixtures.mjs;
// it says how each expected string was obtained). Plus the built-ins against the same expected strings,
// raise_exception, the system-role fallback, and the missing-template error.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PeelError } from "../util/errors.js";
import { builtinTemplateText, BUILTIN_TEMPLATE_NAMES } from "./builtin-templates.js";
import { createChatTemplate, mergeSystemMessage, strftime, type ChatMessage } from "./chat-template.js";
import { modelChatTemplate } from "./model-template.js";
import type { ModelDescription } from "../model/model.js";

interface Fixture {
  readonly conversation: ChatMessage[];
  readonly cases: ReadonlyArray<{ name: string; template: string; bosToken: string; eosToken: string; extraMessages: ChatMessage[]; expected: string }>;
  readonly modelTemplates: ReadonlyArray<{ file: string; template: string; bosToken: string; eosToken: string; expected: string; expectedFrom: string }>;
}
const fixture = JSON.parse(readFileSync(new URL("../../test/fixtures/chat-templates.json", import.meta.url), "utf8")) as Fixture;
const NOW = new Date(2024, 6, 26); // Llama 3.2 writes today's date; llama.cpp's Llama 3.1 default is 26 Jul 2024

test(`all ${fixture.cases.length} Jinja cases of llama.cpp's test-chat-template.cpp render as llama.cpp expects`, () => {
  const failed: string[] = [];
  for (const c of fixture.cases) {
    const t = createChatTemplate(c.template, { name: c.name, bosToken: c.bosToken, eosToken: c.eosToken });
    const out = t.render([...fixture.conversation, ...c.extraMessages], { now: NOW });
    if (out !== c.expected) failed.push(`${c.name}:\n  got      ${JSON.stringify(out)}\n  expected ${JSON.stringify(c.expected)}`);
  }
  assert.deepEqual(failed, []);
});

for (const m of fixture.modelTemplates) {
  test(`model template ${m.file} renders the test conversation as expected (${m.expectedFrom})`, () => {
    const t = createChatTemplate(m.template, { name: m.file, bosToken: m.bosToken, eosToken: m.eosToken });
    assert.equal(t.render(fixture.conversation, { now: NOW }), m.expected);
  });
}

test("model templates' end-of-turn texts are found by rendering", () => {
  const eot = (file: string) => {
    const m = fixture.modelTemplates.find((x) => x.file === file);
    assert.ok(m !== undefined);
    return createChatTemplate(m.template, { name: file, eosToken: "</s>" }).endOfTurn;
  };
  assert.equal(eot("meta-llama-Llama-3.1-8B-Instruct.jinja"), "<|eot_id|>");
  assert.equal(eot("Qwen-Qwen2.5-7B-Instruct.jinja"), "<|im_end|>");
  assert.equal(eot("google-gemma-2-2b-it.jinja"), "<end_of_turn>");
  assert.equal(eot("microsoft-Phi-3.5-mini-instruct.jinja"), "<|end|>");
  assert.equal(eot("mistralai-Mistral-Nemo-Instruct-2407.jinja"), "</s>");
  assert.equal(eot("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja"), "<｜end▁of▁sentence｜>");
});

test("built-in templates equal llama.cpp's expected strings for their formats", () => {
  const expected = (name: string) => {
    const c = fixture.cases.find((x) => x.name === name);
    assert.ok(c !== undefined, name);
    return c.expected;
  };
  const want: Record<(typeof BUILTIN_TEMPLATE_NAMES)[number], string> = {
    chatml: expected("teknium/OpenHermes-2.5-Mistral-7B"),
    llama3: expected("Llama-3"),
    // llama.cpp's own gemma format joins system and user text with a blank line (its non-Jinja expected_output)
    gemma: "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n",
    phi3: expected("Phi-3-small"),
    mistral: expected("mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1' template with a system prompt)"),
  };
  for (const name of BUILTIN_TEMPLATE_NAMES) {
    const t = createChatTemplate(builtinTemplateText(name), { name, eosToken: "</s>" });
    assert.equal(t.render(fixture.conversation), want[name], name);
  }
});

test("raise_exception in a template becomes a PeelError with the template's message", () => {
  const t = createChatTemplate("{% if messages[0]['role'] == 'user' %}{{ raise_exception('only assistants here') }}{% endif %}ok", { name: "strict" });
  assert.throws(() => t.render([{ role: "user", content: "hi" }]),
    (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && e.message.includes("only assistants here") && e.message.includes("strict"));
  assert.throws(() => createChatTemplate("{% for %}", { name: "broken" }), (e: unknown) => e instanceof PeelError && e.code === "FORMAT");
});

test("add_generation_prompt false leaves the assistant turn unopened; bos_token is filled", () => {
  const t = createChatTemplate(builtinTemplateText("llama3"), { name: "llama3", bosToken: "<|begin_of_text|>" });
  assert.equal(t.render([{ role: "user", content: "Hi" }], { addGenerationPrompt: false }), "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
});

test("system message folded into the first user turn, as llama.cpp does for templates without a system role", () => {
  assert.deepEqual(mergeSystemMessage([{ role: "system", content: "S" }, { role: "user", content: "U" }]), [{ role: "user", content: "S\nU" }]);
  assert.deepEqual(mergeSystemMessage([{ role: "system", content: "S" }]), []);
  assert.equal(strftime(new Date(2024, 0, 5, 7, 8), "%d %b %Y %H:%M %B"), "05 Jan 2024 07:08 January");
});

test("a model without a template: CONFIG error naming the model and suggesting --chat-template", () => {
  const model = { info: { name: "tiny", source: "tiny.gguf", format: "gguf", details: {}, tensors: [] }, tokenizer: { bosId: undefined, eosId: undefined } } as unknown as ModelDescription;
  assert.throws(() => modelChatTemplate(model), (e: unknown) =>
    e instanceof PeelError && e.code === "CONFIG" && e.message.includes('"tiny"') && e.message.includes("--chat-template"));
  assert.throws(() => modelChatTemplate(model, { builtin: "nope" }), (e: unknown) => e instanceof PeelError && e.message.includes("chatml"));
  assert.equal(modelChatTemplate(model, { builtin: "chatml" }).name, "chatml");
});
