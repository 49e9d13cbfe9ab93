// Structured output end to end: the shipped model (models/peel-tinystories-1m.gguf, a 1024-token byte-level
// BPE vocabulary; its text is random-ish) generates under a JSON Schema of nested objects, arrays, enums and
// numbers at temperature 1 with several seeds, and every result must JSON.parse and validate with ajv (an
// outside validator). Strings and arrays carry maxLength / maxItems so the tiny model cannot ramble past the
// token budget; numbers are bounded by the grammar itself (16 digits). Then, on real llama.cpp vocabularies
// (../shared: llama-spm 32k with byte tokens, gpt-2 50k byte-level), the trie mask must equal checking each
// token alone along random walks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { generate, grammarForResponseFormat, jsonSchemaToGrammar, loadModel, tokenizerFromGguf } from "../src/index.node.js";
import { grammarStage } from "../src/sample/grammar/grammar-stage.js";
import { tokenTableFor } from "../src/sample/grammar/token-table.js";
import { createRng } from "../src/sample/rng.js";
import { llamaCppVocab } from "./fixtures/llama-cpp-vocab.js";

const MODEL = fileURLToPath(new URL("../models/peel-tinystories-1m.gguf", import.meta.url));

export const SCHEMA = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 12 },
    age: { type: "integer" },
    mood: { enum: ["happy", "sad", "sleepy"] },
    score: { type: "number" },
    pet: {
      type: "object",
      properties: { kind: { enum: ["cat", "dog"] }, legs: { type: "integer" }, toys: { type: "array", items: { type: "string", maxLength: 8 }, maxItems: 3 } },
      required: ["kind", "legs"],
    },
    friends: {
      type: "array",
      items: { type: "object", properties: { name: { type: "string", maxLength: 10 }, best: { type: "boolean" } }, required: ["name"] },
      minItems: 1, maxItems: 2,
    },
    nickname: { anyOf: [{ type: "string", maxLength: 6 }, { type: "null" }] },
  },
  required: ["name", "age", "mood", "pet", "friends"],
  additionalProperties: false,
} as const;

test("the shipped model under a JSON schema: every result parses and validates (8 seeds, temperature 1)", async (t) => {
  const model = await loadModel(MODEL);
  const validate = new Ajv({ strict: true }).compile(SCHEMA);
  const grammar = jsonSchemaToGrammar(SCHEMA);
  const t0 = performance.now();
  let tokens = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const g = generate(model, "Once upon a time", { grammar, temperature: 1, seed, maxTokens: 600 });
    let text = "";
    for await (const t of g) text += t.text;
    tokens += g.tokens.length;
    assert.equal(g.finishReason, "stop", `seed ${seed}: the grammar completed and the model was made to end (${g.tokens.length} tokens)`);
    const value: unknown = JSON.parse(text);
    assert.ok(validate(value), `seed ${seed}: ${text}\n${JSON.stringify(validate.errors)}`);
  }
  const ms = performance.now() - t0;
  t.diagnostic(`8 structured generations, ${tokens} tokens in ${ms.toFixed(0)} ms (${(ms / tokens).toFixed(2)} ms/token, model included)`);
});

test("json_object mode on the shipped model gives a JSON object", async () => {
  const model = await loadModel(MODEL);
  const grammar = grammarForResponseFormat({ type: "json_object" });
  for (let seed = 1; seed <= 3; seed++) {
    const g = generate(model, "Once upon a time", { ...(grammar ? { grammar } : {}), temperature: 0.8, seed, maxTokens: 300 });
    let text = "";
    for await (const t of g) text += t.text;
    // unbounded strings and objects may run out of tokens; only a finished result must parse
    if (g.finishReason === "stop") {
      const v: unknown = JSON.parse(text);
      assert.ok(v !== null && typeof v === "object" && !Array.isArray(v), text);
    } else assert.ok(text.startsWith("{"), text);
  }
});

for (const name of ["llama-spm", "gpt-2"]) {
  test(`trie mask equals one-by-one checks on a real vocabulary (${name})`, async (t) => {
    const vocab = await llamaCppVocab(name);
    if (vocab === undefined) { t.skip("../shared absent: no llama.cpp vocabulary"); return; }
    const tokenizer = tokenizerFromGguf(new Map(vocab.metadata));
    const table = tokenTableFor(tokenizer);
    const grammar = jsonSchemaToGrammar(SCHEMA);
    const rng = createRng(3);
    const mask = new Uint8Array(table.size);
    let splits = 0;
    for (let walk = 0; walk < 2; walk++) {
      const stage = grammarStage(grammar, table);
      for (let step = 0; step < 12; step++) {
        stage.computeMask(mask);
        const allowed: number[] = [];
        for (let id = 0; id < table.size; id++) {
          if ((mask[id] === 1) !== stage.allows(id)) assert.fail(`step ${step}: token ${id} ${JSON.stringify(tokenizer.piece(id))} mask ${mask[id]} vs one-by-one`);
          if (mask[id] === 1) allowed.push(id);
        }
        assert.ok(allowed.length > 0);
        // lean towards tokens that split a character (byte tokens, partial pieces), which a uniform pick rarely meets
        const split = allowed.filter((i) => table.tailRemain[i] !== 0 || table.cls[i] === 1);
        const from = split.length > 0 && rng.next() < 0.5 ? split : allowed;
        const id = from[Math.floor(rng.next() * from.length)] as number;
        splits += table.tailRemain[id] !== 0 || table.cls[id] === 1 ? 1 : 0;
        if (tokenizer.isEndOfGeneration(id)) break;
        stage.accept(id);
      }
    }
    assert.ok(splits > 0, "the walks took some tokens that split a character");
    t.diagnostic(`${splits} character-splitting tokens taken`);
  });
}
