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

/** What every family has: the glossary's shape names. */
interface CommonConfig {
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
  /** Epsilon inside the norms (RMSNorm for Llama, LayerNorm for GPT-2). */
  readonly normEps: number;
  /** True when the LM head reuses the token embedding matrix. */
  readonly tiedOutput: boolean;
}

/**
 * The Llama graph: RMSNorm, RoPE, SwiGLU feed-forward, no biases on the output and feed-forward projections.
 * Architectures of this graph (Llama, Qwen 2, Qwen 3) differ by the choices below and by the RoPE style.
 */
export interface LlamaConfig extends CommonConfig {
  readonly family: "llama";
  readonly rope: RopeConfig;
  /** q, k and v projections add a bias (Qwen 2; a Llama file that carries them). */
  readonly qkvBias: boolean;
  /** q and k are RMSNorm-ed per head (gain of headDim) before RoPE (Qwen 3). */
  readonly qkNorm: boolean;
}

/**
 * GPT-2: learned absolute positions (contextLength rows), LayerNorm with bias, fused QKV projection, biases on
 * every projection, GELU feed-forward. No RoPE.
 */
export interface Gpt2Config extends CommonConfig {
  readonly family: "gpt2";
}

/** One config type per family; `family` tells them apart. */
export type ModelConfig = LlamaConfig | Gpt2Config;
