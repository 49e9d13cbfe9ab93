/**
 * GPT-2 as llama.cpp loads it (LLM_ARCH_GPT2): LayerNorm with a shift on every norm and a bias on every
 * projection, all required (a model trained without them is written with zeros); learned positions
 * (context_length rows added to the token embeddings); one fused q/k/v matrix (rows Q, K, V); GELU;
 * `output.weight` optional (absent: tied to the embedding). Data only.
 */

import { GGUF_KEYS, GGUF_TENSORS, ggufLayerTensors } from "./gguf-names.js";
import type { ArchitectureTable } from "./table.js";

export const GPT2: ArchitectureTable = {
  name: "gpt2",
  models: "GPT-2 and models trained by `peel train --preset gpt2`",
  norm: "layer",
  normEps: { key: GGUF_KEYS.layerNormEps, default: undefined },
  position: "learned",
  ropeStyle: "normal",
  activation: "gelu",
  qkv: "fused",
  gateUp: "split",
  biases: { qkv: "required", attnOut: "required", ffn: "required", norms: "required" },
  qkNorm: false,
  postNorms: false,
  parallelResidual: false,
  embedScale: "none",
  attnScale: { at: "scores" },
  softcap: undefined,
  slidingWindow: undefined,
  tiedOutput: "file",
};

/** GPT-2's keys with its epsilon key as `normEps` (what the exporter writes). */
export const GPT2_KEYS = { ...GGUF_KEYS, normEps: GGUF_KEYS.layerNormEps } as const;
export const GPT2_TENSORS = GGUF_TENSORS;
export const gpt2LayerTensors = ggufLayerTensors;
