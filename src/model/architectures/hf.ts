/**
 * Hugging Face checkpoints (config.json + safetensors) as llama.cpp's converter (convert_hf_to_gguf.py) maps
 * them onto GGUF: which `model_type` becomes which GGUF architecture, which config.json field becomes which
 * GGUF key, which HF tensor name becomes which GGUF name, and the two layout conventions that differ:
 * HF's Llama-family checkpoints rotate q/k in halves while GGUF `llama` rotates adjacent pairs (so q and k
 * rows are permuted per head), Gemma stores norm gains as w where the model multiplies by 1 + w (the
 * converter adds the 1), and GPT-NeoX packs q/k/v per head where GGUF packs all q, all k, all v. BERT
 * encoders (BertModel, BertForMaskedLM) keep their tensors under `bert.`-prefixed or bare `embeddings.*` /
 * `encoder.layer.*` names and carry tensors the converter drops (the pooler, the MLM and next-sentence heads,
 * the position_ids buffer). Data only; hf-to-gguf.ts applies it.
 */

import { GGUF_KEYS } from "./gguf-names.js";
import type { SpmFamilyRules } from "../../tokenizer/hf/spm-to-gguf.js";

export interface HfArchitecture {
  /** The GGUF architecture the checkpoint becomes (a key of GGUF_ARCHITECTURES). */
  readonly gguf: string;
  /** q/k rows reordered from HF's rotate-half layout to GGUF llama's adjacent pairs. */
  readonly permuteQk: boolean;
  /** Every `*norm.weight` gain gets + 1 (Gemma's `(1 + w)` norms). */
  readonly normOffset: boolean;
  /** HF layer tensor suffix → GGUF layer tensor suffix, for this family (the rest is in HF_LAYER_TENSORS). */
  readonly layerTensors: Readonly<Record<string, string>>;
  /** llama.cpp's pre-tokenizer name for the family's byte-level BPE tokenizer (`peel convert`); none: the family has none. */
  readonly bpePre?: string;
  /** Where layer tensors live (default "model.layers."; GPT-NeoX: "gpt_neox.layers."). */
  readonly layerPrefix?: string;
  /** Whole-model HF tensor → GGUF tensor (default HF_GLOBAL_TENSORS). */
  readonly globalTensors?: Readonly<Record<string, string>>;
  /** GPT-NeoX's fused q/k/v rows are per head [q, k, v]; GGUF's are [all q, all k, all v]. */
  readonly interleavedQkv?: boolean;
  /** Boolean config.json fields the converter always writes: [HF field, GGUF key, default]. */
  readonly boolKeys?: ReadonlyArray<readonly [hf: string, gguf: string, fallback: boolean]>;
  /** The family converts a SentencePiece tokenizer (tokenizer.model, or a tokenizer.json of that style), with these quirks. */
  readonly spm?: SpmFamilyRules;
  /** A prefix some checkpoints put before every tensor name (BertForMaskedLM's "bert."), removed first. */
  readonly namePrefix?: string;
  /** Norms saved under TensorFlow's names (`.gamma`, `.beta`) are read as `.weight`, `.bias` (old BERT ports). */
  readonly gammaBeta?: boolean;
  /** The family's own tensors the converter drops (matched after namePrefix is removed). */
  readonly ignoredTensors?: RegExp;
  /** config.json fields this family needs beyond HF_REQUIRED_KEYS. */
  readonly requiredKeys?: readonly string[];
  /** config.json `hidden_act` values the GGUF architecture computes (absent: the family's default, the first). */
  readonly hiddenAct?: readonly string[];
  /** The config.json field hiddenAct checks, when not `hidden_act` (T5: `feed_forward_proj`). */
  readonly hiddenActKey?: string;
  /** An encoder: the converter writes `attention.causal` false and the sentence-transformers pooling. */
  readonly encoder?: EncoderRules;
  /**
   * Families whose layers live in several stacks (T5's `encoder.block.{i}.` and `decoder.block.{i}.`), each
   * with its own GGUF prefix (`enc.blk.{i}.`) and its own suffix table; replaces layerPrefix and layerTensors.
   */
  readonly stacks?: ReadonlyArray<{ readonly hf: string; readonly gguf: string; readonly tensors: Readonly<Record<string, string>> }>;
  /** config.json fields → GGUF keys for families that name them their own way (replaces HF_CONFIG_KEYS and HF_REQUIRED_KEYS). */
  readonly configKeys?: { readonly map: ReadonlyArray<readonly [hf: string, gguf: string]>; readonly required: readonly string[] };
}

