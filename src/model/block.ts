/** One transformer block: attention then feed-forward, each a pre-norm residual sub-block. */

import { attentionBlock } from "./attention.js";
import type { KvCache } from "./kv-cache.js";
import { mlpBlock } from "./mlp.js";
import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Transformer } from "./transformer.js";

export function transformerBlock(m: Transformer, s: RunState, cache: KvCache, layer: number, startPos: number, nTokens: number,
  trace: Trace | undefined): void {
  attentionBlock(m, s, cache, layer, startPos, nTokens, trace);
  mlpBlock(m, s, layer, startPos, nTokens, trace);
  if (trace?.wants("resid")) trace.record("resid", layer, startPos, [nTokens, m.config.dim], s.x);
}
