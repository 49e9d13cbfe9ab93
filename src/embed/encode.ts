/**
 * Runs token sequences through an encoder one at a time, each whole in one forward call (bidirectional
 * attention needs every token of a text at once), through one run state and cache sized for the longest
 * sequence, and hands each sequence's last-layer token vectors (nTokens, dim) to `read` before the next
 * overwrites them. What embed() and rerank() share; they decide what to do with the vectors.
 */

import type { KvDType } from "../kernels/kernels.js";
import { forward } from "../model/forward.js";
import { createKvCache } from "../model/kv-cache.js";
import type { Model } from "../model/model.js";
import { createRunState } from "../model/run-state.js";
import { flashVariant, type FlashAttention } from "../generate/session.js";

export interface EncodeOptions {
  /** Attention numerics as in sessions (default "on", llama.cpp's default). */
  readonly flashAttention?: FlashAttention;
  /** Storage of the keys and values inside the forward pass (default F16, as llama.cpp's flash path rounds them). */
  readonly kvType?: KvDType;
}

export function encodeEach<T>(model: Model, inputs: readonly (readonly number[])[], opts: EncodeOptions,
  read: (hidden: Float32Array, nTokens: number) => T): T[] {
  if (inputs.length === 0) return [];
  const c = model.config, k = model.transformer.kernels;
  const longest = Math.max(...inputs.map((t) => t.length));
  const state = createRunState(k, c, longest, longest);
  const cache = createKvCache(k, c, longest, opts.kvType ?? "F16", longest);
  return inputs.map((ids) => {
    forward(model.transformer, state, cache, ids, 0, { logits: "none", flash: flashVariant(opts.flashAttention ?? "on", ids.length) });
    return read(state.x, ids.length);
  });
}
