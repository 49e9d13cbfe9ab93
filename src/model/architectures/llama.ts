/**
 * The Llama family as GGUF and llama2.c name it: metadata keys, tensor names and per-architecture quirks.
 * Data only: the math lives in the stage files of model/. Architectures listed here share Llama's tensor
 * layout (token_embd, attn_q/k/v/output, ffn_gate/up/down, RMSNorm); they differ only in RoPE pairing.
 */

import type { RopeStyle } from "../../kernels/kernels.js";

/** general.architecture values Peel runs with the Llama graph, and the RoPE pairing each uses. */
export const LLAMA_ARCHITECTURES: Readonly<Record<string, RopeStyle>> = {
  llama: "normal",
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
