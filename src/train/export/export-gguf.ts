/**
 * Which GGUF architecture a trained model exports to, and the export itself: Llama-style models (RMSNorm,
 * RoPE, SwiGLU) as `llama` (gguf.ts), GPT-2-style ones (LayerNorm, learned or sinusoidal positions, GELU) as `gpt2`
 * (gguf-gpt2.ts). Other mixes of the architecture choices have no GGUF architecture that llama.cpp runs.
 */

import type { GgufWriteSpec } from "../../formats/gguf/write.js";
import type { TrainedBpe } from "../../tokenizer/train/train-bpe.js";
import { PeelError } from "../../util/errors.js";
import type { TrainModelConfig } from "../model/config.js";
import type { ModelParams } from "../model/params.js";
import { exportLlamaGguf, isLlamaStyle, type GgufExportOptions } from "./gguf.js";
import { exportGpt2Gguf, isGpt2Style } from "./gguf-gpt2.js";

export type GgufArchitecture = "llama" | "gpt2";

/** The GGUF architecture of `c`; UNSUPPORTED, naming what differs, when there is none. */
export function ggufArchitectureOf(c: TrainModelConfig): GgufArchitecture {
  if (isLlamaStyle(c)) return "llama";
  if (isGpt2Style(c)) return "gpt2";
  throw new PeelError("UNSUPPORTED", `GGUF export: a model with ${c.norm} norm, ${c.position} positions and ${c.activation} has no GGUF architecture ` +
    `that llama.cpp and Peel run; the exportable mixes are the presets' own: rms + rope + swiglu (llama) and layer + learned (or sinusoidal) + gelu (gpt2). ` +
    `The run's safetensors checkpoint keeps the model.`);
}

/** The GGUF file (a spec for writeGguf) of a trained model with its tokenizer, in its architecture. */
export function exportGguf(params: ModelParams, tokenizer: TrainedBpe, opts: GgufExportOptions): GgufWriteSpec {
  return ggufArchitectureOf(params.config) === "llama" ? exportLlamaGguf(params, tokenizer, opts) : exportGpt2Gguf(params, tokenizer, opts);
}
