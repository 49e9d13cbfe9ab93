/**
 * nomic-bert as llama.cpp loads it (LLM_ARCH_NOMIC_BERT: nomic-embed-text v1/v1.5): the BERT encoder with
 * rotary positions (NeoX halves, `nomic-bert.rope.freq_base`) instead of a position table, a SwiGLU
 * feed-forward without biases (ffn_gate, ffn_up, ffn_down), q/k/v usually fused, token-type row 0 and the
 * embedding LayerNorm, LayerNorms after each residual add. llama.cpp's graph ignores feed-forward biases for
 * this architecture, so a file that has them is refused rather than run differently. Data only.
 */

import { GGUF_KEYS } from "./gguf-names.js";
import type { ArchitectureTable } from "./table.js";

export const NOMIC_BERT: ArchitectureTable = {
  name: "nomic-bert",
  models: "nomic-embed-text v1, v1.5 (sentence embeddings)",
  norm: "layer",
  normEps: { key: GGUF_KEYS.layerNormEps, default: undefined },
  position: "rope",
  ropeStyle: "neox",
  activation: "swiglu",
  qkv: "either",
  gateUp: "split",
  biases: { qkv: "optional", attnOut: "optional", ffn: "none", norms: "required" },
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
