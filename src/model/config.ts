/**
 * Hyperparameters and architecture choices, parsed once from a model file into one typed record. Every later
 * stage reads only this record (never raw metadata keys, never the architecture's name): the shape names
 * follow the glossary in src/README.md (dim, hiddenDim, nLayers, nHeads, nKvHeads, headDim, kvDim, vocabSize,
 * contextLength), and the choices use the seeds' vocabulary (norm, position, activation, ...), the same words
 * training's config uses (train/model/config.ts), so a trained mix can be run and exported as it was built.
 * Which architecture makes which choices is a table per family in architectures/.
 */

import type { RopeStyle } from "../kernels/kernels.js";

/** "rms": RMSNorm, gain only. "layer": LayerNorm, gain and bias. */
export type NormKind = "layer" | "rms";
/**
 * How a token learns its position: a learned table added to the embedding, sinusoids (training only), rotary
 * q/k, or a learned bias on each attention score by the key's distance from the query (T5's relative buckets).
 */
export type PositionKind = "learned" | "sinusoidal" | "rope" | "relative";
/**
 * The feed-forward's nonlinearity and gating. Ungated: down(act(up·n)). Gated: down(act(gate·n) ⊙ up·n), with
 * SiLU ("swiglu") or tanh-approximated GELU ("geglu", Gemma).
 */
export type ActivationKind = "relu" | "gelu" | "swiglu" | "geglu";

export type RopeScaling =
  | { readonly type: "none" }
  | { readonly type: "linear"; readonly factor: number }
  | { readonly type: "llama3"; readonly factor: number; readonly lowFreqFactor: number; readonly highFreqFactor: number; readonly originalContextLength: number };

export interface RopeConfig {
  /** Pairing: adjacent dims ("normal", Llama) or dims half the rotated span apart ("neox": Qwen, Gemma, Phi, GPT-NeoX). */
  readonly style: RopeStyle;
  /** Rotated dims per head; fewer than headDim is partial rotary (GPT-NeoX, Phi 2): the rest pass through. */
  readonly nRot: number;
  /** Base of the frequency ladder (ropeTheta, GGUF `rope.freq_base`). */
  readonly theta: number;
  /** Base on sliding-window layers where it differs (Gemma 3: 10000 locally, 1e6 on global layers). */
  readonly localTheta: number | undefined;
  /** Applies to the global base only (llama.cpp scales the local layers' frequencies not at all). */
  readonly scaling: RopeScaling;
}

/** Which projections add a bias. */
export interface BiasChoices {
  /** q, k and v (GPT-2, GPT-NeoX, Qwen 2, or any Llama-graph file that carries them). */
  readonly qkv: boolean;
  /** The attention output projection. */
  readonly attnOut: boolean;
  /** The feed-forward's up and down projections. */
  readonly ffn: boolean;
}

/** How an encoder's token vectors become one vector per text (GGUF `pooling_type`). */
export type PoolingKind = "none" | "mean" | "cls" | "last";

/**
 * Encoder-only models (BERT family): attention is bidirectional; each sub-block's norm comes after its
 * residual add (x ← norm(x + attn(x)), then x ← norm(x + ffn(x))); the summed embeddings are LayerNormed;
 * there is no LM head: the last layer's token vectors are pooled.
 */
export interface EncoderConfig {
  readonly pooling: PoolingKind;
  /** Rows of the token-type table (0: none); row 0 ("sentence A") is added to every token, as llama.cpp does. */
  readonly tokenTypes: number;
  /**
   * A reranker's classifier head (GGUF pooling "rank"): on the [CLS] vector, tanh(cls · x + b) when `hidden`, then
   * `outputs` scores (cls.output). Undefined for plain embedding models.
   */
  readonly classifier?: { readonly hidden: boolean; readonly outputs: number };
}

