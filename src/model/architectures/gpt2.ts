/**
 * The GPT-2 family as GGUF names it (llama.cpp's LLM_ARCH_GPT2): metadata keys, tensor names and quirks.
 * Data only: the math lives in the stage files of model/.
 * Quirks, as llama.cpp loads the family: every norm has a bias and every projection a bias, all required
 * (a model trained without them is written with zero biases); Q, K and V come as one fused matrix whose rows
 * are Q, then K, then V; positions are a learned table of context_length rows added to the token embeddings;
 * the LM head `output.weight` is optional (absent: tied to `token_embd.weight`).
 */

/** general.architecture values Peel runs with the GPT-2 graph. */
export const GPT2_ARCHITECTURES: readonly string[] = ["gpt2"];

/** Metadata keys, relative to the `{arch}.` prefix. */
export const GPT2_KEYS = {
  contextLength: "context_length",
  dim: "embedding_length",
  nLayers: "block_count",
  hiddenDim: "feed_forward_length",
  nHeads: "attention.head_count",
  nKvHeads: "attention.head_count_kv",
  normEps: "attention.layer_norm_epsilon",
  vocabSize: "vocab_size",
} as const;

export const GPT2_TENSORS = {
  tokenEmbd: "token_embd.weight",
  posEmbd: "position_embd.weight",
  outputNorm: "output_norm.weight",
  outputNormBias: "output_norm.bias",
  output: "output.weight",
} as const;

/** Per-layer tensor names of block i. */
export function gpt2LayerTensors(i: number) {
  return {
    attnNorm: `blk.${i}.attn_norm.weight`,
    attnNormBias: `blk.${i}.attn_norm.bias`,
    wqkv: `blk.${i}.attn_qkv.weight`,
    bqkv: `blk.${i}.attn_qkv.bias`,
    wo: `blk.${i}.attn_output.weight`,
    bo: `blk.${i}.attn_output.bias`,
    ffnNorm: `blk.${i}.ffn_norm.weight`,
    ffnNormBias: `blk.${i}.ffn_norm.bias`,
    wUp: `blk.${i}.ffn_up.weight`,
    bUp: `blk.${i}.ffn_up.bias`,
    wDown: `blk.${i}.ffn_down.weight`,
    bDown: `blk.${i}.ffn_down.bias`,
  } as const;
}
