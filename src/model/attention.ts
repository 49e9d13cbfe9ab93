/**
 * Stage 2a, self-attention of one block: x += Wo · attention(q, k, v) (+ bo), with q, k, v projected from
 * n = norm(x): Llama: RMSNorm, no biases, RoPE on q and k; GPT-2: LayerNorm, biases, no RoPE (positions
 * were added at the embedding). New keys and values go into the KV cache first, so every token attends to all
 * earlier positions (and itself) through the cache.
 */

import type { KvCache } from "./kv-cache.js";
import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Gpt2Transformer, LlamaTransformer, Transformer } from "./transformer.js";

/**
 * s.q, s.k, s.v ← the Llama graph's projections of RMSNorm(x) (plus biases where the config has them), q and
 * k RMSNorm-ed per head where it has q/k norms (in place: each row is summed before it is written), then
 * rotated by position, in llama.cpp's order: bias, norm, RoPE.
 */
function llamaQkv(m: LlamaTransformer, s: RunState, layer: number, startPos: number, nTokens: number, trace: Trace | undefined): void {
  const { config: c, kernels: k } = m;
  const w = m.weights.layers[layer]!;
  k.rmsNorm(s.xb, s.x, w.attnNorm, c.normEps, nTokens, c.dim);
  if (trace?.wants("attn_norm")) trace.record("attn_norm", layer, startPos, [nTokens, c.dim], s.xb);
  // q (nTokens, nHeads·headDim), k and v (nTokens, kvDim): three products of one input, in one step
  k.matmulShared([s.q, s.k, s.v], [w.wq, w.wk, w.wv], s.xb, nTokens);
  if (w.qkvBias !== undefined) {
    k.addBias(s.q, w.qkvBias.bq, nTokens, c.nHeads * c.headDim);
    k.addBias(s.k, w.qkvBias.bk, nTokens, c.kvDim);
    k.addBias(s.v, w.qkvBias.bv, nTokens, c.kvDim);
  }
  if (w.qkNorm !== undefined) {
    k.rmsNorm(s.q, s.q, w.qkNorm.q, c.normEps, nTokens * c.nHeads, c.headDim);
    k.rmsNorm(s.k, s.k, w.qkNorm.k, c.normEps, nTokens * c.nKvHeads, c.headDim);
  }
  k.rope(s.q, s.positions, nTokens, c.nHeads, c.headDim, m.rope);
  k.rope(s.k, s.positions, nTokens, c.nKvHeads, c.headDim, m.rope);
}

/** s.q, s.k, s.v ← GPT-2's projections (the fused QKV's three row ranges) of LayerNorm(x), plus biases. */
function gpt2Qkv(m: Gpt2Transformer, s: RunState, layer: number, startPos: number, nTokens: number, trace: Trace | undefined): void {
  const { config: c, kernels: k } = m;
  const w = m.weights.layers[layer]!;
  k.layerNorm(s.xb, s.x, w.attnNorm, w.attnNormBias, c.normEps, nTokens, c.dim);
  if (trace?.wants("attn_norm")) trace.record("attn_norm", layer, startPos, [nTokens, c.dim], s.xb);
  k.matmulShared([s.q, s.k, s.v], [w.wq, w.wk, w.wv], s.xb, nTokens); // (nTokens, dim), (nTokens, kvDim) ×2
  k.addBias(s.q, w.bq, nTokens, c.dim);
  k.addBias(s.k, w.bk, nTokens, c.kvDim);
  k.addBias(s.v, w.bv, nTokens, c.kvDim);
}

export function attentionBlock(m: Transformer, s: RunState, cache: KvCache, layer: number, startPos: number, nTokens: number,
  trace: Trace | undefined): void {
  const { config: c, kernels: k } = m;
  const kv = cache.layers[layer]!;
  if (m.family === "llama") llamaQkv(m, s, layer, startPos, nTokens, trace);
  else gpt2Qkv(m, s, layer, startPos, nTokens, trace);
  if (trace?.wants("q")) trace.record("q", layer, startPos, [nTokens, c.nHeads, c.headDim], s.q);
  if (trace?.wants("k")) trace.record("k", layer, startPos, [nTokens, c.nKvHeads, c.headDim], s.k);
  if (trace?.wants("v")) trace.record("v", layer, startPos, [nTokens, c.nKvHeads, c.headDim], s.v);

  k.storeKv(kv.k, s.k, startPos, nTokens);
  k.storeKv(kv.v, s.v, startPos, nTokens);
  const shape = { nHeads: c.nHeads, nKvHeads: c.nKvHeads, headDim: c.headDim, scale: 1 / Math.sqrt(c.headDim) };
  if (trace?.wants("attn_weights")) {
    // only a traced pass pays for the full (nTokens, nHeads, nCtx) weight matrix
    const probs = new Float32Array(nTokens * c.nHeads * (startPos + nTokens));
    k.attention(s.att, s.q, kv.k, kv.v, startPos, nTokens, shape, s.scores, probs);
    trace.record("attn_weights", layer, startPos, [nTokens, c.nHeads, startPos + nTokens], probs);
  } else {
    k.attention(s.att, s.q, kv.k, kv.v, startPos, nTokens, shape, s.scores);
  }

  k.matmul(s.proj, m.weights.layers[layer]!.wo, s.att, nTokens); // (nTokens, dim)
  if (m.family === "gpt2") k.addBias(s.proj, m.weights.layers[layer]!.bo, nTokens, c.dim);
  if (trace?.wants("attn_out")) trace.record("attn_out", layer, startPos, [nTokens, c.dim], s.proj);
  k.addInPlace(s.x, s.proj, nTokens * c.dim);
}
