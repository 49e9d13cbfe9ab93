/**
 * A llama2.c checkpoint header as a config. llama2.c's run.c fixes what GGUF files spell out: the Llama
 * block (RMSNorm eps 1e-5, SwiGLU, no biases), RoPE base 10000 over whole heads with adjacent pairs, no scaling.
 */

import type { Llama2cConfig } from "../formats/llama2c/checkpoint.js";
import type { ModelConfig } from "./config.js";
import { validateConfig } from "./validate-config.js";

export function configFromLlama2c(h: Llama2cConfig): ModelConfig {
  const headDim = h.dim / h.nHeads;
  const config: ModelConfig = {
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
    norm: "rms",
    normEps: 1e-5,
    postNorms: false,
    position: "rope",
    rope: { style: "normal", nRot: headDim, theta: 10000, localTheta: undefined, scaling: { type: "none" } },
    activation: "swiglu",
    biases: { qkv: false, attnOut: false, ffn: false },
    qkNorm: false,
    parallelResidual: false,
    embedScale: 1,
    attnScale: 1 / Math.sqrt(headDim),
    attnScaleAt: "scores",
    attnSoftcap: undefined,
    finalSoftcap: undefined,
    layerWindows: Array.from({ length: Math.max(0, h.nLayers) }, () => 0),
    tiedOutput: h.sharedClassifier,
    layout: { fusedQkv: false, fusedGateUp: false },
  };
  validateConfig(config);
  return config;
}
