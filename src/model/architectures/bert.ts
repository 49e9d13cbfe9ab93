/**
 * BERT as llama.cpp loads it (LLM_ARCH_BERT: BERT, MiniLM, BGE, E5, GTE sentence-embedding models): an
 * encoder. Learned absolute positions plus token-type row 0 on the token embeddings, a LayerNorm on their sum;
 * bidirectional attention with q/k/v (split or fused) and output biases; each sub-block's LayerNorm after its
 * residual add; GELU feed-forward with biases; no LM head: `bert.pooling_type` says how token vectors become
 * one (none without the key, as llama.cpp). Classifier heads (rerankers, pooling "rank") are not read yet.
 * Data only.
 */

import { GGUF_KEYS } from "./gguf-names.js";
import type { ArchitectureTable } from "./table.js";

export const BERT: ArchitectureTable = {
  name: "bert",
  models: "BERT, MiniLM, BGE, E5, GTE (sentence embeddings)",
  norm: "layer",
  normEps: { key: GGUF_KEYS.layerNormEps, default: undefined },
  position: "learned",
  ropeStyle: "normal",
  activation: "gelu",
  qkv: "either",
  gateUp: "split",
  biases: { qkv: "optional", attnOut: "optional", ffn: "optional", norms: "required" },
  qkNorm: false,
  postNorms: false,
  parallelResidual: false,
  embedScale: "none",
  attnScale: { at: "scores" },
  softcap: undefined,
  slidingWindow: undefined,
  tiedOutput: "file",
  encoder: { defaultPooling: "none" },
};
