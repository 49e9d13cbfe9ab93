/**
 * embed() packs texts into batched forward calls (embed/encode.ts). Each text's vector must be bitwise the
 * vector it gets alone (one text per call): the products and norms work token by token, and packed attention
 * gives each text exactly its attention alone (conformance: attention-packed). Random-weight `bert` (learned
 * positions, which must restart per text) and `nomic-bert` (rotary positions) with the real bert-bge vocabulary,
 * F32 and Q8_0 weights, flash attention on and off, ts and wasm (one thread and a pool of two), over texts that
 * include one with no words ([CLS][SEP] only), one past 64 tokens (llama.cpp's tiled flash kernel), unicode and
 * duplicates; small batches force many calls. Rerank rides the same path (checked against one document at a time).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Kernels } from "../../src/kernels/kernels.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { createWasmKernels } from "../../src/kernels/wasm/index.node.js";
import { loadModel } from "../../src/model/load.node.js";
import { embed } from "../../src/embed/embed.js";
import { planBatches } from "../../src/embed/encode.js";
import { rerank } from "../../src/embed/rerank.js";
import { llamaCppVocab } from "../fixtures/llama-cpp-vocab.js";
import { writeRandomBertGguf } from "../fixtures/random-bert.js";

const TEXTS = [
  "Hello world", "  ", "a", "Café résumé naïve façade", "東京は日本の首都です。", "Emoji: 😀🎉🚀",
  "The rain in Spain stays mainly in the plain. ".repeat(8), "Hello world", "What is the capital of France?",
  "tab\tseparated\tvalues", "1234567890", "Short.",
];

const dir = mkdtempSync(join(tmpdir(), "peel-embed-batched-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("planBatches: input order within a batch, short and long texts apart, a long text alone, every text once", () => {
  assert.deepEqual(planBatches([3, 70, 4, 5, 100, 2], 8, 64), [[0, 2], [3, 5], [1], [4]]);
  assert.deepEqual(planBatches([3, 70, 4], 1000, Infinity), [[0, 1, 2]]);
  assert.deepEqual(planBatches([9], 4, 64), [[0]]);
});

const CASES = [
  { arch: "bert", weightType: "F32", flash: "off" },
  { arch: "bert", weightType: "Q8_0", flash: "on" },
  { arch: "nomic-bert", weightType: "F32", flash: "on" },
] as const;

for (const c of CASES) {
  test(`embed: packed batches equal one text at a time, bitwise (${c.arch} ${c.weightType}, flash ${c.flash}; ts, wasm ×1, wasm ×2)`, async (t) => {
    const vocab = await llamaCppVocab("bert-bge");
    if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-bert-bge.gguf"); return; }
    const path = join(dir, `${c.arch}-${c.weightType}.gguf`);
    writeRandomBertGguf(path, { dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, contextLength: 256, weightType: c.weightType, seed: 7, pooling: 1, vocab, architecture: c.arch });
    const backends: Array<[string, () => Promise<Kernels>]> = [
      ["ts", async () => createTsKernels()], ["wasm ×1", () => createWasmKernels({ threads: 1 })], ["wasm ×2", () => createWasmKernels({ threads: 2 })],
    ];
    for (const [name, make] of backends) {
      const model = await loadModel(path, { kernels: await make() });
      try {
        const opts = { flashAttention: c.flash, normalize: false } as const;
        const alone = TEXTS.map((text) => embed(model, [text], opts)[0]!);
        for (const batchTokens of [512, 40]) {
          const packed = embed(model, TEXTS, { ...opts, batchTokens });
          TEXTS.forEach((text, i) => assert.deepEqual([...packed[i]!], [...alone[i]!], `${name} batchTokens ${batchTokens}: text ${i} ${JSON.stringify(text.slice(0, 20))}`));
        }
        const tokens = embed(model, TEXTS.slice(0, 4), { ...opts, pooling: "none" });
        const tokensAlone = TEXTS.slice(0, 4).map((text) => embed(model, [text], { ...opts, pooling: "none" })[0]!);
        tokens.forEach((v, i) => assert.deepEqual([...v], [...tokensAlone[i]!], `${name}: pooling none, text ${i}`));
        // a text's vector must depend on its own tokens only: the first text's differs from the second's
        assert.notDeepEqual([...alone[0]!], [...alone[3]!]);
      } finally {
        await model.dispose();
      }
    }
  });
}

test("rerank: documents packed into batches score as one at a time, bitwise", async (t) => {
  const vocab = await llamaCppVocab("bert-bge");
  if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-bert-bge.gguf"); return; }
  const path = join(dir, "reranker.gguf");
  writeRandomBertGguf(path, { dim: 64, hiddenDim: 128, nLayers: 2, nHeads: 4, contextLength: 256, weightType: "F32", seed: 8, pooling: undefined, vocab, reranker: true });
  const model = await loadModel(path, { kernels: await createWasmKernels({ threads: 1 }) });
  try {
    const docs = TEXTS.slice(0, 7);
    const all = rerank(model, "Which city is the capital?", docs, { raw: true });
    const one = docs.map((d) => rerank(model, "Which city is the capital?", [d], { raw: true })[0]!);
    assert.deepEqual(all, one);
  } finally {
    await model.dispose();
  }
});
