/**
 * The same random weights written as a llama2.c checkpoint (legacy version 0 and version 1, shared and
 * separate classifier) and as GGUF must run identically in Peel: identical logits at every step and the
 * same greedy tokens. llama2.c fixes RoPE (adjacent pairs, base 10000) and RMSNorm eps (1e-5), which the
 * GGUF side states in metadata, so any difference would be a loader bug.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesSource } from "../../src/formats/byte-source.js";
import { writeLlama2cCheckpoint } from "../../src/formats/llama2c/checkpoint.js";
import { writeLlama2cTokenizer } from "../../src/formats/llama2c/tokenizer-bin.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { createSession } from "../../src/generate/session.js";
import { generate } from "../../src/generate/generate.js";
import type { Model } from "../../src/model/model.js";
import { randomLlamaGguf, randomLlamaTensors, type RandomLlamaSpec } from "../fixtures/random-llama.js";
import { llamaSpmVocab } from "../fixtures/llama-vocab.js";

const PROMPT_IDS = [1, 9038, 2501, 263, 931, 29892];

/** llama2.c's tokenizer export writes SentencePiece's "▁" as a plain space (its tokenizer.py does this). */
function llama2cTokenizerBin(): Uint8Array {
  const vocab = llamaSpmVocab();
  return writeLlama2cTokenizer({ pieces: vocab.tokens.map((t) => t.replaceAll("▁", " ")), scores: vocab.scores });
}

async function greedyTokens(model: Model): Promise<number[]> {
  const gen = generate(model, PROMPT_IDS, { maxTokens: 12, contextLength: 64 });
  for await (const _ of gen) { /* drain */ }
  return [...gen.tokens];
}

for (const version of [0, 1] as const) {
  for (const tied of [true, false]) {
    test(`llama2.c v${version} (${tied ? "shared" : "separate"} classifier) and GGUF give identical outputs`, async () => {
      const spec: RandomLlamaSpec = { dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", tied,
        seed: 40 + version * 2 + (tied ? 1 : 0), contextLength: 64, layerScale: tied ? 1 : 0.5, outputGain: 6 };
      const tensors = new Map(randomLlamaTensors(spec).map((t) => [t.name, t]));
      const config = { dim: 128, hiddenDim: 256, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 32000, seqLen: 64, sharedClassifier: tied, version };
      const bin = writeLlama2cCheckpoint(config, tensors, version);
      const tokBin = llama2cTokenizerBin();

      const fromBin = await loadModelFromSource(bytesSource(bin, "model.bin"), { tokenizerSource: bytesSource(tokBin, "tokenizer.bin") });
      const fromGguf = await loadModelFromSource(bytesSource(randomLlamaGguf(spec), "model.gguf"));
      assert.equal(fromBin.info.format, "llama2c");
      assert.equal(fromBin.config.tiedOutput, tied);

      const a = createSession(fromBin, { contextLength: 64 });
      const b = createSession(fromGguf, { contextLength: 64 });
      const la = a.evaluate(PROMPT_IDS, { allLogits: true });
      const lb = b.evaluate(PROMPT_IDS, { allLogits: true });
      assert.deepEqual(la, lb, "prefill logits differ");
      for (const id of [450, 29871, 13]) assert.deepEqual(a.evaluate([id]), b.evaluate([id]), `decode logits differ after token ${id}`);
      assert.deepEqual(await greedyTokens(fromBin), await greedyTokens(fromGguf));
    });
  }
}

test("llama2.c tokenizer.bin and the GGUF vocabulary tokenize plain text alike", async () => {
  const spec: RandomLlamaSpec = { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 2, nKvHeads: 2, weightType: "F32", tied: true, seed: 3, contextLength: 32 };
  const tensors = new Map(randomLlamaTensors(spec).map((t) => [t.name, t]));
  const bin = writeLlama2cCheckpoint({ dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 2, nKvHeads: 2, vocabSize: 32000, seqLen: 32, sharedClassifier: true, version: 1 }, tensors, 1);
  const fromBin = await loadModelFromSource(bytesSource(bin), { tokenizerSource: bytesSource(llama2cTokenizerBin()) });
  const fromGguf = await loadModelFromSource(bytesSource(randomLlamaGguf(spec)));
  for (const text of ["Once upon a time, there was a little girl named Lily.", "Hello world", "The year 2024: 12 cats & 3 dogs."]) {
    assert.deepEqual(fromBin.tokenize(text), fromGguf.tokenize(text), text);
  }
});
