/**
 * BERT sentence embeddings against llama.cpp (node-llama-cpp's prebuilt CPU binary, createEmbeddingContext /
 * getEmbeddingFor, pooled vectors before any normalisation): random-weight `bert` and `nomic-bert` (rotary,
 * SwiGLU, fused q/k/v) models written by Peel's GGUF writer with the real bert-bge WordPiece vocabulary, in F32,
 * F16 and Q8_0, mean and cls pooling, over 50 varied
 * texts (short, long, punctuation, digits, accents, CJK, emoji, whitespace-only). Peel runs
 * `embed(…, { normalize: false })` on the ts and wasm backends with the attention path llama.cpp ran: with flash
 * attention off llama.cpp's encoder (no KV cache) multiplies f32 keys and values, which Peel reproduces with an
 * F32 cache and the standard path; with it on (its default) llama.cpp rounds keys and values to f16, as Peel's F16
 * cache and flash kernels do. Texts llama.cpp gives no vector for (no tokens before [CLS]/[SEP]) are counted and
 * skipped. Tolerances: cosine ≥ 0.99999 for F32 and F16 weights, ≥ 0.9999 for Q8_0 (8-bit activations: one
 * rounding flip moves a vector slightly), and max |Δ| relative to the vector's largest entry, stated per case.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DType } from "../../src/tensor/dtype.js";
import { loadModel } from "../../src/model/load.node.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { createWasmKernels } from "../../src/kernels/wasm/index.node.js";
import { embed } from "../../src/embed/embed.js";
import { cosineSimilarity } from "../../src/embed/pool.js";
import { llamaCppVocab } from "../fixtures/llama-cpp-vocab.js";
import { writeRandomBertGguf } from "../fixtures/random-bert.js";
import { REFERENCE_THREADS, referenceLlama } from "./llama-cpp.js";

const TEXTS = [
  "Hello world", "The quick brown fox jumps over the lazy dog.", "a", "  ", "I", "What is the capital of France?",
  "Paris is the capital and most populous city of France.", "Embeddings map text to vectors.", "don't stop believin'",
  "3.14159 is pi; 2.71828 is e.", "Café résumé naïve façade coöperate", "東京は日本の首都です。", "北京欢迎你",
  "Emoji: 😀🎉🚀", "UPPER lower MiXeD", "hyphen-ated and under_scored words", "email@example.com and https://example.org/path?q=1",
  "The mitochondria is the powerhouse of the cell.", "Photosynthesis converts light energy into chemical energy.",
  "A dog is running in the park.", "A cat sleeps on the sofa.", "Stock markets fell sharply on Monday.",
  "The recipe calls for two cups of flour.", "Machine learning models need data.", "It was the best of times, it was the worst of times.",
  "To be, or not to be, that is the question.", "¿Dónde está la biblioteca?", "Привет, как дела?", "Γειά σου Κόσμε",
  "((nested (parentheses)))", "!!!???...", "tab\tseparated\tvalues", "line one\nline two", "1234567890",
  "The year 1999 was followed by 2000.", "ß ẞ Å Ω µ", "#hashtag @mention $money %percent", "co-operation vs cooperation",
  "Unbelievably, the unbreakable record was broken.", "antidisestablishmentarianism", "New York City", "new york city",
  "She sells sea shells by the sea shore.", "Peel is a TypeScript engine for language models.",
  "Attention is all you need.", "The encoder reads; the decoder writes.", "Wikipedia is a free online encyclopedia.",
  Array.from({ length: 40 }, (_, i) => `word${i % 7}`).join(" ") + " and a long tail of text that keeps going for a while",
  "The rain in Spain stays mainly in the plain. ".repeat(8), "Short.",
];

const dir = mkdtempSync(join(tmpdir(), "peel-bert-parity-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const CASES: Array<{ label: string; weightType: DType; pooling: number; flash: boolean; seed: number; architecture?: "nomic-bert" }> = [
  { label: "nomic-bert F32 mean (rotary, SwiGLU, fused q/k/v)", weightType: "F32", pooling: 1, flash: false, seed: 95, architecture: "nomic-bert" },
  { label: "nomic-bert F16 mean, flash attention on", weightType: "F16", pooling: 1, flash: true, seed: 96, architecture: "nomic-bert" },
  { label: "F32 mean", weightType: "F32", pooling: 1, flash: false, seed: 91 },
  { label: "F32 cls, flash attention on", weightType: "F32", pooling: 2, flash: true, seed: 92 },
  { label: "F16 mean", weightType: "F16", pooling: 1, flash: false, seed: 93 },
  { label: "Q8_0 cls", weightType: "Q8_0", pooling: 2, flash: false, seed: 94 },
];

for (const c of CASES) {
  test(`bert embeddings equal llama.cpp's: ${c.label}`, async (t) => {
    const vocab = await llamaCppVocab("bert-bge");
    if (vocab === undefined) { t.skip("../shared absent: no ggml-vocab-bert-bge.gguf"); return; }
    const path = join(dir, `${c.label.replace(/[^A-Za-z0-9]+/g, "-")}.gguf`);
    writeRandomBertGguf(path, { dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 4, contextLength: 512, weightType: c.weightType, seed: c.seed, pooling: c.pooling, vocab, ...(c.architecture !== undefined ? { architecture: c.architecture } : {}) });
    const llama = await referenceLlama();
    const ref = await llama.loadModel({ modelPath: path, defaultContextFlashAttention: c.flash });
    const refVectors: number[][] = [];
    try {
      const ctx = await ref.createEmbeddingContext({ contextSize: 512, threads: REFERENCE_THREADS });
      for (const text of TEXTS) refVectors.push([...(await ctx.getEmbeddingFor(text)).vector]);
      await ctx.dispose();
    } finally {
      await ref.dispose();
    }
    const minCos = c.weightType === "Q8_0" ? 0.9999 : 0.99999;
    for (const [backend, make] of [["ts", async () => createTsKernels()], ["wasm", () => createWasmKernels({ threads: 1 })]] as const) {
      await t.test(backend, async () => {
        const model = await loadModel(path, { kernels: await make() });
        try {
          const got = embed(model, TEXTS, { normalize: false, flashAttention: c.flash ? "on" : "off", kvType: c.flash ? "F16" : "F32" });
          let worstCos = 1, worstRel = 0, skipped = 0;
          for (let i = 0; i < TEXTS.length; i++) {
            const want = refVectors[i]!;
            if (want.length === 0) { skipped++; continue; }
            const v = got[i]!;
            assert.equal(v.length, want.length, `text ${i}: vector size`);
            const cos = cosineSimilarity(v, want);
            const scale = Math.max(...want.map(Math.abs));
            const rel = Math.max(...want.map((w, j) => Math.abs((v[j] as number) - w))) / scale;
            worstCos = Math.min(worstCos, cos); worstRel = Math.max(worstRel, rel);
            assert.ok(cos >= minCos, `text ${i} ${JSON.stringify(TEXTS[i]!.slice(0, 40))}: cosine ${cos} < ${minCos} (max |Δ|/max|v| ${rel.toExponential(2)})`);
          }
          assert.ok(skipped <= 2, `llama.cpp gave no vector for ${skipped} texts`);
          console.log(`# bert ${c.label} [${backend}]: ${TEXTS.length - skipped} texts, worst cosine ${worstCos.toFixed(8)}, worst max |Δ| / max |v| ${worstRel.toExponential(2)}, ${skipped} without tokens skipped`);
        } finally {
          await model.dispose();
        }
      });
    }
  });
}
