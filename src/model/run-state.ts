/**
 * The run state: every activation buffer a forward pass writes, allocated once for up to `batch` tokens
 * per call, so a forward step allocates nothing. Shapes are per call: (nTokens ≤ batch, width).
 */

import type { Kernels } from "../kernels/kernels.js";
import type { ModelConfig } from "./config.js";
import { isGated } from "./weights.js";

export interface RunState {
  /** Most tokens one forward call may process (prefill is split into chunks of this size). */
  readonly batch: number;
  readonly ids: Int32Array; // (batch)
  readonly positions: Int32Array; // (batch)
  /** (batch, 2) the cache rows each token of a bidirectional call sees, [first, end): its own sequence's (forward.ts fills it). */
  readonly keyRanges: Int32Array;
  readonly x: Float32Array; // (batch, dim) residual stream
  readonly xb: Float32Array; // (batch, dim) normed input of a sub-block
  readonly q: Float32Array; // (batch, nHeads·headDim)
  readonly k: Float32Array; // (batch, kvDim)
  readonly v: Float32Array; // (batch, kvDim)
  readonly att: Float32Array; // (batch, nHeads·headDim) attention mix before the output projection
  readonly proj: Float32Array; // (batch, dim) output of attn_output / ffn_down; learned position rows
  readonly parallel: Float32Array; // (batch, dim) a parallel block's attention output; empty for sequential blocks
  readonly gate: Float32Array; // (batch, hiddenDim) a gated feed-forward's gate; empty for ungated ones
  readonly up: Float32Array; // (batch, hiddenDim)
  readonly hidden: Float32Array; // (batch, hiddenDim) act(gate)·up or act(up)
  readonly scores: Float32Array; // (contextLength) one attention score row
  readonly logits: Float32Array; // (batch, vocabSize)
}

/** `withLogits` false: no logits buffer (a stack with no head of its own, such as T5's encoder). */
export function createRunState(k: Kernels, c: ModelConfig, batch: number, contextLength: number, withLogits = true): RunState {
  const qDim = c.nHeads * c.headDim;
  return {
    batch,
    ids: new Int32Array(batch),
    positions: new Int32Array(batch),
    keyRanges: new Int32Array(2 * batch),
    x: k.allocF32(batch * c.dim),
    xb: k.allocF32(batch * c.dim),
    q: k.allocF32(batch * qDim),
    k: k.allocF32(batch * c.kvDim),
    v: k.allocF32(batch * c.kvDim),
    att: k.allocF32(batch * qDim),
    proj: k.allocF32(batch * c.dim),
    parallel: k.allocF32(c.parallelResidual ? batch * c.dim : 0),
    gate: k.allocF32(isGated(c) ? batch * c.hiddenDim : 0),
    up: k.allocF32(batch * c.hiddenDim),
    hidden: k.allocF32(batch * c.hiddenDim),
    scores: k.allocF32(contextLength),
    logits: k.allocF32(c.encoder !== undefined || !withLogits ? 0 : batch * c.vocabSize), // encoders have no head
  };
}
