/**
 * Sentence embeddings, Peel beside llama.cpp (part of `npm run bench`; alone: `npx tsx bench/embed.ts`): a
 * MiniLM-shaped random BERT (6 layers, dim 384, 12 heads, feed-forward 1536, F32 and Q8_0, the bert-bge
 * vocabulary from ../shared) written by Peel's GGUF writer, 1,000 corpus sentences (mean pooling, normalised)
 * through Peel's embed() packed into batches (its default, 512 tokens a call), through node-llama-cpp's
 * embedding context (getEmbeddingFor, one sentence per call: its API takes one text) and through embed() one
 * sentence per call (batchTokens 1, as before batching): all loaded at once, run in turn round after round
 * (A/B/C, A/B/C) at 1 and 2 threads, each column's best kept, with the load average printed. Sentences/s and
 * the ratio Peel batched ÷ llama.cpp. Also checks the two agree (worst cosine), so a fast wrong answer cannot
 * pass. Not a test.
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
      // every engine and thread count is loaded at once, and each round runs them all in turn (Peel batched,
      // llama.cpp, Peel one at a time), so a load drift on this shared machine hits every column alike
      const models = await Promise.all([1, 2].map((threads) => loadModel(path, { threads })));
      const llama = await referenceLlama();
      const ref = await llama.loadModel({ modelPath: path });
      const best = { batched: { rate: 0, threads: 0 }, alone: { rate: 0, threads: 0 }, llama: { rate: 0, threads: 0 } };
      let peelVectors: Float32Array[] = [];
      const refVectors: number[][] = [];
      try {
        const contexts = [await ref.createEmbeddingContext({ contextSize: 512, threads: 1 }), await ref.createEmbeddingContext({ contextSize: 512, threads: 2 })];
        for (const [i, model] of models.entries()) { // warm-up
          embed(model, sentences.slice(0, 20));
          for (const text of sentences.slice(0, 20)) await contexts[i]!.getEmbeddingFor(text);
        }
        const time = async (mode: keyof typeof best, threads: number, run: () => Promise<void>) => {
          const t0 = performance.now();
          await run();
          const rate = sentences.length / ((performance.now() - t0) / 1000);
          if (rate > best[mode].rate) best[mode] = { rate, threads };
        };
        for (let round = 0; round < ROUNDS; round++) {
          for (const [i, model] of models.entries()) {
            const threads = i + 1;
            await time("batched", threads, async () => { peelVectors = embed(model, sentences); });
            await time("llama", threads, async () => {
              const out: number[][] = [];
              for (const text of sentences) out.push([...(await contexts[i]!.getEmbeddingFor(text)).vector]);
              refVectors.splice(0, refVectors.length, ...out);
            });
            await time("alone", threads, async () => { embed(model, sentences, { batchTokens: 1 }); });
          }
        }
        for (const ctx of contexts) await ctx.dispose();
      } finally {
        await ref.dispose();
        for (const m of models) await m.dispose();
      }
      let worst = 1;
      for (let i = 0; i < sentences.length; i++) worst = Math.min(worst, cosineSimilarity(peelVectors[i] as Float32Array, Float32Array.from(refVectors[i] as number[])));
      const { batched, alone, llama: refBest } = best;
      console.log(`${weightType}\t${batched.rate.toFixed(0)} (${batched.threads})\t${alone.rate.toFixed(0)} (${alone.threads})\t${refBest.rate.toFixed(0)} (${refBest.threads})\t` +
        `${(batched.rate / refBest.rate).toFixed(2)}\t${worst.toFixed(6)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchEmbeddings();
