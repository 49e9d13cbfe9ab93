/**
 * The encoder half of an encoder–decoder (T5): runs the whole input through the encoder stack at once
 * (bidirectional attention needs every token), applies the encoder's final norm, and projects that output
 * into every decoder block's cross-attention keys and values (kv-cache.ts CrossKv), once per input. The
 * decoder then runs through forward.ts as any decoder does, reading them at every step. The encoder's own
 * keys and values are F32 and are not kept past the call (llama.cpp's encoder uses no cache either).
 * It does not choose the decoder's first token or sample: generate/ does.
 */

import { PeelError } from "../util/errors.js";
import { forward } from "./forward.js";
import { createKvCache, type KvCache } from "./kv-cache.js";
import { applyNorm } from "./norm.js";
import { createRunState, type RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Transformer } from "./transformer.js";

/** The encoder stack's buffers: a run state for a whole input of up to `maxTokens` and its per-layer F32 keys and values. */
export interface EncoderState {
  readonly state: RunState;
  readonly cache: KvCache;
}

function encoderOf(m: Transformer): Transformer {
  if (m.encoderStack === undefined) {
    throw new PeelError("UNSUPPORTED", `model: "${m.config.architecture}" has no encoder; encode() is for encoder–decoder models (T5)`);
  }
  return m.encoderStack;
}

export function createEncoderState(m: Transformer, maxTokens: number): EncoderState {
  const e = encoderOf(m);
  return {
    state: createRunState(e.kernels, e.config, maxTokens, maxTokens, false),
    cache: createKvCache(e.kernels, e.config, maxTokens, "F32", maxTokens),
  };
}

/**
 * Encodes `tokens` and fills `cache.cross` (the decoder's cache) with each decoder block's cross-attention
 * keys and values of the encoder's output. A trace sees the encoder's blocks with their own layer indices.
 */
export function encodeInput(m: Transformer, enc: EncoderState, cache: KvCache, tokens: readonly number[], trace?: Trace): void {
  const e = encoderOf(m);
  const c = m.config;
  const cross = cache.cross;
  const n = tokens.length;
  if (cross === undefined) throw new PeelError("INVALID_ARGUMENT", "encode: this KV cache has no room for cross-attention keys (it was made for another model)");
  if (n < 1) throw new PeelError("INVALID_ARGUMENT", "encode: the input is empty; an encoder–decoder needs at least one input token");
  if (n > enc.state.batch || n > cross.layers[0]!.k.seqLen) {
    throw new PeelError("CONTEXT_OVERFLOW", `encode: the input has ${n} tokens but the encoder holds ${Math.min(enc.state.batch, cross.layers[0]!.k.seqLen)}; shorten it or use a larger context`);
  }
  cross.length = 0; // a failure below leaves nothing half-encoded
  forward(e, enc.state, enc.cache, tokens, 0, { logits: "none", trace });
  const s = enc.state;
  applyNorm(e, s.xb, s.x, e.weights.outputNorm!, n, c.dim); // (n, dim): what every decoder block attends to
  if (trace?.wants("output_norm")) trace.record("output_norm", -1, 0, [n, c.dim], s.xb);
  for (let layer = 0; layer < c.nLayers; layer++) {
    const w = m.weights.layers[layer]!.cross!;
    const kv = cross.layers[layer]!;
    m.kernels.matmulShared([s.k, s.v], [w.wk, w.wv], s.xb, n); // (n, kvDim) each
    m.kernels.storeKv(kv.k, s.k, 0, n);
    m.kernels.storeKv(kv.v, s.v, 0, n);
  }
  cross.length = n;
}
