/**
 * Stage 1: token ids → rows of the embedding table, written into the residual stream x (nTokens, dim).
 * GPT-2 adds the learned position rows (its only position signal: it has no RoPE).
 */

import type { RunState } from "./run-state.js";
import type { Transformer } from "./transformer.js";

export function embedTokens(m: Transformer, s: RunState, nTokens: number): void {
  const k = m.kernels;
  k.embedRows(s.x, m.weights.tokenEmbd, s.ids, nTokens);
  if (m.family === "gpt2") {
    k.embedRows(s.proj, m.weights.posEmbd, s.positions, nTokens); // (nTokens, dim)
    k.addInPlace(s.x, s.proj, nTokens * m.config.dim);
  }
}
