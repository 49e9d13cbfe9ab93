/**
 * Random-weight Llama models for the speed benchmarks, written by Peel's GGUF writer through
 * test/fixtures/random-llama.ts (Gaussian weights quantized by Peel's quantizers; random blocks for K-quants;
 * the LLaMA vocabulary, cut to its first 512 pieces for the 260K shape). Model files are never committed:
 * `npm run bench:models -- --out DIR [--only 110M-Q4_0,260K-F32]` writes them to DIR (default: a temp dir);
 * the 8B-shaped model (4.9 GB, test/fixtures/big-llama.ts) only when named with --only.
 */

import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { DType } from "../src/tensor/dtype.js";
import { writeRandomLlamaGguf, type RandomLlamaSpec } from "../test/fixtures/random-llama.js";
import { LLAMA3_8B, writeBigLlamaGguf, type BigLlamaSpec } from "../test/fixtures/big-llama.js";

type Shape = Omit<RandomLlamaSpec, "weightType" | "tied" | "seed">;

/** The shapes of issue 4: llama2.c's stories110M and stories260K, and TinyLlama 1.1B. Separate output heads. */
export const BENCH_SHAPES: Record<string, Shape> = {
  "110M": { dim: 768, hiddenDim: 2048, nLayers: 12, nHeads: 12, nKvHeads: 12, vocabSize: 32000, contextLength: 4096 }, // room for 2048-token prompts
  "1.1B": { dim: 2048, hiddenDim: 5632, nLayers: 22, nHeads: 32, nKvHeads: 4, vocabSize: 32000, contextLength: 512 },
  "260K": { dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, contextLength: 512 },
};

/** Other families on the 110M shape (issue 13's speed rows): Qwen 3 (q/k norms, NeoX) and Gemma 2 (GeGLU, post-norms, soft caps, a 256-token window on even layers). */
const FAMILY_EXTRAS: Record<string, Partial<RandomLlamaSpec>> = {
  qwen3: { architecture: "qwen3" },
  gemma2: { architecture: "gemma2", slidingWindow: 256, finalSoftcap: 50 },
};

export const BENCH_MODELS: Record<string, { shape: string; type: DType; family?: string }> = {
  "110M-qwen3-Q8_0": { shape: "110M", type: "Q8_0", family: "qwen3" },
  "110M-qwen3-Q4_0": { shape: "110M", type: "Q4_0", family: "qwen3" },
  "110M-gemma2-Q8_0": { shape: "110M", type: "Q8_0", family: "gemma2" },
  "110M-gemma2-Q4_0": { shape: "110M", type: "Q4_0", family: "gemma2" },
  "110M-F32": { shape: "110M", type: "F32" },
  "110M-F16": { shape: "110M", type: "F16" },
  "110M-Q8_0": { shape: "110M", type: "Q8_0" },
  "110M-Q4_0": { shape: "110M", type: "Q4_0" },
  "1.1B-Q4_0": { shape: "1.1B", type: "Q4_0" },
  "1.1B-Q4_K": { shape: "1.1B", type: "Q4_K" },
  "260K-F32": { shape: "260K", type: "F32" },
};

/** Models over 4 GiB (issue 17), written by test/fixtures/big-llama.ts one tensor at a time. */
export const BIG_BENCH_MODELS: Record<string, BigLlamaSpec> = {
  "8B-Q4_K_M": LLAMA3_8B, // Llama 3 8B's shape and vocabulary size: 4.9 GB
};

/** Writes benchmark model `name` (a key of BENCH_MODELS or BIG_BENCH_MODELS) into `dir`; returns its path. */
export async function writeBenchModel(dir: string, name: string): Promise<string> {
  const path = join(dir, `peel-bench-${name}.gguf`);
  const big = BIG_BENCH_MODELS[name];
  if (big !== undefined) {
    await writeBigLlamaGguf(path, big);
    return path;
  }
  const m = BENCH_MODELS[name];
  if (m === undefined) throw new Error(`unknown benchmark model "${name}"; known: ${[...Object.keys(BENCH_MODELS), ...Object.keys(BIG_BENCH_MODELS)].join(", ")}`);
  const extras = m.family !== undefined ? FAMILY_EXTRAS[m.family] : undefined;
  writeRandomLlamaGguf(path, { ...BENCH_SHAPES[m.shape]!, weightType: m.type, tied: false, seed: 42, layerScale: 0.5, outputGain: 6, ...extras });
  return path;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  const { values } = parseArgs({ options: { out: { type: "string" }, only: { type: "string" } } });
  const dir = values.out ?? mkdtempSync(join(tmpdir(), "peel-bench-models-"));
  mkdirSync(dir, { recursive: true });
  for (const name of values.only?.split(",") ?? Object.keys(BENCH_MODELS)) { // big models only when named
    const t0 = performance.now();
    console.log(`${await writeBenchModel(dir, name.trim())} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}
