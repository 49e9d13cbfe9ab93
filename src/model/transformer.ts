/**
 * The three records a forward pass needs besides its run state: the config (sizes and choices), the weights,
 * and the kernels backend they live in, plus the RoPE frequencies of each layer (sliding-window layers may
 * rotate with another base). One shape for every architecture: stages read the config's choices.
 */

import type { Kernels, RopeSpec } from "../kernels/kernels.js";
import type { ModelConfig } from "./config.js";
import type { ModelWeights } from "./weights.js";

export interface Transformer {
  readonly config: ModelConfig;
  readonly weights: ModelWeights;
  /** (nLayers) rotary tables, or undefined for models with learned positions. */
  readonly ropes: readonly RopeSpec[] | undefined;
  readonly kernels: Kernels;
}
