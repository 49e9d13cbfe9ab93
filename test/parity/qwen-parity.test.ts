/**
 * Parity with llama.cpp (node-llama-cpp, prebuilt CPU binary, flashAttention: false) for the architectures
 * that run on the Llama graph with other choices: `qwen2` (NeoX RoPE, q/k/v biases) and `qwen3` (NeoX RoPE,
 * per-head q/k RMSNorm, a head size that need not be dim / heads), plus `llama` with q/k/v biases (llama.cpp
 * takes them from any file that has them). Random weights are written by Peel's GGUF writer; the method
 * and tolerances are the core suite's (llama-parity.test.ts): forced decoding of llama.cpp's 32-token
 * greedy continuation, top-5 |Δp| ≤ 2e-3 for F32/F16, ≤ 0.08 worst and 0.02 right after the prompt for
 * Q8_0 (llama.cpp rounds activations to 8 bits there, and one boundary flip carries through the KV cache),
 * and equal top-1 wherever llama.cpp's top-1/top-2 gap exceeds 0.02.
 *
 * The vocabulary is LLaMA's (32000 SentencePiece pieces): the architecture and the tokenizer are separate
 * choices in a GGUF, and Qwen's own 151k-piece BPE vocabulary is covered by the tokenizer suites.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DType } from "../../src/tensor/dtype.js";
import type { Kernels } from "../../src/kernels/kernels.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { createWasmKernels } from "../../src/kernels/wasm/index.node.js";
import { loadModel } from "../../src/model/load.node.js";
import { writeRandomLlamaGguf, type RandomLlamaSpec } from "../fixtures/random-llama.js";
import { loadReferenceModel, referenceRun } from "./llama-cpp.js";
import { forcedDecoding, greedyAgreement } from "./forced-decoding.js";

const N_GEN = 32;
const PROMPT = "Once upon a time, in a land far away,";
const NEAR_TIE = 0.02;

interface Case { readonly label: string; readonly spec: RandomLlamaSpec }

const mha = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 4 }; // head size 64
const gqa = { dim: 512, hiddenDim: 768, nLayers: 2, nHeads: 8, nKvHeads: 2 }; // 8/2, head size 64
const mqa = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 1 };
const wideHeads = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 128 }; // q is 512 wide on a 256 stream
const base = { layerScale: 0.5, outputGain: 6 } as const;

const ALL: Case[] = [
  { label: "qwen2 F32 GQA 8/2, theta 1e6", spec: { ...gqa, ...base, architecture: "qwen2", weightType: "F32", tied: false, seed: 41, ropeTheta: 1e6 } },
  { label: "qwen2 F16 MHA", spec: { ...mha, ...base, architecture: "qwen2", weightType: "F16", tied: false, seed: 42 } },
  { label: "qwen2 Q8_0 GQA", spec: { ...gqa, ...base, architecture: "qwen2", weightType: "Q8_0", tied: false, seed: 43 } },
  { label: "qwen3 F32 head 128 on dim 256, GQA", spec: { ...wideHeads, ...base, architecture: "qwen3", weightType: "F32", tied: false, seed: 44, ropeTheta: 1e6 } },
  { label: "qwen3 F16 GQA 8/2", spec: { ...gqa, ...base, architecture: "qwen3", weightType: "F16", tied: false, seed: 45 } },
  { label: "qwen3 Q8_0 MQA", spec: { ...mqa, ...base, architecture: "qwen3", weightType: "Q8_0", tied: false, seed: 46 } },
  { label: "llama F32 with q/k/v biases", spec: { ...mha, ...base, architecture: "llama", qkvBias: true, weightType: "F32", tied: false, seed: 47 } },
];
const CASES: Case[] = process.env.PEEL_PARITY_ONLY ? ALL.filter((c) => c.label.startsWith(process.env.PEEL_PARITY_ONLY!)) : ALL;

function tolerance(t: DType): { max: number; first: number } {
  return t === "F32" || t === "F16" ? { max: 2e-3, first: 2e-3 } : { max: 0.08, first: 0.02 };
}

const BACKENDS: Record<string, () => Promise<Kernels>> = {
  ts: async () => createTsKernels(),
  wasm: () => createWasmKernels({ threads: 1 }),
};

const dir = mkdtempSync(join(tmpdir(), "peel-qwen-parity-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const { label, spec } of CASES) {
  test(`parity with llama.cpp: ${label}`, async (t) => {
    const path = join(dir, `${label.replace(/[^A-Za-z0-9]+/g, "-")}.gguf`);
    writeRandomLlamaGguf(path, spec);
    const refModel = await loadReferenceModel(path);
    try {
      let ref: Awaited<ReturnType<typeof referenceRun>> | undefined;
      for (const [backend, make] of Object.entries(BACKENDS)) {
        await t.test(backend, async () => {
          const model = await loadModel(path, { kernels: await make() });
          try {
            assert.equal(model.config.architecture, spec.architecture);
            assert.deepEqual(model.tokenize(PROMPT, { addSpecial: false }), refModel.tokenize(PROMPT), "prompt tokenization differs from llama.cpp");
            const prompt = model.tokenize(PROMPT);
            ref ??= await referenceRun(refModel, prompt, N_GEN);
            assert.ok(ref.greedy.length >= 8, `llama.cpp generated only ${ref.greedy.length} tokens`);
            const { diffs, meanTop1 } = forcedDecoding(model, prompt, ref, 256, NEAR_TIE);
            const worst = Math.max(...diffs);
            const tol = tolerance(spec.weightType);
            assert.ok(worst <= tol.max, `worst top-5 probability difference ${worst.toExponential(2)} > ${tol.max} (per position: ${diffs.map((d) => d.toFixed(4)).join(" ")})`);
            assert.ok((diffs[0] as number) <= tol.first, `top-5 probability difference after the prompt ${(diffs[0] as number).toExponential(2)} > ${tol.first}`);
            const compared = await greedyAgreement(model, prompt, ref, 256, NEAR_TIE);
            console.log(`# ${label} [${backend}]: ${ref.greedy.length} steps, ${compared} greedy tokens equal, mean top-1 p ${meanTop1.toFixed(2)}, top-5 |Δp| worst ${worst.toExponential(1)}`);
          } finally {
            await model.dispose();
          }
        });
      }
    } finally {
      await refModel.dispose();
    }
  });
}
