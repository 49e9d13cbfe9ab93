/**
 * Training speed, side by side in one run: Peel (wasm backend, 1 and 2 threads) and TensorFlow.js (its
 * fastest backend that installs here, wasm, plus its plain-autodiff variant) train the same GPT-2-style
 * shape on the same batches with the same AdamW settings. Prints tokens/s, the ratio to TensorFlow.js, and
 * achieved FLOP/s against the matmul peak measured on this machine by Peel's own kernel.
 * Run: npm run bench:train  (env PEEL_BENCH_STEPS, default 8; PEEL_BENCH_TFJS_CPU=1 adds tfjs's slow cpu backend)
 */

import { availableParallelism } from "node:os";
import { createWasmKernels } from "../src/kernels/wasm/index.node.js";
import type { Kernels } from "../src/kernels/kernels.js";
import { PRESETS, type TrainModelConfig } from "../src/train/model/config.js";
import { createParams, initParams } from "../src/train/model/params.js";
import { createTrainer } from "../src/train/loop/trainer.js";
import { DEFAULT_TRAIN_BENCH_SHAPE, TRAIN_BENCH_OPTIMIZER, trainBenchBatch, trainFlopsPerToken, type TrainBenchShape } from "./train-shape.js";
import { benchTfjsTraining } from "./train-tfjs.js";

const STEPS = Number(process.env["PEEL_BENCH_STEPS"] ?? 8);
const WARMUP = 2;

interface Row { readonly engine: string; readonly tokensPerSecond: number; readonly msPerStep: number; readonly finalLoss: number }

async function benchPeel(shape: TrainBenchShape, kernels: Kernels, label: string): Promise<Row> {
  const config: TrainModelConfig = {
    ...PRESETS.gpt2, vocabSize: shape.vocabSize, dim: shape.dim, nLayers: shape.nLayers, nHeads: shape.nHeads, nKvHeads: shape.nHeads,
    hiddenDim: shape.hiddenDim, contextLength: shape.contextLength,
  };
  const params = createParams(config);
  initParams(params, 1);
  const o = TRAIN_BENCH_OPTIMIZER;
  const trainer = createTrainer(kernels, params, {
    batchSize: shape.batchSize, seqLen: shape.contextLength, accumulation: 1, steps: WARMUP + STEPS,
    schedule: { maxLr: o.learningRate, minLr: o.learningRate, warmupSteps: 0, totalSteps: WARMUP + STEPS },
    adamw: { beta1: o.beta1, beta2: o.beta2, eps: o.epsilon, weightDecay: o.weightDecay }, clipNorm: Infinity, seed: 1, evalBatches: 1,
  }, { train: new Uint32Array(shape.contextLength + 1), val: new Uint32Array(shape.contextLength + 1) });
  for (let i = 0; i < WARMUP; i++) trainer.trainStepOn([trainBenchBatch(shape, i)]);
  let loss = NaN;
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) loss = trainer.trainStepOn([trainBenchBatch(shape, WARMUP + i)]).loss;
  const ms = (performance.now() - t0) / STEPS;
  return { engine: label, tokensPerSecond: (shape.batchSize * shape.contextLength * 1000) / ms, msPerStep: ms, finalLoss: loss };
}

/** Peel's f32 matmul kernel at a training-sized product (2048 tokens × 512 × 512), in GFLOP/s. */
function matmulPeak(k: Kernels): number {
  const n = 2048, rows = 512, cols = 512;
  const w = new Float32Array(rows * cols).map((_, i) => ((i * 7) % 13) / 13 - 0.5), x = new Float32Array(n * cols).map((_, i) => ((i * 5) % 11) / 11 - 0.5);
  const out = new Float32Array(n * rows);
  k.matmulF32(out, w, x, rows, cols, n);
  const reps = 5, t0 = performance.now();
  for (let i = 0; i < reps; i++) k.matmulF32(out, w, x, rows, cols, n);
  return (2 * n * rows * cols * reps) / ((performance.now() - t0) / 1000) / 1e9;
}

async function main(): Promise<void> {
  const shape = DEFAULT_TRAIN_BENCH_SHAPE;
  const flops = trainFlopsPerToken(shape);
  console.log(`training bench: GPT-2-style vocab ${shape.vocabSize}, dim ${shape.dim}, ${shape.nLayers} layers, ${shape.nHeads} heads, hidden ${shape.hiddenDim}, ` +
    `context ${shape.contextLength}, batch ${shape.batchSize}; ${(flops / 1e6).toFixed(2)} MFLOP/token; ${WARMUP} warm-up + ${STEPS} timed steps; ${availableParallelism()} cores`);
  const rows: Row[] = [];
  const peaks: Array<[string, number]> = [];
  for (const threads of [1, 2]) {
    const k = await createWasmKernels({ threads });
    try {
      peaks.push([`${threads} thread${threads > 1 ? "s" : ""}`, matmulPeak(k)]);
      rows.push(await benchPeel(shape, k, `peel wasm, ${threads} thread${threads > 1 ? "s" : ""}`));
    } finally {
      await k.dispose();
    }
  }
  const tfjs: Row[] = [];
  for (const plainAutodiff of [false, true]) {
    const r = await benchTfjsTraining(shape, { steps: STEPS, warmup: WARMUP, backend: "wasm", plainAutodiff });
    tfjs.push({ engine: `tfjs ${r.backend}`, tokensPerSecond: r.tokensPerSecond, msPerStep: r.msPerStep, finalLoss: r.finalLoss });
  }
  if (process.env["PEEL_BENCH_TFJS_CPU"] === "1") {
    const r = await benchTfjsTraining(shape, { steps: 2, warmup: 1, backend: "cpu" });
    tfjs.push({ engine: `tfjs ${r.backend}`, tokensPerSecond: r.tokensPerSecond, msPerStep: r.msPerStep, finalLoss: r.finalLoss });
  }
  const best = Math.max(...tfjs.map((r) => r.tokensPerSecond));
  console.log(`\n${"engine".padEnd(34)}${"tokens/s".padStart(10)}${"ms/step".padStart(10)}${"GFLOP/s".padStart(9)}${"vs tfjs".padStart(9)}${"loss".padStart(8)}`);
  for (const r of [...rows, ...tfjs]) {
    console.log(`${r.engine.padEnd(34)}${r.tokensPerSecond.toFixed(0).padStart(10)}${r.msPerStep.toFixed(0).padStart(10)}` +
      `${((r.tokensPerSecond * flops) / 1e9).toFixed(1).padStart(9)}${(r.tokensPerSecond / best).toFixed(2).padStart(8)}×${r.finalLoss.toFixed(3).padStart(8)}`);
  }
  console.log(`\n"vs tfjs" divides by the fastest TensorFlow.js row. Peel's f32 matmul peak here (2048×512×512): ` +
    peaks.map(([t, g]) => `${g.toFixed(1)} GFLOP/s on ${t}`).join(", ") + ".");
  for (const [i, r] of rows.entries()) {
    const peak = peaks[i]?.[1] ?? NaN;
    console.log(`${r.engine}: ${((r.tokensPerSecond * flops) / 1e9).toFixed(1)} GFLOP/s achieved = ${(((r.tokensPerSecond * flops) / 1e9 / peak) * 100).toFixed(0)} % of that peak`);
  }
}

await main();
