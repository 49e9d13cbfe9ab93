/**
 * Hyperparameters, parsed once from a model file's metadata into one typed record per family.
 * Every later stage reads only this record (never raw metadata keys). Shape names follow the glossary in
 * src/README.md: dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, kvDim, vocabSize, contextLength.
 */

import type { RopeStyle } from "../kernels/kernels.js";

export type RopeScaling =
  | { readonly type: "none" }
  | { readonly type: "linear"; readonly factor: number }
  | { readonly type: "llama3"; readonly factor: number; readonly lowFreqFactor: number; readonly highFreqFactor: number; readonly originalContextLength: number };

export interface RopeConfig {
  readonly style: RopeStyle;
  /** Rotated dims per head. */
  readonly nRot: number;
  /** Base of the frequency ladder (ropeTheta, GGUF `rope.freq_base`). */
  readonly theta: number;
  readonly scaling: RopeScaling;
}

export interface LlamaConfig {
  readonly family: "llama";
  /** The file's own architecture name (`general.architecture`, or "llama2.c"). */
  readonly architecture: string;
  readonly dim: number;
  readonly hiddenDim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  readonly kvDim: number;
  readonly vocabSize: number;
  /** Trained context window; prompts plus generation may not exceed it. */
  readonly contextLength: number;
  readonly normEps: number;
  readonly rope: RopeConfig;
  /** True when the LM head reuses the token embedding matrix. */
  readonly tiedOutput: boolean;
}

/** One config type per family; only Llama so far. */
export type ModelConfig = LlamaConfig;
