/**
 * The three records a forward pass needs besides its run state: hyperparameters, weights, and the kernels
 * backend they live in (plus, for Llama, the precomputed RoPE frequencies). One variant per family, told
 * apart by `family` so each stage can narrow config and weights together.
 */

import type { Kernels, RopeSpec } from "../kernels/kernels.js";
import type { Gpt2Config, LlamaConfig } from "./config.js";
import type { Gpt2Weights } from "./gpt2-weights.js";
import type { LlamaWeights } from "./weights.js";

export interface LlamaTransformer {
  readonly family: "llama";
  readonly config: LlamaConfig;
  readonly weights: LlamaWeights;
  readonly rope: RopeSpec;
  readonly kernels: Kernels;
}

export interface Gpt2Transformer {
  readonly family: "gpt2";
  readonly config: Gpt2Config;
  readonly weights: Gpt2Weights;
  readonly kernels: Kernels;
}

export type Transformer = LlamaTransformer | Gpt2Transformer;
