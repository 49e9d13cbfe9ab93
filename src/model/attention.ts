/**
 * Stage 2a, self-attention of one block: out = Wo · attention(q, k, v) (+ bo), with q, k, v projected from
 * n = norm(x), in llama.cpp's order: projection, bias, per-head q/k norm, RoPE, q scale. New keys and values
 * go into the KV cache first, so every token attends to earlier positions (and itself) through the cache:
 * all of them, or on a sliding-window layer the last `window`. Soft-capped scores, a relative-position bias
 * (T5) and a post-norm where the model has them; bidirectional in encoders.
 */

import type { FlashVariant } from "../kernels/kernels.js";
import { scaleHeads, type Intervention } from "./intervention.js";
import { makeRoom, type KvCache } from "./kv-cache.js";
import { applyNorm } from "./norm.js";
import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Transformer } from "./transformer.js";

/** s.q, s.k, s.v ← the projections of norm(x), ready for the attention kernel. */
function projectQkv(m: Transformer, s: RunState, layer: number, startPos: number, nTokens: number, trace: Trace | undefined): void {
  const { config: c, kernels: k } = m;
  const w = m.weights.layers[layer]!;
  const qDim = c.nHeads * c.headDim;
  // an encoder's norm comes after the residual add (block.ts): it projects the stream itself
  const n = c.encoder !== undefined ? s.x : s.xb;
  if (c.encoder === undefined) applyNorm(m, s.xb, s.x, w.attnNorm, nTokens, c.dim);
  if (trace?.wants("attn_norm")) trace.record("attn_norm", layer, startPos, [nTokens, c.dim], n);
  // q (nTokens, nHeads·headDim), k and v (nTokens, kvDim): three products of one input, in one step
  k.matmulShared([s.q, s.k, s.v], [w.wq, w.wk, w.wv], n, nTokens);
  if (w.qkvBias !== undefined) {
    k.addBias(s.q, w.qkvBias.q, nTokens, qDim);
    k.addBias(s.k, w.qkvBias.k, nTokens, c.kvDim);
    k.addBias(s.v, w.qkvBias.v, nTokens, c.kvDim);
  }
  if (w.qkNorm !== undefined) { // per head, in place (each row is summed before it is written)
    k.rmsNorm(s.q, s.q, w.qkNorm.q, c.normEps, nTokens * c.nHeads, c.headDim);
    k.rmsNorm(s.k, s.k, w.qkNorm.k, c.normEps, nTokens * c.nKvHeads, c.headDim);
  }
  const rope = m.ropes?.[layer];
  if (rope !== undefined) {
    k.rope(s.q, s.positions, nTokens, c.nHeads, c.headDim, rope);
    k.rope(s.k, s.positions, nTokens, c.nKvHeads, c.headDim, rope);
  }
  if (c.attnScaleAt === "query") k.scale(s.q, c.attnScale, nTokens * qDim);
}

/** out (nTokens, dim) ← the attention sub-block of layer `layer` applied to x. */
export function attentionBlock(m: Transformer, s: RunState, cache: KvCache, layer: number, startPos: number, nTokens: number,
  trace: Trace | undefined, flash: FlashVariant | undefined, out: Float32Array, iv?: Intervention): void {
  const { config: c, kernels: k } = m;
  const kv = cache.layers[layer]!;
  const w = m.weights.layers[layer]!;
  projectQkv(m, s, layer, startPos, nTokens, trace);
  if (trace?.wants("q")) trace.record("q", layer, startPos, [nTokens, c.nHeads, c.headDim], s.q);
  if (trace?.wants("k")) trace.record("k", layer, startPos, [nTokens, c.nKvHeads, c.headDim], s.k);
  if (trace?.wants("v")) trace.record("v", layer, startPos, [nTokens, c.nKvHeads, c.headDim], s.v);

  const row = makeRoom(kv, startPos, nTokens, k); // a sliding layer's cache may move its rows first
  k.storeKv(kv.k, s.k, row, nTokens);
  k.storeKv(kv.v, s.v, row, nTokens);
  const bias = m.positionBias?.[layer];
  const bidirectional = c.encoder !== undefined || m.bidirectional === true;
  const shape = {
    nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim,
    scale: c.attnScaleAt === "query" ? 1 : c.attnScale,
    softcap: c.attnSoftcap ?? 0,
    window: kv.window,
    kvStart: kv.start,
    causal: !bidirectional,
    // bidirectional: each token sees the rows forward.ts gave it (its own sequence's, when texts are packed)
    ...(bidirectional ? { keyRanges: s.keyRanges } : {}),
    // llama.cpp has no flash kernel with a score bias (kq_b): T5's self-attention takes the standard path
    ...(flash !== undefined && bias === undefined ? { flash } : {}),
    ...(bias !== undefined ? { positionBias: bias } : {}),
  };
  if (trace?.wants("attn_weights")) {
    // only a traced pass pays for the full (nTokens, nHeads, nCtx) weight matrix
    const probs = new Float32Array(nTokens * c.nHeads * (startPos + nTokens));
    k.attention(s.att, s.q, kv.k, kv.v, startPos, nTokens, shape, s.scores, probs);
    trace.record("attn_weights", layer, startPos, [nTokens, c.nHeads, startPos + nTokens], probs);
  } else {
    k.attention(s.att, s.q, kv.k, kv.v, startPos, nTokens, shape, s.scores);
  }

  if (iv?.heads !== undefined) scaleHeads(m, iv, layer, nTokens, s.att); // before Wo mixes the heads
  k.matmul(out, w.wo, s.att, nTokens); // (nTokens, dim)
  if (w.bo !== undefined) k.addBias(out, w.bo, nTokens, c.dim);
  if (w.postAttnNorm !== undefined) applyNorm(m, out, out, w.postAttnNorm, nTokens, c.dim);
  if (trace?.wants("attn_out")) trace.record("attn_out", layer, startPos, [nTokens, c.dim], out);
}
