/**
 * Reranking against llama.cpp (node-llama-cpp's ranking context, rankAll): a random-weight BERT cross-encoder
 * (pooling_type 4 "rank", a cls + cls.output classifier head) written by Peel's GGUF writer with the bert-bge
 * vocabulary; Peel's rerank() on the ts and wasm backends, flash attention off with an F32 cache (llama.cpp's
 * cache-less encoder multiplies f32 keys and values), gives the same relevance for 12 documents: |Δ| ≤ 1e-5 on
 * scores in 0..1, and the same order. A model without a classifier head is refused by rerank().
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel } from "../../src/model/load.node.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { createWasmKernels } from "../../src/kernels/wasm/index.node.js";
import { rerank } from "../../src/embed/rerank.js";
import { PeelError } from "../../src/util/errors.js";
import { llamaCppVocab } from "../fixtures/llama-cpp-vocab.js";
import { writeRandomBertGguf } from "../fixtures/random-bert.js";
import { REFERENCE_THREADS, referenceLlama } from "./llama-cpp.js";

const QUERY = "What is the capital of France?";
const DOCS = [
  "Paris is the capital and most populous city of France.", "Berlin is the capital of Germany.", "The Eiffel Tower is in Paris.",
  "Bananas are rich in potassium.", "France borders Spain, Italy and Germany.", "The capital of Italy is Rome.",
  "Lyon is a large city in France.", "Photosynthesis happens in leaves.", "Paris", "capital", "東京は日本の首都です。", "🇫🇷 Paris, la capitale",
];

const dir = mkdtempSync(join(tmpdir(), "peel-rerank-parity-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("rerank equals llama.cpp's ranking context on a random BERT cross-encoder", async (t) => {
  const vocab = await llamaCppVocab("bert-bge");
  if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-bert-bge.gguf"); return; }
  const path = join(dir, "reranker.gguf");
  writeRandomBertGguf(path, { dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 4, contextLength: 512, weightType: "F32", seed: 97, pooling: undefined, vocab, reranker: true });
  const llama = await referenceLlama();
  const ref = await llama.loadModel({ modelPath: path, defaultContextFlashAttention: false });
  let want: number[];
  try {
    const ctx = await ref.createRankingContext({ contextSize: 512, threads: REFERENCE_THREADS });
    want = await ctx.rankAll(QUERY, DOCS);
    await ctx.dispose();
  } finally {
    await ref.dispose();
  }
  assert.ok(Math.max(...want) - Math.min(...want) > 0.01, `fixture: scores too alike to order (${want.map((s) => s.toFixed(3))})`);
  for (const [backend, make] of [["ts", async () => createTsKernels()], ["wasm", () => createWasmKernels({ threads: 1 })]] as const) {
    const model = await loadModel(path, { kernels: await make() });
    try {
      const got = rerank(model, QUERY, DOCS, { flashAttention: "off", kvType: "F32" });
      const worst = Math.max(...got.map((s, i) => Math.abs(s - (want[i] as number))));
      assert.ok(worst <= 1e-5, `${backend}: worst |Δscore| ${worst.toExponential(2)} (Peel ${got.map((s) => s.toFixed(5))}, llama.cpp ${want.map((s) => s.toFixed(5))})`);
      const order = (s: readonly number[]) => s.map((_, i) => i).sort((a, b) => (s[b] as number) - (s[a] as number));
      assert.deepEqual(order(got), order(want), `${backend}: document order`);
      console.log(`# rerank [${backend}]: ${DOCS.length} documents, worst |Δscore| ${worst.toExponential(2)}, scores ${Math.min(...want).toFixed(3)}..${Math.max(...want).toFixed(3)}`);
    } finally {
      await model.dispose();
    }
  }
  const plain = join(dir, "plain.gguf");
  writeRandomBertGguf(plain, { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 2, contextLength: 64, weightType: "F32", seed: 3, pooling: 1, vocab });
  const m = await loadModel(plain, { backend: "ts" });
  assert.throws(() => rerank(m, "q", ["d"]), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" && /no classifier head/.test(e.message));
  await m.dispose();
});
