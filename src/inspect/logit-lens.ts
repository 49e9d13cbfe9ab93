/**
 * The logit lens: what the model would predict if the residual stream stopped after layer L. Every layer's
 * `resid` rows (and the embeddings, as layer −1, where traced) go through the model's own final norm, LM
 * head and final soft cap (model/logits.ts's computeLogits, on a run state of its own), so the last layer's
 * lens is the model's real next-token distribution. Per layer and position: the top-k tokens with
 * probabilities, and the rank and probability of the token the model finally predicts there (the last
 * layer's argmax). It reads a ForwardTrace; it runs no blocks.
 */

import { computeLogits } from "../model/logits.js";
import type { Model } from "../model/model.js";
import { createRunState } from "../model/run-state.js";
import { PeelError } from "../util/errors.js";
import { checkPosition, checkTopK } from "./check.js";
import { rankOf, softmax64, topTokens, type TokenProb } from "./distribution.js";
import type { ForwardTrace } from "./trace-forward.js";

export interface LogitLensOptions {
  /** Tokens listed per layer and position (default 5). */
  readonly topK?: number;
  /** Positions to read (default: all). */
  readonly positions?: readonly number[];
}

/** The lens at one layer and position. */
export interface LensCell {
  readonly top: readonly TokenProb[];
  /** Rank (0 = top) and probability of the final prediction at this position under this layer's lens. */
  readonly targetRank: number;
  readonly targetProb: number;
}

export interface LensLayer {
  /** −1: the embeddings (the stream before layer 0). */
  readonly layer: number;
  /** One cell per entry of LogitLens.positions. */
  readonly cells: readonly LensCell[];
}

export interface LogitLens {
  readonly positions: readonly number[];
  /** Per position, the token the model finally predicts there (the last layer's argmax). */
  readonly targets: readonly number[];
  /** Embeddings first (when traced), then layers 0..nLayers−1. */
  readonly layers: readonly LensLayer[];
}

/** Rows of the lens projected per call: bounds the run state's logits buffer (rows × vocabSize; 8 MB at 32000). */
const LENS_BATCH = 64;

export function logitLens(model: Model, trace: ForwardTrace, opts: LogitLensOptions = {}): LogitLens {
  const m = model.transformer;
  const c = m.config;
  const k = opts.topK ?? 5;
  checkTopK(k);
  const positions = [...(opts.positions ?? Array.from({ length: trace.nTokens }, (_, i) => i))];
  for (const p of positions) checkPosition(p, trace.nTokens);
  const streams: Array<[number, Float32Array]> = [];
  if (trace.embed !== undefined) streams.push([-1, trace.embed]);
  for (const l of trace.layers) {
    if (l.resid === undefined) throw new PeelError("INVALID_ARGUMENT", `logitLens: the trace has no "resid" records for layer ${l.layer}; trace with the "resid" tap`);
    streams.push([l.layer, l.resid]);
  }
  const state = createRunState(m.kernels, c, Math.min(LENS_BATCH, positions.length), 1);
  const V = c.vocabSize;

  /** Calls fn(index into positions, logits (vocabSize)) for every position of one stream. */
  const project = (stream: Float32Array, fn: (i: number, logits: Float32Array) => void) => {
    for (let first = 0; first < positions.length; first += state.batch) {
      const n = Math.min(state.batch, positions.length - first);
      for (let i = 0; i < n; i++) {
        const p = positions[first + i] as number;
        state.x.set(stream.subarray(p * c.dim, (p + 1) * c.dim), i * c.dim);
      }
      const logits = computeLogits(m, state, 0, n, n, undefined); // (n, vocabSize)
      for (let i = 0; i < n; i++) fn(first + i, logits.subarray(i * V, (i + 1) * V));
    }
  };

  // the last layer decides the targets; project it first
  const [, last] = streams[streams.length - 1] as [number, Float32Array];
  const targets = new Array<number>(positions.length).fill(0);
  project(last, (i, logits) => { targets[i] = (topTokens(logits, 1)[0] as TokenProb).id; });

  const layers: LensLayer[] = streams.map(([layer, stream]) => {
    const cells: LensCell[] = [];
    project(stream, (i, logits) => {
      const probs = softmax64(logits);
      const target = targets[i] as number;
      cells.push({ top: topTokens(logits, k, V, undefined, probs), targetRank: rankOf(logits, target), targetProb: probs[target] as number });
    });
    return { layer, cells };
  });
  return { positions, targets, layers };
}
