/**
 * GPT-NeoX as llama.cpp loads it (Pythia, the interpretability community's reference models): LayerNorm
 * with shifts, a bias on every projection, fused q/k/v (rows Q, K, V: llama.cpp's converter de-interleaves
 * HF's per-head packing), NeoX rotary over the first rope.dimension_count dims of each head (Pythia: a
 * quarter), GELU, and a parallel residual (x + attn(LN₁ x) + ffn(LN₂ x)) when the required
 * `use_parallel_residual` key says so. Data only.
 */

import { GGUF_KEYS } from "./gguf-names.js";
import type { ArchitectureTable } from "./table.js";

export const GPTNEOX: ArchitectureTable = {
  name: "gptneox",
  models: "Pythia, GPT-NeoX-20B",
  norm: "layer",
  normEps: { key: GGUF_KEYS.layerNormEps, default: undefined },
  position: "rope",
  ropeStyle: "neox",
  activation: "gelu",
  qkv: "fused",
  gateUp: "split",
  biases: { qkv: "required", attnOut: "required", ffn: "required", norms: "required" },
  qkNorm: false,
  postNorms: false,
  parallelResidual: { key: GGUF_KEYS.parallelResidual },
  embedScale: "none",
  attnScale: { at: "scores" },
  softcap: undefined,
  slidingWindow: undefined,
  tiedOutput: "file",
};
