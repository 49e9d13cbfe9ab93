/**
 * The three records a forward pass needs besides its run state: the config (sizes and choices), the weights,
 * and the kernels backend they live in, plus the RoPE frequencies of each layer (sliding-window layers may
 * rotate with another base), or each layer's relative-position bias (T5). One shape for every architecture:
 * stages read the config's choices; an encoder–decoder carries its encoder as a second Transformer.
 */

import type { Kernels, RopeSpec } from "../kernels/kernels.js";
import type { ModelConfig } from "./config.js";
import type { ModelWeights, PositionBias } from "./weights.js";

export interface Transformer {
  readonly config: ModelConfig;
  readonly weights: ModelWeights;
  /** (nLayers) rotary tables, or undefined for models with learned positions. */
  readonly ropes: readonly RopeSpec[] | undefined;
  readonly kernels: Kernels;
  /** (nLayers) relative-position biases added to the attention scores (T5), or undefined. */
  readonly positionBias?: readonly PositionBias[];
  /**
   * An encoder–decoder's encoder stack, as a Transformer of its own (encode.ts runs it): its config counts the
   * encoder's blocks, its weights are the encoder's blocks with the encoder's final norm and no head, and its
   * attention is bidirectional. The outer Transformer is the decoder.
   */
  readonly encoderStack?: Transformer;
  /** Bidirectional attention with pre-norms (T5's encoder stack); BERT-style encoders say so by config.encoder instead. */
  readonly bidirectional?: boolean;
}
