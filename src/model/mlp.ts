/**
 * Stage 2b, the feed-forward of one block, x += ffn(norm(x)):
 * Llama: SwiGLU, Wdown · (silu(Wgate·n) ⊙ Wup·n), n = RMSNorm(x);
 * GPT-2: Wdown · gelu(Wup·n + bUp) + bDown, n = LayerNorm(x), with GELU rounded through f16 as llama.cpp does.
 */

import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Gpt2Transformer, LlamaTransformer, Transformer } from "./transformer.js";

/** s.proj ← Llama's SwiGLU feed-forward of RMSNorm(x). */
function swigluFfn(m: LlamaTransformer, s: RunState, layer: number, startPos: number, nTokens: number, trace: Trace | undefined): void {
  const { config: c, kernels: k } = m;
  const w = m.weights.layers[layer]!;
  k.rmsNorm(s.xb, s.x, w.ffnNorm, c.normEps, nTokens, c.dim);
  if (trace?.wants("ffn_norm")) trace.record("ffn_norm", layer, startPos, [nTokens, c.dim], s.xb);
  k.matmulShared([s.gate, s.up], [w.wGate, w.wUp], s.xb, nTokens); // both (nTokens, hiddenDim)
  k.swiglu(s.hidden, s.gate, s.up, nTokens * c.hiddenDim);
  k.matmul(s.proj, w.wDown, s.hidden, nTokens); // (nTokens, dim)
}

/** s.proj ← GPT-2's GELU feed-forward of LayerNorm(x), biases included. */
function geluFfn(m: Gpt2Transformer, s: RunState, layer: number, startPos: number, nTokens: number, trace: Trace | undefined): void {
  const { config: c, kernels: k } = m;
  const w = m.weights.layers[layer]!;
  k.layerNorm(s.xb, s.x, w.ffnNorm, w.ffnNormBias, c.normEps, nTokens, c.dim);
  if (trace?.wants("ffn_norm")) trace.record("ffn_norm", layer, startPos, [nTokens, c.dim], s.xb);
  k.matmul(s.up, w.wUp, s.xb, nTokens); // (nTokens, hiddenDim)
  k.addBias(s.up, w.bUp, nTokens, c.hiddenDim);
  k.geluRounded(s.hidden, s.up, nTokens * c.hiddenDim);
  k.matmul(s.proj, w.wDown, s.hidden, nTokens); // (nTokens, dim)
  k.addBias(s.proj, w.bDown, nTokens, c.dim);
}

export function mlpBlock(m: Transformer, s: RunState, layer: number, startPos: number, nTokens: number, trace: Trace | undefined): void {
  if (m.family === "llama") swigluFfn(m, s, layer, startPos, nTokens, trace);
  else geluFfn(m, s, layer, startPos, nTokens, trace);
  const dim = m.config.dim;
  if (trace?.wants("ffn_out")) trace.record("ffn_out", layer, startPos, [nTokens, dim], s.proj);
  m.kernels.addInPlace(s.x, s.proj, nTokens * dim);
}
