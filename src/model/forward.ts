/**
 * The forward pass, read top to bottom: ids → embeddings → N blocks → final norm → logits.
 * Processes up to `state.batch` tokens at positions startPos.. in one call (a prefill chunk or one decode
 * step), appending their keys and values to the KV cache. No allocation unless a trace asks for copies.
 */

import type { FlashVariant } from "../kernels/kernels.js";
import { PeelError } from "../util/errors.js";
import { lastBlockForLastToken, transformerBlock } from "./block.js";
import { embedTokens } from "./embed.js";
import { checkIntervention, type Intervention } from "./intervention.js";
import type { KvCache } from "./kv-cache.js";
import { computeLogits } from "./logits.js";
import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Transformer } from "./transformer.js";

export interface ForwardOptions {
  /** Logits for every token, only the last (default), or none (inner prefill chunks). */
  readonly logits?: "all" | "last" | "none";
  readonly trace?: Trace | undefined;
  /** Flash attention numerics for this call (kernels.ts FlashVariant); absent: the standard attention path. */
  readonly flash?: FlashVariant | undefined;
  /** Edits to this pass (head and feed-forward scales, residual patches; intervention.ts); absent: none. */
  readonly intervention?: Intervention | undefined;
  /**
   * Bidirectional models only (encoders): the call's tokens are these sequences one after another (lengths,
   * summing to the token count; startPos 0). Positions restart at 0 in each, and each token attends only to
   * its own sequence's tokens (kernels.ts keyRanges), so each sequence comes out as it would alone while the
   * products see every token at once. Absent: one sequence.
   */
  readonly sequences?: readonly number[] | undefined;
}

/** Returns a view of logits (nTokens | 1 | 0, vocabSize) as `opts.logits` asks, valid until the next call. */
export function forward(m: Transformer, s: RunState, cache: KvCache, tokens: ArrayLike<number>, startPos: number,
  opts: ForwardOptions = {}): Float32Array {
  const nTokens = tokens.length;
  const c = m.config;
  if (nTokens < 1 || nTokens > s.batch) throw new PeelError("INVALID_ARGUMENT", `forward: 1..${s.batch} tokens per call, got ${nTokens}`);
  if (startPos + nTokens > cache.seqLen) {
    throw new PeelError("CONTEXT_OVERFLOW", `forward: positions ${startPos}..${startPos + nTokens - 1} exceed the context of ${cache.seqLen} tokens`);
  }
  for (let t = 0; t < nTokens; t++) {
    const id = tokens[t] as number;
    if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) {
      throw new PeelError("INVALID_ARGUMENT", `forward: token id ${id} is outside the vocabulary (0..${c.vocabSize - 1})`);
    }
    s.ids[t] = id;
    s.positions[t] = startPos + t;
  }
  if (c.encoder !== undefined || m.bidirectional === true) setKeyRanges(s, startPos, nTokens, opts.sequences);
  else if (opts.sequences !== undefined) throw new PeelError("INVALID_ARGUMENT", `forward: packed sequences need a bidirectional model (an encoder); "${c.architecture}" is causal`);
  const trace = opts.trace;
  const iv = opts.intervention;
  if (iv !== undefined) checkIntervention(c, iv);
  embedTokens(m, s, nTokens);
  if (trace?.wants("embed")) trace.record("embed", -1, startPos, [nTokens, c.dim], s.x);
  const mode = opts.logits ?? "last";
  // a pass that wants only the last token's logits prunes its last block to that row, as llama.cpp does (block.ts);
  // not when something reads the other rows (a trace, an intervention), the block is not a plain sequential one, or
  // the backend keeps its arrays elsewhere (a deferred GPU backend: the row move below is a plain array copy)
  const prune = mode === "last" && nTokens > 1 && trace === undefined && iv === undefined && c.encoder === undefined &&
    m.kernels.deferred !== true &&
    !c.parallelResidual && m.weights.layers[c.nLayers - 1]?.cross === undefined;
  for (let layer = 0; layer < c.nLayers; layer++) {
    if (prune && layer === c.nLayers - 1) {
      lastBlockForLastToken(m, s, cache, layer, startPos, nTokens, opts.flash);
      return computeLogits(m, s, startPos + nTokens - 1, 1, 1, trace);
    }
    transformerBlock(m, s, cache, layer, startPos, nTokens, trace, opts.flash, iv);
  }
  if (mode === "none") return s.logits.subarray(0, 0);
  return computeLogits(m, s, startPos, nTokens, mode === "all" ? nTokens : 1, trace);
}

/**
 * s.keyRanges ← the rows each token sees: all of 0..startPos + nTokens − 1 for one sequence, or, for packed
 * sequences, its own sequence's rows, with s.positions restarting at 0 in each sequence.
 */
function setKeyRanges(s: RunState, startPos: number, nTokens: number, sequences: readonly number[] | undefined): void {
  if (sequences === undefined) {
    for (let t = 0; t < nTokens; t++) { s.keyRanges[2 * t] = 0; s.keyRanges[2 * t + 1] = startPos + nTokens; }
    return;
  }
  let o = 0;
  for (const len of sequences) {
    if (!Number.isInteger(len) || len < 1 || o + len > nTokens) break;
    for (let t = o; t < o + len; t++) { s.keyRanges[2 * t] = o; s.keyRanges[2 * t + 1] = o + len; s.positions[t] = t - o; }
    o += len;
  }
  if (o !== nTokens || startPos !== 0) {
    throw new PeelError("INVALID_ARGUMENT", `forward: packed sequences must be positive lengths summing to the call's ${nTokens} tokens, at startPos 0; got [${sequences.join(", ")}] at ${startPos}`);
  }
}
