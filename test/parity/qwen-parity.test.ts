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
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RandomLlamaSpec } from "../fixtures/random-llama.js";
import { architectureParity } from "./architecture-case.js";

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

const dir = mkdtempSync(join(tmpdir(), "peel-qwen-parity-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const { label, spec } of CASES) test(`parity with llama.cpp: ${label}`, (t) => architectureParity(t, dir, label, spec));
