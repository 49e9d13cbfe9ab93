/**
 * The Llama graph's architectures as llama.cpp loads them: RMSNorm, rotary positions, SwiGLU, no biases
 * except those a file carries (llama.cpp's create_tensor_qkv takes q/k/v biases wherever they are, and its
 * `llama` loader output and feed-forward biases too). Qwen 2 and Qwen 3 pair rotary dims NeoX-style; Qwen 3
 * adds per-head q/k norms. Llama's metadata keys and tensor names, named for the GGUF exporter of trained
 * models (train/export/gguf.ts). Data only.
 */

import { GGUF_KEYS, GGUF_TENSORS, ggufLayerTensors } from "./gguf-names.js";
import type { ArchitectureTable } from "./table.js";

export const LLAMA: ArchitectureTable = {
  name: "llama",
  models: "Llama 1-3.2, TinyLlama, SmolLM 1/2, Mistral 7B (llama.cpp runs its window as full attention)",
  norm: "rms",
  normEps: { key: GGUF_KEYS.rmsNormEps, default: 1e-5 },
  position: "rope",
  ropeStyle: "normal",
  activation: "swiglu",
  qkv: "either",
  gateUp: "split",
  biases: { qkv: "optional", attnOut: "optional", ffn: "optional", norms: "none" },
  qkNorm: false,
  postNorms: false,
  parallelResidual: false,
  embedScale: "none",
  attnScale: { at: "scores" },
  softcap: undefined,
  slidingWindow: undefined,
  tiedOutput: "file",
};

export const QWEN2: ArchitectureTable = {
  ...LLAMA,
  name: "qwen2",
  models: "Qwen 1.5, Qwen 2, Qwen 2.5 (q/k/v biases in every checkpoint)",
  ropeStyle: "neox",
  biases: { qkv: "optional", attnOut: "none", ffn: "none", norms: "none" },
};

export const QWEN3: ArchitectureTable = {
  ...QWEN2,
  name: "qwen3",
  models: "Qwen 3 dense models",
  qkNorm: true,
};

/** Llama's keys with its epsilon key as `normEps` (what the exporter writes). */
export const LLAMA_KEYS = { ...GGUF_KEYS, normEps: GGUF_KEYS.rmsNormEps } as const;
export const LLAMA_TENSORS = GGUF_TENSORS;
export const llamaLayerTensors = ggufLayerTensors;
