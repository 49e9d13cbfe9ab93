/**
 * What a trainable model looks like: the architecture choices the seeds compare (norm, positions,
 * activation, attention heads, tied head) as one typed record, with two presets and one validator.
 * Training builds its parameters and its batched forward from this record only.
 */

import { PeelError } from "../../util/errors.js";
import type { ActivationKind as BlockActivationKind, NormKind, PositionKind } from "../../model/config.js";

// the same words inference's config uses (model/config.ts), so a trained mix runs and exports as it was built
export type { NormKind, PositionKind };
/** The activations training implements (inference also runs GeGLU). */
export type ActivationKind = Exclude<BlockActivationKind, "geglu">;

export const NORM_KINDS: readonly NormKind[] = ["layer", "rms"];
export const POSITION_KINDS: readonly PositionKind[] = ["learned", "sinusoidal", "rope"];
export const ACTIVATION_KINDS: readonly ActivationKind[] = ["relu", "gelu", "swiglu"];

export interface TrainModelConfig {
  readonly vocabSize: number;
  readonly dim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  /** Key/value heads: nHeads is multi-head, 1 is multi-query, anything between (dividing nHeads) is grouped. */
  readonly nKvHeads: number;
  /** Width of the feed-forward layer. */
  readonly hiddenDim: number;
  /** Longest window trained on; learned position tables have this many rows. */
  readonly contextLength: number;
  readonly norm: NormKind;
  readonly position: PositionKind;
  readonly activation: ActivationKind;
  /** The LM head reuses the token embedding matrix. */
  readonly tiedOutput: boolean;
  readonly normEps: number;
  /** RoPE frequency base (position "rope" only). */
  readonly ropeTheta: number;
}

export type PresetName = "llama" | "gpt2";
export const PRESET_NAMES: readonly PresetName[] = ["llama", "gpt2"];

type ArchChoices = Pick<TrainModelConfig, "norm" | "position" | "activation" | "tiedOutput" | "normEps" | "ropeTheta">;

/** Llama-style: RMSNorm, RoPE (adjacent pairs, as GGUF `llama` expects), SwiGLU. GPT-2-style: LayerNorm, learned positions, GELU. */
export const PRESETS: Readonly<Record<PresetName, ArchChoices>> = {
  llama: { norm: "rms", position: "rope", activation: "swiglu", tiedOutput: true, normEps: 1e-5, ropeTheta: 10000 },
  gpt2: { norm: "layer", position: "learned", activation: "gelu", tiedOutput: true, normEps: 1e-5, ropeTheta: 10000 },
};

export const headDimOf = (c: TrainModelConfig): number => c.dim / c.nHeads;
export const kvDimOf = (c: TrainModelConfig): number => (c.dim / c.nHeads) * c.nKvHeads;

const LIMITS = {
  vocabSize: [2, 1 << 20],
  dim: [2, 1 << 14],
  nLayers: [1, 256],
  nHeads: [1, 1024],
  nKvHeads: [1, 1024],
  hiddenDim: [1, 1 << 16],
  contextLength: [1, 1 << 16],
} as const;

/** Throws INVALID_ARGUMENT naming the first field that is out of range or inconsistent. */
export function validateTrainModelConfig(c: TrainModelConfig): void {
  for (const [key, [lo, hi]] of Object.entries(LIMITS) as [keyof typeof LIMITS, readonly [number, number]][]) {
    const v = c[key];
    if (!Number.isInteger(v) || v < lo || v > hi) throw bad(`${key} must be an integer in ${lo}..${hi}, got ${v}`);
  }
  if (c.dim % c.nHeads !== 0) throw bad(`dim (${c.dim}) must be a multiple of nHeads (${c.nHeads})`);
  if (c.nKvHeads > c.nHeads || c.nHeads % c.nKvHeads !== 0) throw bad(`nKvHeads (${c.nKvHeads}) must divide nHeads (${c.nHeads})`);
  if (c.position === "rope" && headDimOf(c) % 2 !== 0) throw bad(`RoPE needs an even head size, got ${headDimOf(c)}`);
  if (c.position === "sinusoidal" && c.dim % 2 !== 0) throw bad(`sinusoidal positions need an even dim, got ${c.dim}`);
  if (!NORM_KINDS.includes(c.norm)) throw bad(`norm must be one of ${NORM_KINDS.join("|")}, got ${String(c.norm)}`);
  if (!POSITION_KINDS.includes(c.position)) throw bad(`position must be one of ${POSITION_KINDS.join("|")}, got ${String(c.position)}`);
  if (!ACTIVATION_KINDS.includes(c.activation)) throw bad(`activation must be one of ${ACTIVATION_KINDS.join("|")}, got ${String(c.activation)}`);
  if (!(c.normEps > 0 && c.normEps < 1)) throw bad(`normEps must be in (0, 1), got ${c.normEps}`);
  if (!(c.ropeTheta > 1 && Number.isFinite(c.ropeTheta))) throw bad(`ropeTheta must be a finite number > 1, got ${c.ropeTheta}`);
  if (typeof c.tiedOutput !== "boolean") throw bad(`tiedOutput must be a boolean`);
}

function bad(msg: string): PeelError {
  return new PeelError("INVALID_ARGUMENT", `model config: ${msg}`);
}
