/**
 * Parameter counts per stage of the pipeline (embedding, attention, feed-forward, norms, head), read off the
 * model's tensor list by GGUF tensor name, for the inspector's architecture diagram. Counting only: it reads
 * no weights.
 */

import type { Model } from "../model/model.js";

export type ParameterStage = "embedding" | "positions" | "attention" | "feed-forward" | "norms" | "head" | "other";

export interface ParameterGroup {
  readonly stage: ParameterStage;
  /** Number of scalars. */
  readonly count: number;
  /** Bytes as stored (quantized tensors count their blocks). */
  readonly bytes: number;
  readonly tensors: number;
}

const STAGES: readonly ParameterStage[] = ["embedding", "positions", "attention", "feed-forward", "norms", "head", "other"];

/** Which stage a GGUF tensor name belongs to; norms first, since `attn_norm` is a norm and not attention. */
export function stageOfTensor(name: string): ParameterStage {
  const leaf = name.replace(/^(enc\.|dec\.)?blk\.\d+\./, "").replace(/\.(weight|bias)$/, "");
  if (leaf.endsWith("norm") || leaf.includes("_norm") || leaf === "output_norm" || leaf.endsWith("layernorm")) return "norms";
  if (name.startsWith("token_embd") || name.startsWith("token_types")) return "embedding";
  if (name.startsWith("position_embd")) return "positions";
  if (leaf.startsWith("attn_")) return "attention";
  if (leaf.startsWith("ffn_")) return "feed-forward";
  if (name.startsWith("output") || name.startsWith("cls")) return "head";
  return "other";
}

/** Groups in pipeline order; stages with no tensors are left out. */
export function parameterGroups(model: Model): ParameterGroup[] {
  const acc = new Map<ParameterStage, { count: number; bytes: number; tensors: number }>();
  for (const t of model.info.tensors) {
    const s = stageOfTensor(t.name);
    const g = acc.get(s) ?? { count: 0, bytes: 0, tensors: 0 };
    g.count += t.shape.reduce((a, b) => a * b, 1);
    g.bytes += t.bytes;
    g.tensors += 1;
    acc.set(s, g);
  }
  return STAGES.flatMap((stage) => {
    const g = acc.get(stage);
    return g === undefined ? [] : [{ stage, ...g }];
  });
}
