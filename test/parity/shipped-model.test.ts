/**
 * Peel's own model (models/*.gguf, trained and exported by `peel train`) against llama.cpp: the same
 * prompt tokens, the same next-token distributions along llama.cpp's greedy path (top-5 within 1e-3),
 * and the same greedy story. This is the acceptance check "a model trained by Peel and exported to GGUF
 * gives llama.cpp's greedy tokens" on real trained weights (train-export-parity covers the export options).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultModels } from "../../src/cli/model-file.js";
import { generate } from "../../src/generate/generate.js";
import { createSession } from "../../src/generate/session.js";
import { loadModel } from "../../src/model/load.node.js";
import { loadReferenceModel, referenceRun, softmax } from "./llama-cpp.js";

const PROMPTS = ["Once upon a time", "The little dog was sad because", "Tom and Sue went to the park."];
const TOLERANCE = 1e-3;

for (const file of defaultModels()) {
  test(`shipped model ${file.split("/").pop()}: llama.cpp's tokens, distributions and greedy text`, async () => {
    const model = await loadModel(file, { backend: "wasm", threads: 2 });
    const reference = await loadReferenceModel(file);
    try {
      for (const text of PROMPTS) {
        const prompt = model.tokenize(text);
        assert.deepEqual(prompt, [...reference.tokenize(text)], `${text}: prompt tokens`);
        // 96 tokens: a whole short story's worth of greedy steps; the full 256-token context took minutes on CI
        const nGen = Math.min(96, model.config.contextLength - prompt.length - 1);
        const run = await referenceRun(reference, prompt, nGen, model.config.contextLength);
        assert.ok(run.greedy.length >= 60, `llama.cpp generated ${run.greedy.length} tokens`);
        // forced along llama.cpp's path: Peel's probabilities of llama.cpp's top 5 at every position
        const session = createSession(model, { flashAttention: run.flashAttention });
        const logits = session.evaluate([...prompt, ...run.greedy], { allLogits: true });
        const V = model.config.vocabSize;
        run.dists.forEach((dist, i) => {
          const probs = softmax(logits.subarray((prompt.length - 1 + i) * V, (prompt.length + i) * V));
          for (const [id, p] of [...dist.entries()].slice(0, 5)) {
            const ours = probs[id] as number;
            assert.ok(Math.abs(ours - p) <= TOLERANCE, `${text}: position ${i}, token ${id}: Peel ${ours} vs llama.cpp ${p}`);
          }
        });
        const gen = generate(model, prompt, { maxTokens: run.greedy.length, flashAttention: run.flashAttention });
        for await (const _ of gen) { /* drain */ }
        assert.deepEqual(gen.tokens, run.greedy, `${text}: greedy continuation`);
      }
    } finally {
      await reference.dispose();
      await model.dispose();
    }
  });
}
