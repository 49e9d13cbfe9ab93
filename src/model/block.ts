/**
 * One transformer block: attention and feed-forward, each reading a pre-normed residual stream. Sequential
 * (x += attn(x), then x += ffn(x)) or, where the config says, parallel (GPT-NeoX: both read the block's input,
 * and x ← (ffn + x) + attn, in llama.cpp's order of the two adds). An optional intervention (intervention.ts)
 * may scale heads or the feed-forward inside the sub-blocks and patch the residual stream after the block.
 * Encoders (BERT) norm after each residual add instead of before each sub-block. A T5 decoder block has a
 * third sub-block between the two: cross-attention over the encoded input.
 */

import type { FlashVariant } from "../kernels/kernels.js";
import { attentionBlock } from "./attention.js";
import { crossAttentionBlock } from "./cross-attention.js";
import { patchResid, type Intervention } from "./intervention.js";
import type { KvCache } from "./kv-cache.js";
import { mlpBlock } from "./mlp.js";
import { applyNorm } from "./norm.js";
import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Transformer } from "./transformer.js";

export function transformerBlock(m: Transformer, s: RunState, cache: KvCache, layer: number, startPos: number, nTokens: number,
  trace: Trace | undefined, flash: FlashVariant | undefined, iv?: Intervention): void {
  const { config: c, kernels: k } = m;
  const n = nTokens * c.dim;
  if (c.encoder !== undefined) { // BERT: x ← norm(x + attn(x)), then x ← norm(x + ffn(x))
    const w = m.weights.layers[layer]!;
    attentionBlock(m, s, cache, layer, startPos, nTokens, trace, flash, s.proj, iv);
    k.addInPlace(s.x, s.proj, n);
    applyNorm(m, s.x, s.x, w.attnNorm, nTokens, c.dim);
    mlpBlock(m, s, layer, startPos, nTokens, trace, iv);
    k.addInPlace(s.x, s.proj, n);
    applyNorm(m, s.x, s.x, w.ffnNorm, nTokens, c.dim);
  } else if (c.parallelResidual) {
    attentionBlock(m, s, cache, layer, startPos, nTokens, trace, flash, s.parallel, iv);
    mlpBlock(m, s, layer, startPos, nTokens, trace, iv);
    k.addInPlace(s.x, s.proj, n);
    k.addInPlace(s.x, s.parallel, n);
  } else {
    attentionBlock(m, s, cache, layer, startPos, nTokens, trace, flash, s.proj, iv);
    k.addInPlace(s.x, s.proj, n);
    if (m.weights.layers[layer]!.cross !== undefined) { // T5's decoder: then x += cross-attention(x) over the encoded input
      crossAttentionBlock(m, s, cache, layer, startPos, nTokens, trace, s.proj);
      k.addInPlace(s.x, s.proj, n);
    }
    mlpBlock(m, s, layer, startPos, nTokens, trace, iv);
    k.addInPlace(s.x, s.proj, n);
  }
  if (iv?.resid !== undefined) patchResid(m, iv, layer, startPos, nTokens, s.x);
  if (trace?.wants("resid")) trace.record("resid", layer, startPos, [nTokens, c.dim], s.x);
}