/**
 * Encoder–decoder models (T5, Flan-T5): an encoder stack reads the input once (bidirectional attention,
 * pre-norms, its own final norm); the decoder (the model's `nLayers` blocks) writes the answer, each block
 * attending to its own earlier tokens, then to the encoder's output (cross-attention), then its
 * feed-forward. Both stacks share the token embeddings; position is a learned per-head bias on each score
 * by relative-position bucket (bidirectional buckets in the encoder, causal in the decoder).
 */
export interface Seq2SeqConfig {
  readonly encoderLayers: number;
  /** Relative-position buckets (GGUF `attention.relative_buckets_count`): half each way in the encoder. */
  readonly relBuckets: number;
  /** Distances at or beyond this share the last bucket (128 in every T5; llama.cpp fixes it too). */
  readonly relMaxDistance: number;
  /** The decoder's first token (T5: the pad token, 0); undefined: the tokenizer's BOS, as llama.cpp falls back. */
  readonly decoderStartId: number | undefined;
}

export interface ModelConfig {
  /** The file's own architecture name (`general.architecture`, or "llama2.c"): for display, never for branching. */
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

  /** Norm kind of every norm in the model (block inputs, post-norms, final norm). */
  readonly norm: NormKind;
  /** Epsilon inside every norm. */
  readonly normEps: number;
  /**
   * Norms on each sub-block's output too, before it joins the residual stream (Gemma 2/3's post-attention
   * and post-feed-forward norms). Every block always has its pre-norms.
   */
  readonly postNorms: boolean;
  /** Absolute positions or rotary; `rope` is set exactly when this is "rope". */
  readonly position: PositionKind;
  readonly rope: RopeConfig | undefined;
  readonly activation: ActivationKind;
  readonly biases: BiasChoices;
  /** q and k are normed per head (gain of headDim) before RoPE (Qwen 3, Gemma 3). */
  readonly qkNorm: boolean;
  /** x + attn(norm₁ x) + ffn(norm₂ x), both sub-blocks reading the block's input (GPT-NeoX), instead of one after the other. */
  readonly parallelResidual: boolean;
  /** Multiplies the token embeddings (Gemma: √dim); 1 elsewhere. */
  readonly embedScale: number;
  /** Multiplies q·k before the softmax: 1/√headDim unless the architecture says otherwise (Gemma 2/3's 27B). */
  readonly attnScale: number;
  /**
   * Where attnScale is applied: to q after RoPE (Gemma, Phi-3, as llama.cpp's graphs for them do; q is then
   * rounded to f16 for an f16 cache already scaled) or to each score.
   */
  readonly attnScaleAt: "query" | "scores";
  /** Attention scores become cap · tanh(score / cap) before scaling (Gemma 2); undefined: none. */
  readonly attnSoftcap: number | undefined;
  /** Final logits become cap · tanh(logit / cap) (Gemma 2); undefined: none. */
  readonly finalSoftcap: number | undefined;
  /**
   * Per layer: how many positions a token sees (itself and the window − 1 before it) on a sliding-window
   * layer, or 0 on a layer that sees the whole context (Mistral: every layer; Gemma 2: every other; Gemma 3:
   * five of every six).
   */
  readonly layerWindows: readonly number[];
  /** The LM head reuses the token embedding matrix. */
  readonly tiedOutput: boolean;
  /** How the file stores the projections (no effect on the math). */
  readonly layout: ProjectionLayout;
  /** Present for encoder-only models (EncoderConfig); decoders have none. */
  readonly encoder?: EncoderConfig;
  /** Present for encoder–decoder models (Seq2SeqConfig): `nLayers` and the head are the decoder's. */
  readonly seq2seq?: Seq2SeqConfig;
}

export interface ProjectionLayout {
  /** One q/k/v matrix (rows Q, K, V) instead of three. */
  readonly fusedQkv: boolean;
  /** Gate and up rows in one matrix (gate first) instead of two. */
  readonly fusedGateUp: boolean;
}
