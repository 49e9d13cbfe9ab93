/**
 * Training and inference are the same model: a Llama-style model trained a few steps by the taped, batched
 * forward, exported to GGUF and loaded by the inference engine, gives the same logits at every position —
 * both for the whole prompt at once and when fed one token at a time through the KV cache.
 * Tolerance: max |Δlogit| ≤ 2e-4 · max |logit| (f32 arithmetic in different orders; KV cache F32).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { createWasmKernels } from "../../src/kernels/wasm/index.node.js";
import { bytesSource } from "../../src/formats/byte-source.js";
import { writeGguf } from "../../src/formats/gguf/write.js";
import { loadModelFromSource } from "../../src/model/load.js";
import { createSession } from "../../src/generate/session.js";
import { createRng } from "../../src/sample/rng.js";
import { trainBpe } from "../../src/tokenizer/train/train-bpe.js";
import { Tape } from "../../src/train/autograd/tape.js";
import { forwardLogits } from "../../src/train/model/forward.js";
import { PRESETS, type TrainModelConfig } from "../../src/train/model/config.js";
import { createParams, initParams } from "../../src/train/model/params.js";
import { createTrainer } from "../../src/train/loop/trainer.js";
import { exportLlamaGguf } from "../../src/train/export/gguf.js";
import type { Kernels } from "../../src/kernels/kernels.js";

const TOL = 2e-4;

async function check(kernels: Kernels, label: string, over: Partial<TrainModelConfig>): Promise<void> {
  const trained = await trainBpe({ texts: ["the cat sat on the mat. the dog sat on the log. a cat and a dog."], vocabSize: 270 });
  const config: TrainModelConfig = { ...PRESETS.llama, vocabSize: trained.vocab.length, dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 96, contextLength: 48, ...over };
  const params = createParams(config);
  initParams(params, 5);
  const rng = createRng(6);
  const data = Uint32Array.from({ length: 400 }, () => Math.floor(rng.next() * config.vocabSize));
  const trainer = createTrainer(kernels, params, {
    batchSize: 4, seqLen: 32, accumulation: 1, steps: 5, schedule: { maxLr: 1e-2, minLr: 1e-3, warmupSteps: 1, totalSteps: 5 },
    adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 }, clipNorm: 1, seed: 5, evalBatches: 1,
  }, { train: data, val: data });
  for (let i = 0; i < 5; i++) trainer.trainStep();

  const ids = Array.from(data.subarray(0, 40));
  const want = forwardLogits(new Tape(kernels, { grad: false }), params, Int32Array.from(ids), 1, ids.length).data;
  const model = await loadModelFromSource(bytesSource(writeGguf(exportLlamaGguf(params, trained, { name: "t" }))), { kernels });
  const V = config.vocabSize;
  const maxAbs = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const compare = (got: Float32Array, pos: number, how: string): void => {
    for (let i = 0; i < V; i++) {
      const d = Math.abs((got[i] as number) - (want[pos * V + i] as number));
      assert.ok(d <= TOL * maxAbs, `${label} ${how}: position ${pos} logit ${i}: inference ${got[i]} vs training ${want[pos * V + i]}`);
    }
  };
  const all = createSession(model, { kvType: "F32" }).evaluate(ids, { allLogits: true });
  for (let p = 0; p < ids.length; p++) compare(all.subarray(p * V, (p + 1) * V), p, "prefill");
  const stepwise = createSession(model, { kvType: "F32" });
  ids.forEach((id, p) => compare(stepwise.evaluate([id]), p, "one token at a time"));
}

test("training forward = inference forward (ts backend; GQA, tied head)", async () => {
  await check(createTsKernels(), "ts", {});
});

test("training forward = inference forward (wasm backend, 2 threads; MQA, untied head)", async () => {
  const k = await createWasmKernels({ threads: 2 });
  try {
    await check(k, "wasm", { nKvHeads: 1, tiedOutput: false });
  } finally {
    await k.dispose();
  }
});
