/**
 * The Llama graph's architectures as GGUF and llama2.c name them: metadata keys, tensor names and the
 * choices each architecture makes. Data only: the math lives in the stage files of model/. Architectures
 * listed here share Llama's tensor layout (token_embd, attn_q/k/v/output, ffn_gate/up/down, RMSNorm,
 * SwiGLU); they differ in RoPE pairing and per-head q/k norms, as llama.cpp loads them.
 */

import type { RopeStyle } from "../../kernels/kernels.js";

/** The choices an architecture of the Llama graph makes (see the table below for who makes which). */
export interface LlamaVariant {
  /** RoPE pairing: adjacent dims ("normal", Llama) or dims half a head apart ("neox", Qwen). */
  readonly rope: RopeStyle;
  /** RMSNorm over each head of q and of k after the projection, before RoPE (Qwen 3's attn_q_norm/attn_k_norm). */
  readonly qkNorm: boolean;
}

/**
 * general.architecture values Peel runs with the Llama graph, and the choices each makes. q/k/v biases are
 * not an architecture's choice but a file's: llama.cpp's loader takes attn_{q,k,v}.bias wherever a file has
 * them, for every architecture here (Qwen 2 checkpoints always have them, Qwen 3 and Llama ones do not).
 */
export const LLAMA_ARCHITECTURES: Readonly<Record<string, LlamaVariant>> = {
  llama: { rope: "normal", qkNorm: false }, // Llama 1-3, TinyLlama, SmolLM, Mistral dense
  qwen2: { rope: "neox", qkNorm: false }, // Qwen 1.5, Qwen 2, Qwen 2.5
  qwen3: { rope: "neox", qkNorm: true },
};

/** Metadata keys, relative to the `{arch}.` prefix. */
export const LLAMA_KEYS = {
  contextLength: "context_length",
  dim: "embedding_length",
  nLayers: "block_count",
  hiddenDim: "feed_forward_length",
  nHeads: "attention.head_count",
  nKvHeads: "attention.head_count_kv",
  normEps: "attention.layer_norm_rms_epsilon",
  keyLength: "attention.key_length",
  valueLength: "attention.value_length",
  ropeDims: "rope.dimension_count",
  ropeTheta: "rope.freq_base",
  ropeScalingType: "rope.scaling.type",
  ropeScalingFactor: "rope.scaling.factor",
  ropeScaleLinear: "rope.scale_linear",
  ropeOrigContext: "rope.scaling.original_context_length",
  ropeLowFreqFactor: "rope.scaling.low_freq_factor",
  ropeHighFreqFactor: "rope.scaling.high_freq_factor",
  vocabSize: "vocab_size",
} as const;

export const LLAMA_TENSORS = {
  tokenEmbd: "token_embd.weight",
  outputNorm: "output_norm.weight",
  output: "output.weight",
  ropeFreqs: "rope_freqs.weight",
} as const;

/** Per-layer tensor names of block i. */
export function llamaLayerTensors(i: number) {
  return {
    attnNorm: `blk.${i}.attn_norm.weight`,
    wq: `blk.${i}.attn_q.weight`,
    wk: `blk.${i}.attn_k.weight`,
    wv: `blk.${i}.attn_v.weight`,
    bq: `blk.${i}.attn_q.bias`,
    bk: `blk.${i}.attn_k.bias`,
    bv: `blk.${i}.attn_v.bias`,
    qNorm: `blk.${i}.attn_q_norm.weight`,
    kNorm: `blk.${i}.attn_k_norm.weight`,
    wo: `blk.${i}.attn_output.weight`,
    ffnNorm: `blk.${i}.ffn_norm.weight`,
    wGate: `blk.${i}.ffn_gate.weight`,
    wUp: `blk.${i}.ffn_up.weight`,
    wDown: `blk.${i}.ffn_down.weight`,
  } as const;
}

export const LLAMA_DEFAULTS = {
  ropeTheta: 10000,
  normEps: 1e-5,
} as const;
