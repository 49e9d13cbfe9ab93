/**
 * Stage 2c, a T5 decoder block's cross-attention: out = Wo · attention(q, K, V), q projected from the block's
 * normed stream, K and V the encoded input's (kv-cache.ts CrossKv, filled once per input by encode.ts). Every
 * decoder token sees every encoder position; no position bias, no scale (T5), and the standard attention path
 * with F32 keys and values, as llama.cpp computes its cross-attention with flash attention off.
 */

import { PeelError } from "../util/errors.js";
import type { KvCache } from "./kv-cache.js";
import { applyNorm } from "./norm.js";
import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Transformer } from "./transformer.js";

/** out (nTokens, dim) ← the cross-attention of decoder layer `layer` applied to x. */
export function crossAttentionBlock(m: Transformer, s: RunState, cache: KvCache, layer: number, startPos: number, nTokens: number,
  trace: Trace | undefined, out: Float32Array): void {
  const { config: c, kernels: k } = m;
  const w = m.weights.layers[layer]!.cross!;
  const cross = cache.cross;
  if (cross === undefined || cross.length === 0) {
    throw new PeelError("INVALID_ARGUMENT", `model: "${c.architecture}" is an encoder–decoder: encode an input (session.encode) before decoding`);
  }
  const kv = cross.layers[layer]!;
  applyNorm(m, s.xb, s.x, w.norm, nTokens, c.dim);
  if (trace?.wants("cross_norm")) trace.record("cross_norm", layer, startPos, [nTokens, c.dim], s.xb);
  k.matmul(s.q, w.wq, s.xb, nTokens); // (nTokens, nHeads·headDim)
  const shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim, scale: c.attnScale, causal: false, keys: cross.length };
  if (trace?.wants("cross_weights")) {
    const probs = new Float32Array(nTokens * c.nHeads * cross.length);
    k.attention(s.att, s.q, kv.k, kv.v, startPos, nTokens, shape, s.scores, probs);
    trace.record("cross_weights", layer, startPos, [nTokens, c.nHeads, cross.length], probs);
  } else {
    k.attention(s.att, s.q, kv.k, kv.v, startPos, nTokens, shape, s.scores);
  }
  k.matmul(out, w.wo, s.att, nTokens); // (nTokens, dim)
  if (trace?.wants("cross_out")) trace.record("cross_out", layer, startPos, [nTokens, c.dim], out);
}
