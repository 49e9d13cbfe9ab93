/**
 * Sentence embeddings, Peel beside llama.cpp (part of `npm run bench`; alone: `npx tsx bench/embed.ts`): a
 * MiniLM-shaped random BERT (6 layers, dim 384, 12 heads, feed-forward 1536, F32 and Q8_0, the bert-bge
 * vocabulary from ../shared) written by Peel's GGUF writer, 1,000 corpus sentences embedded one by one
 * (mean pooling, normalised) by Peel's embed() and by node-llama-cpp's embedding context (getEmbeddingFor),
 * each engine at its better of 1 and 2 threads; sentences/s and the ratio Peel ÷ llama.cpp. Also checks
 * the two agree (worst cosine), so a fast wrong answer cannot pass. Not a test.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cosineSimilarity, embed, loadModel } from "../src/index.node.js";
import type { DType } from "../src/tensor/dtype.js";
import { corpusLines } from "../test/fixtures/corpus.js";
import { llamaCppVocab } from "../test/fixtures/llama-cpp-vocab.js";
import { writeRandomBertGguf } from "../test/fixtures/random-bert.js";
import { referenceLlama } from "../test/parity/llama-cpp.js";

const N = Number(process.env.PEEL_BENCH_SENTENCES ?? 1000);

export async function benchEmbeddings(): Promise<void> {
  const vocab = await llamaCppVocab("bert-bge");
  if (vocab === undefined) { console.log("embeddings: skipped (../shared absent: no ggml-vocab-bert-bge.gguf)"); return; }
  // sentences of 3..60 words from the tokenizer corpus, as a retrieval index would hold them
  const sentences = corpusLines(400_000).map((l) => l.trim()).filter((l) => l.split(/\s+/).length >= 3 && l.length < 400).slice(0, N);
  const dir = mkdtempSync(join(tmpdir(), "peel-bench-embed-"));
  console.log(`Embeddings: MiniLM-shaped random BERT (6 layers, dim 384), ${sentences.length} sentences one at a time, mean pooling; sentences/s`);
  console.log("type\tPeel (threads)\tllama.cpp (threads)\tratio\tworst cosine");
  try {
    for (const weightType of ["F32", "Q8_0"] as DType[]) {
      const path = join(dir, `minilm-${weightType}.gguf`);
      writeRandomBertGguf(path, { dim: 384, hiddenDim: 1536, nLayers: 6, nHeads: 12, contextLength: 512, weightType, seed: 7, pooling: 1, vocab });
      let peelBest = 0, peelThreads = 0, peelVectors: Float32Array[] = [];
      for (const threads of [1, 2]) {
        const model = await loadModel(path, { threads });
        embed(model, sentences.slice(0, 20)); // warm-up
        const t0 = performance.now();
        const v = embed(model, sentences);
        const rate = sentences.length / ((performance.now() - t0) / 1000);
        if (rate > peelBest) { peelBest = rate; peelThreads = threads; peelVectors = v; }
        await model.dispose();
      }
      const llama = await referenceLlama();
      const ref = await llama.loadModel({ modelPath: path });
      let refBest = 0, refThreads = 0;
      const refVectors: number[][] = [];
      try {
        for (const threads of [1, 2]) {
          const ctx = await ref.createEmbeddingContext({ contextSize: 512, threads });
          for (const s of sentences.slice(0, 20)) await ctx.getEmbeddingFor(s);
          const t0 = performance.now();
          const out: number[][] = [];
          for (const s of sentences) out.push([...(await ctx.getEmbeddingFor(s)).vector]);
          const rate = sentences.length / ((performance.now() - t0) / 1000);
          if (rate > refBest) { refBest = rate; refThreads = threads; refVectors.splice(0, refVectors.length, ...out); }
          await ctx.dispose();
        }
      } finally {
        await ref.dispose();
      }
      let worst = 1;
      for (let i = 0; i < sentences.length; i++) worst = Math.min(worst, cosineSimilarity(peelVectors[i] as Float32Array, Float32Array.from(refVectors[i] as number[])));
      console.log(`${weightType}\t${peelBest.toFixed(0)} (${peelThreads})\t${refBest.toFixed(0)} (${refThreads})\t${(peelBest / refBest).toFixed(2)}\t${worst.toFixed(6)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchEmbeddings();
