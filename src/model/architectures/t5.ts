/**
 * T5 as llama.cpp loads it (LLM_ARCH_T5: T5, T5 v1.1, Flan-T5, mT5): an encoder–decoder. RMS-style norms
 * (T5's LayerNorm subtracts no mean and has no shift) before each sub-block; no position embeddings, a
 * learned per-head bias by relative-position bucket on every self-attention score instead, and no 1/√headDim
 * on the scores; a ReLU feed-forward, or GeGLU where the file has gate tensors (T5 v1.1, Flan-T5); the
 * decoder's blocks add cross-attention over the encoder's output. The head is `output.weight` or, without
 * it, the token embeddings as they are (llama.cpp applies no d_model^-0.5 there). Data only; the tensor
 * names are gguf-names.ts's T5 names.
 */

import { GGUF_KEYS } from "./gguf-names.js";
import type { ArchitectureTable } from "./table.js";

export const T5: ArchitectureTable = {
  name: "t5",
  models: "T5, T5 v1.1, Flan-T5 (encoder–decoder)",
  norm: "rms",
  normEps: { key: GGUF_KEYS.rmsNormEps, default: undefined },
  position: "relative",
  ropeStyle: "normal",
  activation: "relu",
  qkv: "split",
  gateUp: "split",
  biases: { qkv: "none", attnOut: "none", ffn: "none", norms: "none" },
  qkNorm: false,
  postNorms: false,
  parallelResidual: false,
  embedScale: "none",
  attnScale: { at: "scores", unscaled: true },
  softcap: undefined,
  slidingWindow: undefined,
  tiedOutput: "file",
  seq2seq: { gatedActivation: "geglu" },
};
