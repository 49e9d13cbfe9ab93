/**
 * Parity with llama.cpp (node-llama-cpp, prebuilt CPU binary, flashAttention: false) for the families whose
 * choices go beyond the Llama block: gemma (GeGLU, √dim embeddings, q scaled after RoPE, tied head), gemma2
 * (post-norms, attention and final soft caps, a sliding window on even layers), gemma3 (per-head q/k norms,
 * five sliding layers of six rotating with a local base), phi3 (fused q/k/v and gate/up) and gptneox
 * (LayerNorm with shifts, biases everywhere, partial NeoX rotary, parallel or sequential residual). Random
 * weights are written by Peel's GGUF writer; phi3 and gptneox get their real vocabularies from llama.cpp's
 * vocab files (../shared/testdata/llama-cpp-vocab), the Gemmas LLaMA's SentencePiece vocabulary (their own
 * 256k-piece vocabularies are not in a form llama.cpp's tests ship). Every sliding window (8) is shorter
 * than the prompt plus the 32 forced tokens, so masked positions are exercised on every sliding layer.
 *
 * Method and tolerances as the core suite (llama-parity.test.ts): forced decoding of llama.cpp's greedy
 * continuation; top-5 |Δp| ≤ 2e-3 for F32/F16, ≤ 0.08 worst and 0.02 after the prompt for Q8_0 (8-bit
 * activation rounding: one boundary flip is carried by the KV cache); equal top-1 wherever llama.cpp's
 * top-1/top-2 gap exceeds 0.02.
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
import { llamaCppVocab } from "../fixtures/llama-cpp-vocab.js";
import { loadReferenceModel, referenceRun } from "./llama-cpp.js";
import { forcedDecoding, greedyAgreement } from "./forced-decoding.js";

const N_GEN = 32;
const PROMPT = "Once upon a time, in a land far away,";
const NEAR_TIE = 0.02;

interface Case { readonly label: string; readonly spec: RandomLlamaSpec; readonly vocab?: string }

const mha = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 4 }; // head size 64
const gqa = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2 };
const wide = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, headDim: 128 }; // Gemma 7B-like: q wider than the stream
const six = { dim: 128, hiddenDim: 256, nLayers: 6, nHeads: 4, nKvHeads: 2 }; // Gemma 3's pattern: layers 0-4 slide, 5 is global
const base = { layerScale: 0.5, outputGain: 6 } as const;
const tiedBase = { layerScale: 1, outputGain: 6 } as const;

const ALL: Case[] = [
  { label: "gemma F32 MHA", spec: { ...mha, ...tiedBase, architecture: "gemma", weightType: "F32", tied: true, seed: 61 } },
  { label: "gemma F16 head 128 on dim 256", spec: { ...wide, ...tiedBase, architecture: "gemma", weightType: "F16", tied: true, seed: 62 } },
  { label: "gemma2 F32 GQA, window 8, soft caps 3/50", spec: { ...gqa, ...tiedBase, outputGain: 8, architecture: "gemma2", weightType: "F32", tied: true, seed: 63, slidingWindow: 8, attnSoftcap: 3, finalSoftcap: 50 } },
  { label: "gemma2 F16, window 8, default soft caps", spec: { ...mha, ...tiedBase, architecture: "gemma2", weightType: "F16", tied: true, seed: 64, slidingWindow: 8 } },
  { label: "gemma2 Q8_0 GQA, window 8", spec: { ...gqa, ...tiedBase, outputGain: 8, architecture: "gemma2", weightType: "Q8_0", tied: true, seed: 65, slidingWindow: 8, attnSoftcap: 3, finalSoftcap: 50 } },
  { label: "gemma3 F32 six layers, window 8, theta 1e6 / local 1e4", spec: { ...six, ...base, architecture: "gemma3", weightType: "F32", tied: false, seed: 66, slidingWindow: 8, ropeTheta: 1e6, ropeThetaLocal: 10000 } },
  { label: "gemma3 F16, window 8, local base 10000 by default", spec: { ...six, ...base, architecture: "gemma3", weightType: "F16", tied: false, seed: 67, slidingWindow: 8, ropeTheta: 1e6 } },
  { label: "gemma3 Q8_0, window 8", spec: { ...six, ...base, architecture: "gemma3", weightType: "Q8_0", tied: false, seed: 68, slidingWindow: 8, ropeTheta: 1e6, ropeThetaLocal: 10000 } },
  { label: "phi3 F32 GQA", vocab: "phi-3", spec: { ...gqa, ...base, architecture: "phi3", weightType: "F32", tied: false, seed: 69 } },
  { label: "phi3 F16 MHA", vocab: "phi-3", spec: { ...mha, ...base, architecture: "phi3", weightType: "F16", tied: false, seed: 70 } },
  { label: "phi3 Q8_0 GQA", vocab: "phi-3", spec: { ...gqa, ...base, architecture: "phi3", weightType: "Q8_0", tied: false, seed: 71 } },
  { label: "gptneox F32 parallel, rotary 16 of 64", vocab: "gpt-neox", spec: { ...mha, dim: 128, hiddenDim: 512, nHeads: 2, nKvHeads: 2, ...base, architecture: "gptneox", weightType: "F32", tied: false, seed: 72, ropeDims: 16 } },
  { label: "gptneox F16 sequential, rotary 16 of 32", vocab: "gpt-neox", spec: { ...mha, dim: 128, hiddenDim: 512, ...base, architecture: "gptneox", weightType: "F16", tied: false, seed: 73, ropeDims: 16, parallelResidual: false } },
  { label: "gptneox Q8_0 parallel", vocab: "gpt-neox", spec: { ...mha, dim: 128, hiddenDim: 512, nHeads: 2, nKvHeads: 2, ...base, architecture: "gptneox", weightType: "Q8_0", tied: false, seed: 74, ropeDims: 32 } },
];
const CASES: Case[] = process.env.PEEL_PARITY_ONLY ? ALL.filter((c) => c.label.startsWith(process.env.PEEL_PARITY_ONLY!)) : ALL;

function tolerance(t: DType): { max: number; first: number } {
  return t === "F32" || t === "F16" ? { max: 2e-3, first: 2e-3 } : { max: 0.08, first: 0.02 };
}

const BACKENDS: Record<string, () => Promise<Kernels>> = {
  ts: async () => createTsKernels(),
  wasm: () => createWasmKernels({ threads: 1 }),
};

const dir = mkdtempSync(join(tmpdir(), "peel-families-parity-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const { label, spec: baseSpec, vocab } of CASES) {
  test(`parity with llama.cpp: ${label}`, async (t) => {
    let spec = baseSpec;
    if (vocab !== undefined) {
      const v = await llamaCppVocab(vocab);
      if (v === undefined) { t.skip(`../shared absent: no ggml-vocab-${vocab}.gguf`); return; }
      spec = { ...spec, vocabSize: v.size, vocabMetadata: v.metadata };
    }
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
            const window = Math.max(...model.config.layerWindows);
            if (window > 0) assert.ok(prompt.length + ref.greedy.length > window, "the run must outgrow the sliding window");
            const { diffs, meanTop1 } = forcedDecoding(model, prompt, ref, 256, NEAR_TIE);
            const worst = Math.max(...diffs);
            const tol = tolerance(spec.weightType);
            assert.ok(worst <= tol.max, `worst top-5 probability difference ${worst.toExponential(2)} > ${tol.max} (per position: ${diffs.map((d) => d.toFixed(4)).join(" ")})`);
            assert.ok((diffs[0] as number) <= tol.first, `top-5 probability difference after the prompt ${(diffs[0] as number).toExponential(2)} > ${tol.first}`);
            const compared = await greedyAgreement(model, prompt, ref, 256, NEAR_TIE);
            console.log(`# ${label} [${backend}]: ${prompt.length} prompt tokens, ${ref.greedy.length} steps, ${compared} greedy tokens equal, mean top-1 p ${meanTop1.toFixed(2)}, top-5 |Δp| worst ${worst.toExponential(1)}`);
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
