/**
 * `peel convert` of a Hugging Face BERT folder (test/fixtures/random-hf-bert.ts: random weights, the bert-bge
 * WordPiece vocabulary as tokenizer.json, mean pooling from modules.json) to F32 GGUF, run in llama.cpp's
 * embedding context (node-llama-cpp, flash attention off, pooled vectors before normalisation), against Peel's
 * embed() on the folder itself (F32 cache, flash off, ts backend). Also: the converted vocabulary in llama.cpp's
 * phantom-space form tokenizes in Peel as the folder's tokenizer.json does. Tolerance: cosine ≥ 0.99999.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertHfFolder } from "../../src/model/convert.js";
import { directorySource, loadModel } from "../../src/model/load.node.js";
import { embed } from "../../src/embed/embed.js";
import { cosineSimilarity } from "../../src/embed/pool.js";
import { llamaCppVocab } from "../fixtures/llama-cpp-vocab.js";
import { writeRandomHfBertFolder } from "../fixtures/random-hf-bert.js";
import { REFERENCE_THREADS, referenceLlama } from "./llama-cpp.js";

const TEXTS = [
  "Hello world", "The quick brown fox jumps over the lazy dog.", "a", "What is the capital of France?", "don't stop believin'",
  "3.14159 is pi; 2.71828 is e.", "Café résumé naïve façade", "東京は日本の首都です。", "Emoji: 😀🎉🚀", "UPPER lower MiXeD",
  "hyphen-ated and under_scored words", "Привет, как дела?", "antidisestablishmentarianism", "The rain in Spain stays mainly in the plain. ".repeat(6),
];

const dir = mkdtempSync(join(tmpdir(), "peel-hf-bert-convert-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("peel convert of an HF BERT folder runs in llama.cpp as Peel runs the folder", async (t) => {
  const vocab = await llamaCppVocab("bert-bge");
  if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-bert-bge.gguf"); return; }
  const folder = join(dir, "folder");
  writeRandomHfBertFolder(folder, { dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 4, contextLength: 512, weightType: "F32", seed: 95, pooling: 1, vocab });
  const path = join(dir, "converted.gguf");
  writeFileSync(path, await convertHfFolder(directorySource(folder), "f32"));
  const hf = await loadModel(folder, { backend: "ts" });
  const converted = await loadModel(path, { backend: "ts" });
  let got: Float32Array[];
  try {
    assert.equal(converted.config.encoder?.pooling, "mean");
    for (const text of TEXTS) assert.deepEqual(converted.tokenize(text), hf.tokenize(text), `ids of ${JSON.stringify(text)}`);
    got = embed(hf, TEXTS, { normalize: false, flashAttention: "off", kvType: "F32" });
  } finally {
    await hf.dispose();
    await converted.dispose();
  }
  const llama = await referenceLlama();
  const ref = await llama.loadModel({ modelPath: path, defaultContextFlashAttention: false });
  const want: number[][] = [];
  try {
    const ctx = await ref.createEmbeddingContext({ contextSize: 512, threads: REFERENCE_THREADS });
    for (const text of TEXTS) want.push([...(await ctx.getEmbeddingFor(text)).vector]);
    await ctx.dispose();
  } finally {
    await ref.dispose();
  }
  let worst = 1;
  for (let i = 0; i < TEXTS.length; i++) {
    assert.equal(got[i]!.length, want[i]!.length, `text ${i}: vector size`);
    const cos = cosineSimilarity(got[i]!, want[i]!);
    worst = Math.min(worst, cos);
    assert.ok(cos >= 0.99999, `text ${i} ${JSON.stringify(TEXTS[i]!.slice(0, 40))}: cosine ${cos}`);
  }
  console.log(`# converted HF bert in llama.cpp vs Peel on the folder: ${TEXTS.length} texts, worst cosine ${worst.toFixed(8)}`);
});
