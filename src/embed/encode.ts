/**
 * Runs token sequences through an encoder in packed batches: the texts of a batch lie one after another in
 * one forward call (no padding), so every matrix product sees all of the batch's tokens at once (where the
 * speed comes from), while attention keeps each text to its own tokens and positions restart per text
 * (forward.ts `sequences`, kernels.ts keyRanges). Each text's last-layer token vectors (nTokens, dim) go to
 * `read` before the next batch overwrites them. What embed() and rerank() share; they decide what to do
 * with the vectors.
 * Packing rather than padding: a padded batch of B texts costs B · longest tokens in every product and needs
 * a mask over the padding; packed, it costs exactly Σ lengths, and a batch may mix lengths freely, so texts
 * keep their order. Batches hold up to `batchTokens` tokens (a longer text runs alone), which bounds the run
 * state and cache: (batchTokens, dim + hiddenDim-sized buffers), not (texts, ...).
 * Each text gets exactly the numbers it gets alone: the products and norms work row by row, attention over a
 * text's rows is the same arithmetic in the same order wherever the rows sit (conformance: attention-packed),
 * and llama.cpp's flash kernel choice depends on the number of queries in a call (≥ 64: tiled), which, for a
 * text alone, is its length: so short and long texts go to separate batches and each batch takes its texts'
 * kernel.
 */

import { FLASH_TILE_QUERIES, type KvDType } from "../kernels/kernels.js";
import { forward } from "../model/forward.js";
import { createKvCache } from "../model/kv-cache.js";
import type { Model } from "../model/model.js";
import { createRunState } from "../model/run-state.js";
import { flashVariant, type FlashAttention } from "../generate/session.js";
import { PeelError } from "../util/errors.js";

export interface EncodeOptions {
  /** Attention numerics as in sessions (default "on", llama.cpp's default). */
  readonly flashAttention?: FlashAttention;
  /** Storage of the keys and values inside the forward pass (default F16, as llama.cpp's flash path rounds them). */
  readonly kvType?: KvDType;
  /**
   * Most tokens in one forward call (default 512): texts are packed into calls of up to this many tokens (a
   * longer text runs alone). Bigger batches amortise each weight read over more tokens; memory grows with it.
   */
  readonly batchTokens?: number;
}

const DEFAULT_BATCH_TOKENS = 512;

/** Indices of the inputs in each batch, in input order within a batch; every index appears once. */
export function planBatches(lengths: readonly number[], batchTokens: number, splitAt: number): number[][] {
  const batches: number[][] = [];
  for (const long of [false, true]) {
    let cur: number[] = [], tokens = 0;
    lengths.forEach((len, i) => {
      if ((len >= splitAt) !== long) return;
      if (cur.length > 0 && tokens + len > batchTokens) { batches.push(cur); cur = []; tokens = 0; }
      cur.push(i);
      tokens += len;
    });
    if (cur.length > 0) batches.push(cur);
  }
  return batches;
}

export function encodeEach<T>(model: Model, inputs: readonly (readonly number[])[], opts: EncodeOptions,
  read: (hidden: Float32Array, nTokens: number) => T): T[] {
  if (inputs.length === 0) return [];
  const batchTokens = opts.batchTokens ?? DEFAULT_BATCH_TOKENS;
  if (!Number.isInteger(batchTokens) || batchTokens < 1) {
    throw new PeelError("INVALID_ARGUMENT", `encode: batchTokens must be a positive integer, got ${batchTokens}`);
  }
  const c = model.config, k = model.transformer.kernels, dim = c.dim;
  const mode = opts.flashAttention ?? "on";
  const lengths = inputs.map((t) => t.length);
  const batches = planBatches(lengths, batchTokens, mode === "off" ? Infinity : FLASH_TILE_QUERIES);
  const size = Math.max(...batches.map((b) => b.reduce((a, i) => a + (lengths[i] as number), 0)));
  const state = createRunState(k, c, size, size);
  const cache = createKvCache(k, c, size, opts.kvType ?? "F16", size);
  const out = new Array<T>(inputs.length);
  const ids = new Int32Array(size);
  for (const batch of batches) {
    const sequences = batch.map((i) => lengths[i] as number);
    let n = 0;
    for (const i of batch) { ids.set(inputs[i] as readonly number[], n); n += lengths[i] as number; }
    // every text of a batch is on the same side of the flash kernel choice, so the first one's length decides
    forward(model.transformer, state, cache, ids.subarray(0, n), 0, { logits: "none", flash: flashVariant(mode, sequences[0] as number), sequences });
    let o = 0;
    for (const i of batch) {
      const len = lengths[i] as number;
      out[i] = read(state.x.subarray(o * dim, (o + len) * dim), len);
      o += len;
    }
  }
  return out;
}
