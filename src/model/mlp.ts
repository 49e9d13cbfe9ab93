/**
 * Stage 2b, the feed-forward of one block, out = ffn(norm(x)) (the block adds it to the residual stream):
 * gated (SwiGLU: silu, GeGLU: tanh GELU) Wdown · (act(Wgate·n) ⊙ Wup·n), or ungated Wdown · act(Wup·n) (GELU, ReLU),
 * with biases and a post-norm where the config has them. GELU goes through f16 as llama.cpp's CPU backend
 * computes it (the same table for GELU and GeGLU).
 */

import { scaleMlp, type Intervention } from "./intervention.js";
import { applyNorm } from "./norm.js";
import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Transformer } from "./transformer.js";

/** s.proj (nTokens, dim) ← the feed-forward of layer `layer` applied to x. */
export function mlpBlock(m: Transformer, s: RunState, layer: number, startPos: number, nTokens: number, trace: Trace | undefined,
  iv?: Intervention): void {
  const { config: c, kernels: k } = m;
  const w = m.weights.layers[layer]!;
  const n = nTokens * c.hiddenDim;
  const x = c.encoder !== undefined ? s.x : s.xb; // an encoder's norm comes after the residual add (block.ts)
  if (c.encoder === undefined) applyNorm(m, s.xb, s.x, w.ffnNorm, nTokens, c.dim);
  if (trace?.wants("ffn_norm")) trace.record("ffn_norm", layer, startPos, [nTokens, c.dim], x);
  if (w.wGate !== undefined) k.matmulShared([s.gate, s.up], [w.wGate, w.wUp], x, nTokens); // both (nTokens, hiddenDim)
  else k.matmul(s.up, w.wUp, x, nTokens);
  if (w.bUp !== undefined) k.addBias(s.up, w.bUp, nTokens, c.hiddenDim);
  switch (c.activation) {
    case "swiglu": k.swiglu(s.hidden, s.gate, s.up, n); break;
    case "geglu": k.geglu(s.hidden, s.gate, s.up, n); break;
    case "gelu": k.geluRounded(s.hidden, s.up, n); break;
    case "relu": k.relu(s.hidden, s.up, n); break; // T5
  }
  k.matmul(s.proj, w.wDown, s.hidden, nTokens); // (nTokens, dim)
  if (w.bDown !== undefined) k.addBias(s.proj, w.bDown, nTokens, c.dim);
  if (w.postFfnNorm !== undefined) applyNorm(m, s.proj, s.proj, w.postFfnNorm, nTokens, c.dim);
  if (iv?.mlp !== undefined) scaleMlp(m, iv, layer, nTokens, s.proj);
  if (trace?.wants("ffn_out")) trace.record("ffn_out", layer, startPos, [nTokens, c.dim], s.proj);
}
