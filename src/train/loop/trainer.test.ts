import { test } from "node:test";
import assert from "node:assert/strict";
import { createTsKernels } from "../../kernels/ts/index.js";
import { createWasmKernels } from "../../kernels/wasm/index.node.js";
import type { Kernels } from "../../kernels/kernels.js";
import { createRng } from "../../sample/rng.js";
import { PRESETS, type PresetName, type TrainModelConfig } from "../model/config.js";
import { createParams, initParams, type ModelParams } from "../model/params.js";
import { createTrainer, type TrainHyperparameters } from "./trainer.js";

function tinyConfig(preset: PresetName, over: Partial<TrainModelConfig> = {}): TrainModelConfig {
  return { ...PRESETS[preset], vocabSize: 32, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 64, contextLength: 64, ...over };
}

function hyper(over: Partial<TrainHyperparameters> = {}): TrainHyperparameters {
  return {
    batchSize: 2, seqLen: 16, accumulation: 1, steps: 200,
    schedule: { maxLr: 1e-2, minLr: 1e-3, warmupSteps: 10, totalSteps: 200 },
    adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 },
    clipNorm: 1, seed: 7, evalBatches: 2, ...over,
  };
}

function randomTokens(n: number, vocab: number, seed: number): Uint32Array {
  const rng = createRng(seed);
  return Uint32Array.from({ length: n }, () => Math.floor(rng.next() * vocab));
}

function model(c: TrainModelConfig, seed = 7): ModelParams {
  const p = createParams(c);
  initParams(p, seed);
  return p;
}

const ts = createTsKernels();

for (const preset of ["llama", "gpt2"] as const) {
  test(`a 2-layer ${preset}-style model overfits a fixed 64-token sequence to loss < 0.05 within 300 steps`, () => {
    // 65 tokens and windows of 64: the only window is the whole sequence, every step sees the same batch
    const seq = randomTokens(65, 32, 11);
    const h = hyper({ batchSize: 1, seqLen: 64, steps: 300, schedule: { maxLr: 1e-2, minLr: 1e-3, warmupSteps: 10, totalSteps: 300 } });
    const trainer = createTrainer(ts, model(tinyConfig(preset)), h, { train: seq, val: seq });
    let loss = Infinity, steps = 0;
    while (loss >= 0.05 && steps < 300) { loss = trainer.trainStep().loss; steps++; }
    assert.ok(loss < 0.05, `loss ${loss} after ${steps} steps`);
    console.log(`${preset}: loss ${loss.toFixed(4)} after ${steps} steps`);
    assert.ok(trainer.evaluate() < 0.1, "the validation pass (no tape) sees the same memorised sequence");
  });
}

function lossesOf(kernels: Kernels, c: TrainModelConfig, h: TrainHyperparameters, data: Uint32Array, n: number): number[] {
  const trainer = createTrainer(kernels, model(c), h, { train: data, val: data });
  return Array.from({ length: n }, () => trainer.trainStep().loss);
}

test("training is deterministic: same seed → the same losses; another seed → different ones", () => {
  const data = randomTokens(400, 32, 3);
  const c = tinyConfig("llama", { position: "sinusoidal", activation: "relu", norm: "layer", nKvHeads: 1 });
  const a = lossesOf(ts, c, hyper({ accumulation: 2 }), data, 4);
  assert.deepEqual(lossesOf(ts, c, hyper({ accumulation: 2 }), data, 4), a);
  assert.notDeepEqual(lossesOf(ts, c, hyper({ accumulation: 2, seed: 8 }), data, 4), a);
});

test("wasm backend: 1 and 2 threads give bitwise the same losses, within 1e-5 of the ts reference", async () => {
  const data = randomTokens(400, 32, 4);
  const c = tinyConfig("llama", { dim: 64, hiddenDim: 128 });
  const one = await createWasmKernels({ threads: 1 }), two = await createWasmKernels({ threads: 2 });
  try {
    const l1 = lossesOf(one, c, hyper({ batchSize: 4, seqLen: 32 }), data, 3);
    assert.deepEqual(lossesOf(two, c, hyper({ batchSize: 4, seqLen: 32 }), data, 3), l1);
    const lt = lossesOf(ts, c, hyper({ batchSize: 4, seqLen: 32 }), data, 3);
    lt.forEach((l, i) => assert.ok(Math.abs(l - (l1[i] as number)) < 1e-5, `step ${i + 1}: ts ${l} vs wasm ${l1[i]}`));
  } finally {
    await two.dispose();
  }
});

test("resume equivalence (in memory): N steps straight = N/2, snapshot, new trainer, N/2 — identical losses", () => {
  const data = randomTokens(500, 32, 5);
  const c = tinyConfig("gpt2");
  const h = hyper({ steps: 8, schedule: { maxLr: 5e-3, minLr: 5e-4, warmupSteps: 2, totalSteps: 8 } });
  const straight = lossesOf(ts, c, h, data, 8);
  const first = createTrainer(ts, model(c), h, { train: data, val: data });
  const half = Array.from({ length: 4 }, () => first.trainStep().loss);
  const snap = first.snapshot();
  const copy = createParams(c);
  copy.list.forEach((p, i) => p.data.set(first.params.list[i]!.data));
  const second = createTrainer(ts, copy, h, { train: data, val: data }, snap);
  const rest = Array.from({ length: 4 }, () => second.trainStep().loss);
  assert.deepEqual([...half, ...rest], straight);
});

test("the memory estimate's parameter count equals the parameters created, for every architecture choice", async () => {
  const { parameterCount, estimateTrainingBytes } = await import("../model/memory.js");
  for (const c of [tinyConfig("llama"), tinyConfig("gpt2"), tinyConfig("gpt2", { tiedOutput: false, nKvHeads: 1 }),
    tinyConfig("llama", { position: "sinusoidal", activation: "relu", norm: "layer" }), tinyConfig("llama", { activation: "gelu", position: "learned" })]) {
    const p = createParams(c);
    assert.equal(parameterCount(c), p.list.reduce((n, q) => n + q.data.length, 0), JSON.stringify(c));
    assert.ok(estimateTrainingBytes(c, 2, 16) > 16 * parameterCount(c));
  }
});
