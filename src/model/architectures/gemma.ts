/**
 * Gemma 1, 2 and 3 (text) as llama.cpp loads them. All: RMSNorm whose gains already include Gemma's `1 + w`
 * (llama.cpp's converter adds the 1 when it writes the GGUF, so the graph multiplies by the stored gain),
 * NeoX rotary, GeGLU (tanh GELU), embeddings × √dim, q scaled by 1/√headDim after RoPE (1/√(dim/nHeads) for
 * the 27B models, which llama.cpp tells apart by layer count). Gemma 1 and 2 always tie the head.
 * Gemma 2: post-attention and post-feed-forward norms, attention soft cap 50 and final soft cap 30 unless
 * the file says, sliding window 4096 on every even layer. Gemma 3: the post-norms, per-head q/k norms, no
 * attention soft cap, sliding window (when the file has one) on five layers of every six, which rotate with
 * base 10000 while global layers use the file's base and scaling. Data only.
 */

import { GGUF_KEYS } from "./gguf-names.js";
import type { ArchitectureTable } from "./table.js";

export const GEMMA: ArchitectureTable = {
  name: "gemma",
  models: "Gemma 1 (2B, 7B), CodeGemma",
  norm: "rms",
  normEps: { key: GGUF_KEYS.rmsNormEps, default: undefined },
  position: "rope",
  ropeStyle: "neox",
  activation: "geglu",
  qkv: "either",
  gateUp: "split",
  biases: { qkv: "optional", attnOut: "none", ffn: "none", norms: "none" },
  qkNorm: false,
  postNorms: false,
  parallelResidual: false,
  embedScale: "sqrtDim",
  attnScale: { at: "query" },
  softcap: undefined,
  slidingWindow: undefined,
  tiedOutput: "always",
};

export const GEMMA2: ArchitectureTable = {
  ...GEMMA,
  name: "gemma2",
  models: "Gemma 2 (2B, 9B, 27B)",
  postNorms: true,
  attnScale: { at: "query", largeLayers: 46 },
  softcap: { attn: 50, final: 30 },
  slidingWindow: { defaultWindow: 4096, defaultPattern: 2, localTheta: "global" },
};

export const GEMMA3: ArchitectureTable = {
  ...GEMMA2,
  name: "gemma3",
  models: "Gemma 3 text models (270M-27B)",
  qkNorm: true,
  attnScale: { at: "query", largeLayers: 62 },
  softcap: { attn: 0, final: 0 },
  slidingWindow: { defaultWindow: undefined, defaultPattern: 6, localTheta: 10000 },
  tiedOutput: "file",
};
