/**
 * Stage 1: token ids → rows of the embedding table, written into the residual stream x (nTokens, dim),
 * scaled where the model scales them (Gemma: √dim), plus the learned position rows where the model has them
 * (GPT-2: its only position signal; rotary models rotate q and k in attention instead). Encoders (BERT) add
 * token-type row 0 before the positions, as llama.cpp does, and LayerNorm the sum.
 */

import { applyNorm } from "./norm.js";
import type { RunState } from "./run-state.js";
import type { Transformer } from "./transformer.js";

export function embedTokens(m: Transformer, s: RunState, nTokens: number): void {
  const { config: c, kernels: k, weights: w } = m;
  k.embedRows(s.x, w.tokenEmbd, s.ids, nTokens);
  if (c.embedScale !== 1) k.scale(s.x, c.embedScale, nTokens * c.dim);
  if (w.tokenType0 !== undefined) k.addBias(s.x, w.tokenType0, nTokens, c.dim);
  if (w.posEmbd !== undefined) {
    k.embedRows(s.proj, w.posEmbd, s.positions, nTokens); // (nTokens, dim)
    k.addInPlace(s.x, s.proj, nTokens * c.dim);
  }
  if (w.embedNorm !== undefined) applyNorm(m, s.x, s.x, w.embedNorm, nTokens, c.dim);
}
