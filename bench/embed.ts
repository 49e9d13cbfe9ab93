/**
 * Sentence embeddings, Peel beside llama.cpp (part of `npm run bench`; alone: `npx tsx bench/embed.ts`): a
 * MiniLM-shaped random BERT (6 layers, dim 384, 12 heads, feed-forward 1536, F32 and Q8_0, the bert-bge
 * vocabulary from ../shared) written by Peel's GGUF writer, 1,000 corpus sentences (mean pooling, normalised)
 * through Peel's embed() packed into batches (its default, 512 tokens a call) and one sentence per call
 * (batchTokens 1, as before batching), alternated A/B/A/B at 1 and 2 threads, each mode's best kept; and
 * through node-llama-cpp's embedding context (getEmbeddingFor, one sentence per call: its API takes one text)
 * at its better of 1 and 2 threads. Sentences/s and the ratio Peel batched ÷ llama.cpp. Also checks the two
 * agree (worst cosine), so a fast wrong answer cannot pass. Not a test.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { cosineSimilarity, embed, loadModel } from "../src/index.node.js";
import type { DType } from "../src/tensor/dtype.js";
import { corpusLines } from "../test/fixtures/corpus.js";
import { llamaCppVocab } from "../test/fixtures/llama-cpp-vocab.js";
import { writeRandomBertGguf } from "../test/fixtures/random-bert.js";
import { referenceLlama } from "../test/parity/llama-cpp.js";

const N = Number(process.env.PEEL_BENCH_SENTENCES ?? 1000);
/** A/B rounds per thread count (batched, then one at a time, each round). */
const ROUNDS = Number(process.env.PEEL_BENCH_ROUNDS ?? 2);

export async function benchEmbeddings(): Promise<void> {
  const vocab = await llamaCppVocab("bert-bge");
  if (vocab === undefined) { console.log("embeddings: skipped (../shared absent: no ggml-vocab-bert-bge.gguf)"); return; }
  // sentences of 3..60 words from the tokenizer corpus, as a retrieval index would hold them
  const sentences = corpusLines(400_000).map((l) => l.trim()).filter((l) => l.split(/\s+/).length >= 3 && l.length < 400).slice(0, N);
  const dir = mkdtempSync(join(tmpdir(), "peel-bench-embed-"));
  console.log(`Embeddings: MiniLM-shaped random BERT (6 layers, dim 384), ${sentences.length} sentences, mean pooling; sentences/s (load average ${loadavg()[0]?.toFixed(1)} at the start)`);
  console.log("type\tPeel batched (threads)\tPeel one at a time (threads)\tllama.cpp (threads)\tratio batched÷llama.cpp\tworst cosine");
  try {
    for (const weightType of ["F32", "Q8_0"] as DType[]) {
      const path = join(dir, `minilm-${weightType}.gguf`);
      writeRandomBertGguf(path, { dim: 384, hiddenDim: 1536, nLayers: 6, nHeads: 12, contextLength: 512, weightType, seed: 7, pooling: 1, vocab });
      // mode → best sentences/s and its thread count; rounds alternate the modes so load drifts hit both
      const best = { batched: { rate: 0, threads: 0 }, alone: { rate: 0, threads: 0 } };
      let peelVectors: Float32Array[] = [];
      for (const threads of [1, 2]) {
        const model = await loadModel(path, { threads });
        embed(model, sentences.slice(0, 20)); // warm-up
        for (let round = 0; round < ROUNDS; round++) {
          for (const mode of ["batched", "alone"] as const) {
            const t0 = performance.now();
            const v = embed(model, sentences, mode === "alone" ? { batchTokens: 1 } : {});
            const rate = sentences.length / ((performance.now() - t0) / 1000);
            if (rate > best[mode].rate) best[mode] = { rate, threads };
            if (mode === "batched") peelVectors = v;
          }
        }
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
      const { batched, alone } = best;
      console.log(`${weightType}\t${batched.rate.toFixed(0)} (${batched.threads})\t${alone.rate.toFixed(0)} (${alone.threads})\t${refBest.toFixed(0)} (${refThreads})\t` +
        `${(batched.rate / refBest).toFixed(2)}\t${worst.toFixed(6)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchEmbeddings();
