/**
 * A GPT-2-style model trained by Peel (LayerNorm, learned positions, GELU; the `gpt2` preset) and exported as
 * GGUF `gpt2` (zero linear biases, fused QKV): the inference engine gives the training forward's logits
 * (≤ 2e-4 · max |logit|), and llama.cpp gives the same tokens, top-5 probabilities along its greedy path
 * within 2e-3, and the same greedy tokens up to its first near-tie (at least 24 compared).
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { generate } from "../../src/generate/generate.js";
import { createSession } from "../../src/generate/session.js";
import { loadModel } from "../../src/model/load.node.js";
import { trainBpe } from "../../src/tokenizer/train/train-bpe.js";
import { tokenizerFromHfJson } from "../../src/tokenizer/hf/load-tokenizer-json.js";
import { hfTokenizerJson } from "../../src/tokenizer/train/hf-json.js";
import { Tape } from "../../src/train/autograd/tape.js";
import { PRESETS, type TrainModelConfig } from "../../src/train/model/config.js";
import { forwardLogits } from "../../src/train/model/forward.js";
import { createParams, initParams } from "../../src/train/model/params.js";
import { createTrainer } from "../../src/train/loop/trainer.js";
import { writeGgufFile } from "../../src/train/export/gguf.node.js";
import { corpusLines } from "../fixtures/corpus.js";
import { loadReferenceModel, referenceRun, softmax } from "./llama-cpp.js";

const dir = mkdtempSync(join(tmpdir(), "peel-gpt2-export-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONTEXT = 64;
const TOLERANCE = 2e-3;
const MIN_COMPARED = 24;

test("GPT-2-style with sinusoidal positions: the table is exported as position_embd and inference equals training", async () => {
  const trained = await trainBpe({ texts: [corpusLines().slice(0, 100).join("\n")], vocabSize: 300 });
  const config: TrainModelConfig = { ...PRESETS.gpt2, position: "sinusoidal", vocabSize: trained.vocab.length, dim: 32, nLayers: 1, nHeads: 2, nKvHeads: 1, hiddenDim: 64, contextLength: 32 };
  const params = createParams(config);
  initParams(params, 4);
  const path = join(dir, "gpt2-sin.gguf");
  await writeGgufFile(path, params, trained, { name: "sin" });
  const model = await loadModel(path, { backend: "ts" });
  try {
    const probe = Array.from({ length: 32 }, (_, i) => (i * 37) % config.vocabSize);
    const want = forwardLogits(new Tape(createTsKernels(), { grad: false }), params, Int32Array.from(probe), 1, probe.length).data;
    const got = createSession(model, { kvType: "F32" }).evaluate(probe, { allLogits: true });
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    want.forEach((w, i) => assert.ok(Math.abs((got[i] as number) - w) <= 2e-4 * scale, `logit ${i}: inference ${got[i]} vs training ${w}`));
  } finally {
    await model.dispose();
  }
});

test("a Peel-trained GPT-2-style model exported as GGUF gpt2: inference = training forward, and llama.cpp agrees", async () => {
  const text = corpusLines().slice(0, 400).join("\n");
  const trained = await trainBpe({ texts: [text], vocabSize: 320 });
  const tok = tokenizerFromHfJson(hfTokenizerJson(trained));
  const ids = Uint32Array.from(tok.encode(text, { addSpecial: false }));
  const config: TrainModelConfig = { ...PRESETS.gpt2, vocabSize: trained.vocab.length, dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 4, hiddenDim: 128, contextLength: CONTEXT, tiedOutput: false };
  const params = createParams(config);
  initParams(params, 3);
  const kernels = createTsKernels();
  const trainer = createTrainer(kernels, params, {
    batchSize: 8, seqLen: CONTEXT, accumulation: 1, steps: 60, schedule: { maxLr: 1e-2, minLr: 1e-3, warmupSteps: 5, totalSteps: 60 },
    adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 }, clipNorm: 1, seed: 3, evalBatches: 1,
  }, { train: ids, val: ids });
  for (let i = 0; i < 60; i++) trainer.trainStep();

  const path = join(dir, "gpt2.gguf");
  await writeGgufFile(path, params, trained, { name: "peel-gpt2-test" });
  const model = await loadModel(path, { threads: 1 });
  const ref = await loadReferenceModel(path);
  try {
    assert.equal(model.config.architecture, "gpt2");
    // 1. the inference engine reproduces the training forward
    const probe = Array.from(ids.subarray(100, 100 + 48));
    const want = forwardLogits(new Tape(kernels, { grad: false }), params, Int32Array.from(probe), 1, probe.length).data;
    const got = createSession(model, { kvType: "F32" }).evaluate(probe, { allLogits: true });
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    want.forEach((w, i) => assert.ok(Math.abs((got[i] as number) - w) <= 2e-4 * scale, `logit ${i}: inference ${got[i]} vs training ${w}`));

    // 2. llama.cpp: tokens, distributions along its greedy path, greedy text
    for (const prompt of ["The ", "It was a "]) {
      const p = model.tokenize(prompt);
      assert.deepEqual(p, [...ref.tokenize(prompt)], `${prompt}: tokens`);
      const run = await referenceRun(ref, p, CONTEXT - p.length - 1, CONTEXT);
      const session = createSession(model, { contextLength: CONTEXT, flashAttention: run.flashAttention });
      let worst = 0;
      for (let i = 0; i < run.dists.length; i++) {
        const probs = softmax(session.evaluate(i === 0 ? p : [run.greedy[i - 1] as number]));
        for (const [id, pr] of [...run.dists[i]!.entries()].slice(0, 5)) worst = Math.max(worst, Math.abs((probs[id] as number) - pr));
      }
      assert.ok(worst <= TOLERANCE, `${prompt}: top-5 probabilities differ from llama.cpp's by up to ${worst.toExponential(2)}`);
      const gen = generate(model, p, { maxTokens: run.greedy.length, contextLength: CONTEXT, flashAttention: run.flashAttention });
      for await (const _ of gen) { /* drain */ }
      const nearTie = Math.max(2 * worst, 1e-4);
      let compared = 0;
      for (; compared < run.greedy.length; compared++) {
        const top = [...run.dists[compared]!.values()];
        if ((top[0] ?? 0) - (top[1] ?? 0) < nearTie) break;
        assert.equal(gen.tokens[compared], run.greedy[compared], `${prompt}: greedy token ${compared}`);
      }
      assert.ok(compared >= MIN_COMPARED, `${prompt}: only ${compared} greedy tokens compared`);
      console.log(`# gpt2 export ${JSON.stringify(prompt)}: ${compared} greedy tokens equal, worst top-5 |Δp| ${worst.toExponential(1)}`);
    }
  } finally {
    await ref.dispose();
    await model.dispose();
  }
});
