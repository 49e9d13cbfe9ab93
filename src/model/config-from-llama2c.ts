/**
 * A llama2.c checkpoint header as a Llama config. llama2.c's run.c fixes what GGUF files spell out:
 * RMSNorm eps 1e-5, RoPE base 10000 over whole heads with adjacent pairs, no scaling.
 */

import type { Llama2cConfig } from "../formats/llama2c/checkpoint.js";
import type { LlamaConfig } from "./config.js";
import { validateConfig } from "./validate-config.js";

export function configFromLlama2c(h: Llama2cConfig): LlamaConfig {
  const headDim = h.dim / h.nHeads;
  const config: LlamaConfig = {
    family: "llama",
    architecture: "llama2.c",
    dim: h.dim,
    hiddenDim: h.hiddenDim,
    nLayers: h.nLayers,
    nHeads: h.nHeads,
    nKvHeads: h.nKvHeads,
    headDim,
    kvDim: h.nKvHeads * headDim,
    vocabSize: h.vocabSize,
    contextLength: h.seqLen,
    normEps: 1e-5,
    rope: { style: "normal", nRot: headDim, theta: 10000, scaling: { type: "none" } },
    tiedOutput: h.sharedClassifier,
    qkvBias: false,
    qkNorm: false,
  };
  validateConfig(config);
  return config;
}