export interface EncoderRules {
  /** The config.json field with the token-type table's row count (written as tokenizer.ggml.token_type_count). */
  readonly tokenTypesKey: string;
  /** The GGUF tensor holding those rows. */
  readonly tokenTypesTensor: string;
}

/** Layer tensors named alike in every family here (after `model.layers.{i}.` / before `blk.{i}.`). */
export const HF_LAYER_TENSORS: Readonly<Record<string, string>> = {
  "input_layernorm.weight": "attn_norm.weight",
  "self_attn.q_proj.weight": "attn_q.weight",
  "self_attn.k_proj.weight": "attn_k.weight",
  "self_attn.v_proj.weight": "attn_v.weight",
  "self_attn.q_proj.bias": "attn_q.bias",
  "self_attn.k_proj.bias": "attn_k.bias",
  "self_attn.v_proj.bias": "attn_v.bias",
  "self_attn.o_proj.weight": "attn_output.weight",
  "self_attn.o_proj.bias": "attn_output.bias",
  "self_attn.q_norm.weight": "attn_q_norm.weight",
  "self_attn.k_norm.weight": "attn_k_norm.weight",
  "mlp.gate_proj.weight": "ffn_gate.weight",
  "mlp.up_proj.weight": "ffn_up.weight",
  "mlp.down_proj.weight": "ffn_down.weight",
  "mlp.up_proj.bias": "ffn_up.bias",
  "mlp.down_proj.bias": "ffn_down.bias",
};

export const HF_GLOBAL_TENSORS: Readonly<Record<string, string>> = {
  "model.embed_tokens.weight": "token_embd.weight",
  "model.norm.weight": "output_norm.weight",
  "lm_head.weight": "output.weight",
};

/** HF tensors the converter drops: precomputed rotary tables and GPT-NeoX's stored causal masks. */
export const HF_IGNORED_TENSOR = /(^|\.)(rotary_emb\.inv_freq|attention\.masked_bias|attention\.bias)$/;

const sequentialNorms = { "post_attention_layernorm.weight": "ffn_norm.weight" };
const gemma2Norms = {
  "post_attention_layernorm.weight": "post_attention_norm.weight",
  "pre_feedforward_layernorm.weight": "ffn_norm.weight",
  "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
};

// Llama 2 / Mistral v0.1 / TinyLlama have SentencePiece tokenizers, Llama 3 a byte-level one
const llamaLike: HfArchitecture = { gguf: "llama", permuteQk: true, normOffset: false, layerTensors: sequentialNorms, bpePre: "llama-bpe", spm: {} };
// the converter turns off the space prefix for every Gemma; Gemma 1's also names <end_of_turn> (107) end-of-turn
const gemmaSpm = { addSpacePrefix: false } as const;
const neoxLike = (gguf: string): HfArchitecture => ({ gguf, permuteQk: false, normOffset: false, layerTensors: sequentialNorms, bpePre: "qwen2" });

/** BERT's names (modeling_bert.py) → GGUF bert's, each with a weight and a bias. */
const bertPairs = (pairs: ReadonlyArray<readonly [string, string]>): Record<string, string> =>
  Object.fromEntries(pairs.flatMap(([hf, gguf]) => [[`${hf}.weight`, `${gguf}.weight`], [`${hf}.bias`, `${gguf}.bias`]]));

const bert: HfArchitecture = {
  gguf: "bert", permuteQk: false, normOffset: false,
  namePrefix: "bert.",
  gammaBeta: true,
  layerPrefix: "encoder.layer.",
  globalTensors: {
    "embeddings.word_embeddings.weight": "token_embd.weight",
    "embeddings.position_embeddings.weight": "position_embd.weight",
    "embeddings.token_type_embeddings.weight": "token_types.weight",
    "embeddings.LayerNorm.weight": "token_embd_norm.weight",
    "embeddings.LayerNorm.bias": "token_embd_norm.bias",
  },
  layerTensors: bertPairs([
    ["attention.self.query", "attn_q"], ["attention.self.key", "attn_k"], ["attention.self.value", "attn_v"],
    ["attention.output.dense", "attn_output"], ["attention.output.LayerNorm", "attn_output_norm"],
    ["intermediate.dense", "ffn_up"], ["output.dense", "ffn_down"], ["output.LayerNorm", "layer_output_norm"],
  ]),
  // the converter keeps BERT for embeddings only: the pooler's dense layer and the pre-training heads go
  ignoredTensors: /^(embeddings\.position_ids|pooler\.dense\.(weight|bias)|cls\.(predictions|seq_relationship)\..+)$/,
  requiredKeys: ["type_vocab_size", "layer_norm_eps"],
  hiddenAct: ["gelu"], // llama.cpp's bert graph has GELU only
  encoder: { tokenTypesKey: "type_vocab_size", tokenTypesTensor: "token_types.weight" },
};

