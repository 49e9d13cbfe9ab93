/** Stage 2b, the SwiGLU feed-forward of one block: x += Wdown · (silu(Wgate·n) ⊙ Wup·n), n = RMSNorm(x). */

import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Transformer } from "./transformer.js";

export function mlpBlock(m: Transformer, s: RunState, layer: number, startPos: number, nTokens: number, trace: Trace | undefined): void {
  const { config: c, kernels: k } = m;
  const w = m.weights.layers[layer]!;
  k.rmsNorm(s.xb, s.x, w.ffnNorm, c.normEps, nTokens, c.dim);
  if (trace?.wants("ffn_norm")) trace.record("ffn_norm", layer, startPos, [nTokens, c.dim], s.xb);
  k.matmul(s.gate, w.wGate, s.xb, nTokens); // (nTokens, hiddenDim)
  k.matmul(s.up, w.wUp, s.xb, nTokens); // (nTokens, hiddenDim)
  k.swiglu(s.hidden, s.gate, s.up, nTokens * c.hiddenDim);
  k.matmul(s.proj, w.wDown, s.hidden, nTokens); // (nTokens, dim)
  if (trace?.wants("ffn_out")) trace.record("ffn_out", layer, startPos, [nTokens, c.dim], s.proj);
  k.addInPlace(s.x, s.proj, nTokens * c.dim);
}
