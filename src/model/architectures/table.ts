/**
 * The shape of an architecture's table: which of the seeds' choices a GGUF architecture makes, and which of
 * GGUF's keys and tensors (gguf-names.ts) it reads for them, as llama.cpp loads that architecture. One table
 * per `general.architecture`; config-from-gguf.ts reads any file through its table, so adding an architecture
 * that these fields can express is adding a table. Data only: no math here.
 */

import type { RopeStyle } from "../../kernels/kernels.js";
import type { ActivationKind, NormKind, PoolingKind } from "../config.js";

/** Whether a tensor (or set of tensors) is in every file, in some (taken when present), or in none. */
export type Presence = "required" | "optional" | "none";

export interface SlidingWindowRule {
  /** Window when the file has no `attention.sliding_window` key; undefined: no sliding layers without the key. */
  readonly defaultWindow: number | undefined;
  /**
   * Layer il slides when il % pattern < pattern − 1 (llama.cpp's set_swa_pattern): 2 is every even layer
   * (Gemma 2), 6 is five of every six (Gemma 3). `attention.sliding_window_pattern` overrides it (a number,
   * or one boolean per layer).
   */
  readonly defaultPattern: number;
  /** Sliding layers' RoPE base without a `rope.freq_base_swa` key: the global base, or a number (Gemma 3: 10000). */
  readonly localTheta: "global" | number;
}

export interface ArchitectureTable {
  /** The `general.architecture` value. */
  readonly name: string;
  /** Who writes it: for docs and `peel info`. */
  readonly models: string;
  readonly norm: NormKind;
  /** Epsilon key; undefined default: the key is required. */
  readonly normEps: { readonly key: string; readonly default: number | undefined };
  readonly position: "rope" | "learned" | "relative";
  /** Rotary pairing (position "rope"). */
  readonly ropeStyle: RopeStyle;
  readonly activation: ActivationKind;
  /** q/k/v as three tensors, one fused attn_qkv, or whichever the file has (llama.cpp's create_tensor_qkv). */
  readonly qkv: "split" | "fused" | "either";
  /** Gated feed-forwards: gate and up as two tensors, or both in ffn_up (Phi-3: gate rows first). */
  readonly gateUp: "split" | "fused";
  readonly biases: {
    readonly qkv: Presence;
    readonly attnOut: Presence;
    readonly ffn: Presence;
    /** LayerNorm shifts (norm "layer" only: GPT-2 and GPT-NeoX have them on every norm). */
    readonly norms: Presence;
  };
  /** Per-head q/k norms (Qwen 3, Gemma 3). */
  readonly qkNorm: boolean;
  /** Post-attention and post-feed-forward norms (Gemma 2/3). */
  readonly postNorms: boolean;
  /** Parallel attention + feed-forward: fixed, or read from a required boolean key (GPT-NeoX). */
  readonly parallelResidual: boolean | { readonly key: string };
  /** Token embeddings × √dim (Gemma). */
  readonly embedScale: "none" | "sqrtDim";
  /**
   * Where 1/√headDim is applied: to q after RoPE (Gemma, Phi-3: llama.cpp scales q, then takes scores at
   * scale 1) or to the scores. `largeLayers`: at that layer count (Gemma's 27B) the scale is 1/√(dim / nHeads).
   * `unscaled`: no scale at all (T5, whose initialisation folds it into the q projection).
   */
  readonly attnScale: { readonly at: "query" | "scores"; readonly largeLayers?: number; readonly unscaled?: boolean };
  /** Soft caps and their defaults when the keys are absent (0: none). */
  readonly softcap: { readonly attn: number; readonly final: number } | undefined;
  readonly slidingWindow: SlidingWindowRule | undefined;
  /** "file": tied when output.weight is absent; "always": the head is the embedding (a file's output.weight is not read). */
  readonly tiedOutput: "file" | "always";
  /** Encoder-only (BERT): pooling when the file has no `pooling_type` key (config.ts EncoderConfig). */
  readonly encoder?: { readonly defaultPooling: PoolingKind };
  /**
   * Encoder–decoder (T5): tensors under `enc.` and `dec.` (gguf-names.ts T5 names), and the activation the
   * feed-forward takes when the file has gate tensors (T5 v1.1 / Flan-T5: GeGLU; `activation` without them).
   */
  readonly seq2seq?: { readonly gatedActivation: ActivationKind };
}
