/** Stage 1: token ids → rows of the embedding table, written into the residual stream x (nTokens, dim). */

import type { RunState } from "./run-state.js";
import type { Transformer } from "./transformer.js";

export function embedTokens(m: Transformer, s: RunState, nTokens: number): void {
  m.kernels.embedRows(s.x, m.weights.tokenEmbd, s.ids, nTokens);
}
