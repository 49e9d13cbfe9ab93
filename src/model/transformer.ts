/**
 * The three records a forward pass needs besides its run state: hyperparameters, weights, and the kernels
 * backend they live in (plus the precomputed RoPE frequencies).
 */

import type { Kernels, RopeSpec } from "../kernels/kernels.js";
import type { LlamaConfig } from "./config.js";
import type { LlamaWeights } from "./weights.js";

export interface Transformer {
  readonly config: LlamaConfig;
  readonly weights: LlamaWeights;
  readonly rope: RopeSpec;
  readonly kernels: Kernels;
}
