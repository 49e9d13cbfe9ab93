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

/**
 * The last block of a pass that wants only the last token's logits (forward.ts decides when): attention runs over
 * every token (their keys and values go to the cache), then, as llama.cpp prunes its last layer to the output
 * rows, only the last token's row goes on through the residual add and the feed-forward, moved to row 0. Besides
 * saving that work, this keeps llama.cpp's numbers: a one-row product adds in a different order than a batch's.
 * Sequential decoder blocks only. Returns the rows left (1).
 */
export function lastBlockForLastToken(m: Transformer, s: RunState, cache: KvCache, layer: number, startPos: number, nTokens: number,
  flash: FlashVariant | undefined): number {
  const { config: c, kernels: k } = m;
  attentionBlock(m, s, cache, layer, startPos, nTokens, undefined, flash, s.proj);
  const last = (nTokens - 1) * c.dim;
  s.x.copyWithin(0, last, last + c.dim);
  s.proj.copyWithin(0, last, last + c.dim);
  k.addInPlace(s.x, s.proj, c.dim);
  mlpBlock(m, s, layer, startPos + nTokens - 1, 1, undefined);
  k.addInPlace(s.x, s.proj, c.dim);
  return 1;
}

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