/** T5's sub-layer names (modeling_t5.py) → GGUF t5's, for one stack; the decoder's layer 1 is cross-attention. */
function t5Stack(decoder: boolean): Record<string, string> {
  const ffn = decoder ? "layer.2." : "layer.1.";
  const attn = (hf: string, gguf: string) => Object.fromEntries(["q", "k", "v", "o"].map((p) => [`${hf}.${p}.weight`, `${gguf}_${p}.weight`]));
  return {
    "layer.0.layer_norm.weight": "attn_norm.weight",
    ...attn("layer.0.SelfAttention", "attn"),
    "layer.0.SelfAttention.relative_attention_bias.weight": "attn_rel_b.weight",
    ...(decoder ? {
      "layer.1.layer_norm.weight": "cross_attn_norm.weight",
      ...attn("layer.1.EncDecAttention", "cross_attn"),
      "layer.1.EncDecAttention.relative_attention_bias.weight": "cross_attn_rel_b.weight",
    } : {}),
    [`${ffn}layer_norm.weight`]: "ffn_norm.weight",
    [`${ffn}DenseReluDense.wi.weight`]: "ffn_up.weight", // T5: ReLU
    [`${ffn}DenseReluDense.wi_0.weight`]: "ffn_gate.weight", // T5 v1.1 / Flan-T5: gelu(wi_0 x) · wi_1 x
    [`${ffn}DenseReluDense.wi_1.weight`]: "ffn_up.weight",
    [`${ffn}DenseReluDense.wo.weight`]: "ffn_down.weight",
  };
}

/**
 * T5ForConditionalGeneration (T5, T5 v1.1, Flan-T5) as the converter maps it: the shared embeddings under
 * whichever of its three names the checkpoint saved, two stacks of blocks, T5's own config.json names.
 */
const t5: HfArchitecture = {
  gguf: "t5", permuteQk: false, normOffset: false, layerTensors: {},
  // llama.cpp's t5 graph: ReLU without gate tensors, tanh GELU with them (mT5/UMT5's "gated-gelu" too)
  hiddenAct: ["relu", "gated-gelu"], hiddenActKey: "feed_forward_proj",
  globalTensors: {
    "shared.weight": "token_embd.weight",
    "encoder.embed_tokens.weight": "token_embd.weight",
    "decoder.embed_tokens.weight": "token_embd.weight",
    "encoder.final_layer_norm.weight": "enc.output_norm.weight",
    "decoder.final_layer_norm.weight": "dec.output_norm.weight",
    "lm_head.weight": "output.weight",
  },
  stacks: [
    { hf: "encoder.block.", gguf: "enc.blk.", tensors: t5Stack(false) },
    { hf: "decoder.block.", gguf: "dec.blk.", tensors: t5Stack(true) },
  ],
  configKeys: {
    map: [
      ["n_positions", GGUF_KEYS.contextLength],
      ["d_model", GGUF_KEYS.dim],
      ["d_ff", GGUF_KEYS.hiddenDim],
      ["num_layers", GGUF_KEYS.nLayers],
      ["num_decoder_layers", GGUF_KEYS.decoderLayers],
      ["num_heads", GGUF_KEYS.nHeads],
      ["d_kv", GGUF_KEYS.keyLength],
      ["d_kv", GGUF_KEYS.valueLength],
      ["layer_norm_epsilon", GGUF_KEYS.rmsNormEps],
      ["relative_attention_num_buckets", GGUF_KEYS.relBuckets],
      ["decoder_start_token_id", GGUF_KEYS.decoderStart],
      ["vocab_size", GGUF_KEYS.vocabSize],
    ],
    required: ["d_model", "d_ff", "num_layers", "num_heads", "d_kv", "relative_attention_num_buckets", "layer_norm_epsilon", "decoder_start_token_id"],
  },
};

