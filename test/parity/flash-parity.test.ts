/**
 * Flash attention parity with llama.cpp (node-llama-cpp, prebuilt CPU binary, flashAttention: true, its
 * default): Peel with flashAttention "on" reproduces llama.cpp's CPU flash kernels, the one-row kernel for
 * micro-batches under 64 queries (q rounded to f16, the value sum kept in f16) and the tiled one for 64 or more
 * (f32). Each case runs a short prompt (every step on the one-row kernel) and a prompt of over 64 tokens (its
 * prefill on the tiled kernel, then one-row decode steps), on the ts and wasm backends, through the
 * families' choices that touch attention: GQA and MQA, head 128, Gemma 2's soft cap and sliding window,
 * Gemma 3's 5:1 sliding layers (windows shorter than either prompt), Qwen 3's q/k norms; and the remaining
 * families (qwen2, gemma, phi3 and gptneox with their real vocabularies) on the short prompt.
 * Method and tolerances as the core suite: forced decoding of llama.cpp's greedy continuation, top-5 |Δp| ≤ 2e-3
 * for F32/F16, ≤ 0.08 worst and 0.02 after the prompt for Q8_0, equal top-1 where llama.cpp's gap exceeds 0.02.
 */

import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RandomLlamaSpec } from "../fixtures/random-llama.js";
import { llamaCppVocab } from "../fixtures/llama-cpp-vocab.js";
import { architectureParity, type CaseOptions } from "./architecture-case.js";

const gqa = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 8, nKvHeads: 2 };
const h128 = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 2, nKvHeads: 1, headDim: 128 };
const six = { dim: 128, hiddenDim: 256, nLayers: 6, nHeads: 4, nKvHeads: 2 };
const base = { layerScale: 0.5, outputGain: 6 } as const;
const tiedBase = { layerScale: 1, outputGain: 6 } as const;

const LONG = "Once upon a time, in a land far away, there lived a little girl who loved to read. Every morning she walked " +
  "to the old library at the edge of the village, where the shelves went up to the ceiling and the windows were full of light. " +
  "The librarian, an old man with a long white beard, always had a new story waiting for her on the table by the door.";

const mha = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 4 };

interface Case { readonly label: string; readonly spec: RandomLlamaSpec; readonly vocab?: string; readonly shortOnly?: boolean }

const ALL: Case[] = [
  { label: "llama F32 GQA 8/2", spec: { ...gqa, ...base, architecture: "llama", weightType: "F32", tied: false, seed: 81 } },
  { label: "llama F16 MQA head 128", spec: { ...h128, ...tiedBase, architecture: "llama", weightType: "F16", tied: true, seed: 82 } },
  { label: "llama Q8_0 GQA", spec: { ...gqa, ...base, architecture: "llama", weightType: "Q8_0", tied: false, seed: 83 } },
  { label: "qwen3 F16 GQA", spec: { ...gqa, ...base, architecture: "qwen3", weightType: "F16", tied: false, seed: 84 } },
  { label: "gemma2 F16 GQA, window 8, soft caps 3/50", spec: { ...gqa, ...tiedBase, outputGain: 8, architecture: "gemma2", weightType: "F16", tied: true, seed: 85, slidingWindow: 8, attnSoftcap: 3, finalSoftcap: 50 } },
  { label: "gemma3 F32 six layers, window 8", spec: { ...six, ...base, architecture: "gemma3", weightType: "F32", tied: false, seed: 86, slidingWindow: 8, ropeTheta: 1e6, ropeThetaLocal: 10000 } },
  // the other families on the short prompt only (the one-row kernel, which is where flash numerics differ)
  { label: "qwen2 F32 GQA", shortOnly: true, spec: { ...gqa, ...base, architecture: "qwen2", weightType: "F32", tied: false, seed: 87, ropeTheta: 1e6 } },
  { label: "gemma F16 MHA", shortOnly: true, spec: { ...mha, ...tiedBase, architecture: "gemma", weightType: "F16", tied: true, seed: 88 } },
  { label: "phi3 F32 GQA", shortOnly: true, vocab: "phi-3", spec: { ...gqa, ...base, architecture: "phi3", weightType: "F32", tied: false, seed: 89 } },
  { label: "gptneox F16 sequential, rotary 16 of 32", shortOnly: true, vocab: "gpt-neox", spec: { ...mha, dim: 128, ...base, architecture: "gptneox", weightType: "F16", tied: false, seed: 90, ropeDims: 16, parallelResidual: false } },
];
const FLASH = (process.env.PEEL_FLASH_PARITY_MODE ?? "on") as "on" | "off"; // "off": the same cases against llama.cpp's standard path, for comparison
const CASES = process.env.PEEL_PARITY_ONLY ? ALL.filter((c) => c.label.startsWith(process.env.PEEL_PARITY_ONLY!)) : ALL;

const dir = mkdtempSync(join(tmpdir(), "peel-flash-parity-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The case's spec with its real vocabulary, or undefined (and the test skipped) where ../shared is absent. */
async function withVocab(c: Case): Promise<RandomLlamaSpec | undefined> {
  if (c.vocab === undefined) return c.spec;
  const v = await llamaCppVocab(c.vocab);
  return v === undefined ? undefined : { ...c.spec, vocabSize: v.size, vocabMetadata: v.metadata };
}

for (const c of CASES) {
  const prompts: Array<[string, CaseOptions]> = [["short prompt", { flashAttention: FLASH }]];
  if (c.shortOnly !== true) prompts.push(["prompt over 64 tokens", { flashAttention: FLASH, prompt: LONG }]);
  for (const [what, opts] of prompts) {
    test(`flash attention parity with llama.cpp: ${c.label}, ${what}`, async (t) => {
      const spec = await withVocab(c);
      if (spec === undefined) { t.skip(`../shared absent: no ggml-vocab-${c.vocab}.gguf`); return; }
      return architectureParity(t, dir, `${c.label} ${what.split(" ")[0]}`, spec, opts);
    });
  }
}
