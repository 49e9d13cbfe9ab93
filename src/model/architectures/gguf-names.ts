/**
 * GGUF's names, as llama.cpp writes and reads them (llama-arch.cpp): metadata keys below the `{arch}.` prefix
 * and tensor names. They are shared by every architecture; each architecture's table (the other files here)
 * says which of them it reads and what they mean for it. Data only.
 */

/** Metadata keys, relative to the `{arch}.` prefix. */
export const GGUF_KEYS = {
  contextLength: "context_length",
  dim: "embedding_length",
  nLayers: "block_count",
  hiddenDim: "feed_forward_length",
  nHeads: "attention.head_count",
  nKvHeads: "attention.head_count_kv",
  rmsNormEps: "attention.layer_norm_rms_epsilon",
  layerNormEps: "attention.layer_norm_epsilon",
  keyLength: "attention.key_length",
  valueLength: "attention.value_length",
  slidingWindow: "attention.sliding_window",
  slidingWindowPattern: "attention.sliding_window_pattern",
  attnSoftcap: "attn_logit_softcapping",
  finalSoftcap: "final_logit_softcapping",
  parallelResidual: "use_parallel_residual",
  ropeDims: "rope.dimension_count",
  ropeTheta: "rope.freq_base",
  ropeThetaLocal: "rope.freq_base_swa",
  ropeScalingType: "rope.scaling.type",
  ropeScalingFactor: "rope.scaling.factor",
  ropeScaleLinear: "rope.scale_linear",
  ropeOrigContext: "rope.scaling.original_context_length",
  ropeLowFreqFactor: "rope.scaling.low_freq_factor",
  ropeHighFreqFactor: "rope.scaling.high_freq_factor",
  vocabSize: "vocab_size",
  poolingType: "pooling_type",
  classifierLabels: "classifier.output_labels",
  causal: "attention.causal",
  relBuckets: "attention.relative_buckets_count",
  decoderStart: "decoder_start_token_id",
  decoderLayers: "decoder_block_count",
} as const;

/** GGUF's `pooling_type` numbers (llama.cpp's enum llama_pooling_type; 4 "rank" needs a classifier head). */
export const GGUF_POOLING: Readonly<Record<number, "none" | "mean" | "cls" | "last">> = { 0: "none", 1: "mean", 2: "cls", 3: "last" };

/** Whole-model tensors. */
export const GGUF_TENSORS = {
  tokenEmbd: "token_embd.weight",
  posEmbd: "position_embd.weight",
  outputNorm: "output_norm.weight",
  outputNormBias: "output_norm.bias",
  output: "output.weight",
  ropeFreqs: "rope_freqs.weight",
  /** Encoders: the token-type table and the LayerNorm on the summed embeddings. */
  tokenTypes: "token_types.weight",
  embedNorm: "token_embd_norm.weight",
  embedNormBias: "token_embd_norm.bias",
  /** Rerankers' classifier head (pooling "rank"): an optional tanh layer, then the output layer. */
  cls: "cls.weight",
  clsBias: "cls.bias",
  clsOut: "cls.output.weight",
  clsOutBias: "cls.output.bias",
} as const;

/** Tensors of block i (which of them a model has depends on its architecture and, for some, on the file). */
export function ggufLayerTensors(i: number) {
  const b = `blk.${i}.`;
  return {
    attnNorm: `${b}attn_norm.weight`,
    attnNormBias: `${b}attn_norm.bias`,
    wq: `${b}attn_q.weight`,
    wk: `${b}attn_k.weight`,
    wv: `${b}attn_v.weight`,
    bq: `${b}attn_q.bias`,
    bk: `${b}attn_k.bias`,
    bv: `${b}attn_v.bias`,
    /** Fused q/k/v: rows Q (nHeads·headDim), then K (kvDim), then V (kvDim). */
    wqkv: `${b}attn_qkv.weight`,
    bqkv: `${b}attn_qkv.bias`,
    qNorm: `${b}attn_q_norm.weight`,
    kNorm: `${b}attn_k_norm.weight`,
    wo: `${b}attn_output.weight`,
    bo: `${b}attn_output.bias`,
    postAttnNorm: `${b}post_attention_norm.weight`,
    postAttnNormBias: `${b}post_attention_norm.bias`,
    ffnNorm: `${b}ffn_norm.weight`,
    ffnNormBias: `${b}ffn_norm.bias`,
    wGate: `${b}ffn_gate.weight`,
    /** Up projection; with a fused gate (Phi-3) its rows are the gate's, then the up's. */
    wUp: `${b}ffn_up.weight`,
    bUp: `${b}ffn_up.bias`,
    wDown: `${b}ffn_down.weight`,
    bDown: `${b}ffn_down.bias`,
    postFfnNorm: `${b}post_ffw_norm.weight`,
    postFfnNormBias: `${b}post_ffw_norm.bias`,
    /** Encoders' norms after the residual adds (BERT's attention output and layer output norms). */
    attnOutNorm: `${b}attn_output_norm.weight`,
    attnOutNormBias: `${b}attn_output_norm.bias`,
    layerOutNorm: `${b}layer_output_norm.weight`,
    layerOutNormBias: `${b}layer_output_norm.bias`,
  } as const;
}

/** T5's whole-model tensors besides token_embd and output (the decoder's final norm is the model's). */
export const GGUF_T5_TENSORS = {
  encoderNorm: "enc.output_norm.weight",
  decoderNorm: "dec.output_norm.weight",
} as const;

/**
 * Block i of a T5 stack ("enc" or "dec"), named as ggufLayerTensors' keys where the meaning is the same, plus
 * the relative-position bias table and, in the decoder, the cross-attention's norm and projections.
 */
export function ggufT5LayerTensors(stack: "enc" | "dec", i: number) {
  const b = `${stack}.blk.${i}.`;
  return {
    attnNorm: `${b}attn_norm.weight`,
    wq: `${b}attn_q.weight`,
    wk: `${b}attn_k.weight`,
    wv: `${b}attn_v.weight`,
    wo: `${b}attn_o.weight`,
    /** (relBuckets, nHeads): in block 0 always; a later block that lacks its own uses block 0's. */
    relBias: `${b}attn_rel_b.weight`,
    crossNorm: `${b}cross_attn_norm.weight`,
    crossQ: `${b}cross_attn_q.weight`,
    crossK: `${b}cross_attn_k.weight`,
    crossV: `${b}cross_attn_v.weight`,
    crossO: `${b}cross_attn_o.weight`,
    /** Written by some converters, never read by llama.cpp's graph (T5's cross-attention has no position bias). */
    crossRelBias: `${b}cross_attn_rel_b.weight`,
    ffnNorm: `${b}ffn_norm.weight`,
    wGate: `${b}ffn_gate.weight`,
    wUp: `${b}ffn_up.weight`,
    wDown: `${b}ffn_down.weight`,
  } as const;
}