/** config.json `model_type` → how the converter maps it. */
export const HF_ARCHITECTURES: Readonly<Record<string, HfArchitecture>> = {
  llama: llamaLike,
  mistral: llamaLike, // llama.cpp converts Mistral to `llama` and runs its window as full attention
  qwen2: neoxLike("qwen2"),
  qwen3: neoxLike("qwen3"),
  gemma: { gguf: "gemma", permuteQk: false, normOffset: true, layerTensors: sequentialNorms, spm: { ...gemmaSpm, fixedIds: { eot: 107 } } },
  gemma2: { gguf: "gemma2", permuteQk: false, normOffset: true, layerTensors: gemma2Norms, spm: gemmaSpm },
  gemma3_text: { gguf: "gemma3", permuteQk: false, normOffset: true, layerTensors: gemma2Norms, spm: gemmaSpm },
  phi3: {
    gguf: "phi3", permuteQk: false, normOffset: false, spm: { addedTokens: "phi3" },
    layerTensors: { ...sequentialNorms, "self_attn.qkv_proj.weight": "attn_qkv.weight", "mlp.gate_up_proj.weight": "ffn_up.weight" },
  },
  // Pythia: the GPT-NeoX-20B byte-level tokenizer, whose pre-tokenizer llama.cpp calls "mpt" (its default for that vocabulary)
  gpt_neox: {
    gguf: "gptneox", permuteQk: false, normOffset: false, bpePre: "mpt", interleavedQkv: true,
    layerPrefix: "gpt_neox.layers.",
    globalTensors: {
      "gpt_neox.embed_in.weight": "token_embd.weight",
      "gpt_neox.final_layer_norm.weight": "output_norm.weight",
      "gpt_neox.final_layer_norm.bias": "output_norm.bias",
      "embed_out.weight": "output.weight",
    },
    layerTensors: Object.fromEntries(([
      ["input_layernorm", "attn_norm"], ["post_attention_layernorm", "ffn_norm"], ["attention.query_key_value", "attn_qkv"],
      ["attention.dense", "attn_output"], ["mlp.dense_h_to_4h", "ffn_up"], ["mlp.dense_4h_to_h", "ffn_down"],
    ] as const).flatMap(([hf, gguf]) => [[`${hf}.weight`, `${gguf}.weight`], [`${hf}.bias`, `${gguf}.bias`]])),
    boolKeys: [["use_parallel_residual", GGUF_KEYS.parallelResidual, true]],
  },
  bert,
  t5,
};

/** config.json numeric fields → GGUF keys (relative to `{arch}.`), as the converter writes them. */
export const HF_CONFIG_KEYS: ReadonlyArray<readonly [hf: string, gguf: string]> = [
  ["max_position_embeddings", GGUF_KEYS.contextLength],
  ["hidden_size", GGUF_KEYS.dim],
  ["num_hidden_layers", GGUF_KEYS.nLayers],
  ["intermediate_size", GGUF_KEYS.hiddenDim],
  ["num_attention_heads", GGUF_KEYS.nHeads],
  ["num_key_value_heads", GGUF_KEYS.nKvHeads],
  ["head_dim", GGUF_KEYS.keyLength],
  ["head_dim", GGUF_KEYS.valueLength],
  ["rms_norm_eps", GGUF_KEYS.rmsNormEps],
  ["rope_theta", GGUF_KEYS.ropeTheta],
  ["rotary_emb_base", GGUF_KEYS.ropeTheta], // GPT-NeoX's older name (the converter leaves it at llama.cpp's 10000; Pythia's is 10000)
  ["rope_local_base_freq", GGUF_KEYS.ropeThetaLocal],
  ["attn_logit_softcapping", GGUF_KEYS.attnSoftcap],
  ["final_logit_softcapping", GGUF_KEYS.finalSoftcap],
  ["vocab_size", GGUF_KEYS.vocabSize],
];

/** The fields a config.json must have (the converter fails without them). */
export const HF_REQUIRED_KEYS: readonly string[] = ["hidden_size", "num_hidden_layers", "intermediate_size", "num_attention_heads", "max_position_embeddings"];
