/**
 * Training windows over a token stream: a train/validation split, random batches for training (teacher
 * forcing: each position predicts the token after it) and fixed, non-overlapping batches for validation loss.
 */

import { PeelError } from "../../util/errors.js";
import type { Rng } from "../../sample/rng.js";

export interface Batch {
  /** (rows, contextLength) token ids, row-major. */
  readonly inputs: Int32Array;
  /** The same windows shifted one token left: targets[r, i] is the token after inputs[r, i]. */
  readonly targets: Int32Array;
}

export interface EvalBatch extends Batch {
  /** Windows in this batch; only the last batch may have fewer than batchSize. */
  readonly rows: number;
}

/**
 * Splits off the last `valFraction` of `tokens` (rounded) for validation. Both parts are views, not copies.
 * INVALID_ARGUMENT unless each part holds at least contextLength + 1 tokens (one full window).
 */
export function splitTokens(tokens: Uint32Array, valFraction: number, contextLength: number): { train: Uint32Array; val: Uint32Array } {
  if (!(valFraction > 0 && valFraction < 1)) throw bad(`validation fraction must be between 0 and 1 (exclusive), got ${valFraction}`);
  checkPositiveInt("contextLength", contextLength);
  const nVal = Math.round(tokens.length * valFraction);
  const need = contextLength + 1;
  for (const [part, n] of [["training", tokens.length - nVal], ["validation", nVal]] as const) {
    if (n < need) {
      throw bad(`the ${part} split has ${n} tokens (${tokens.length} in all, validation fraction ${valFraction}) ` +
        `but a window of context ${contextLength} needs ${need}; use a smaller context length or more data`);
    }
  }
  const cut = tokens.length - nVal;
  return { train: tokens.subarray(0, cut), val: tokens.subarray(cut) };
}

/** `batchSize` windows of contextLength + 1 tokens starting uniformly at random in 0..len-contextLength-1. */
export function sampleBatch(tokens: Uint32Array, batchSize: number, contextLength: number, rng: Rng): Batch {
  checkShape(tokens, batchSize, contextLength);
  const T = contextLength, starts = tokens.length - T;
  const inputs = new Int32Array(batchSize * T), targets = new Int32Array(batchSize * T);
  for (let r = 0; r < batchSize; r++) {
    // min() guards against rng.next() returning exactly 1 from a non-conforming Rng
    copyWindow(tokens, Math.min(starts - 1, Math.floor(rng.next() * starts)), T, inputs, targets, r);
  }
  return { inputs, targets };
}

/**
 * Deterministic validation batches: windows whose inputs tile `tokens` from the start (window w starts at
 * w·contextLength), grouped batchSize at a time, at most `maxBatches` batches. Each token after the first is
 * a target exactly once, as far as the windows reach.
 */
export function evalBatches(tokens: Uint32Array, batchSize: number, contextLength: number, maxBatches: number): EvalBatch[] {
  checkShape(tokens, batchSize, contextLength);
  checkPositiveInt("maxBatches", maxBatches);
  const T = contextLength;
  const windows = Math.min(Math.floor((tokens.length - 1) / T), batchSize * maxBatches);
  const out: EvalBatch[] = [];
  for (let first = 0; first < windows; first += batchSize) {
    const rows = Math.min(batchSize, windows - first);
    const inputs = new Int32Array(rows * T), targets = new Int32Array(rows * T);
    for (let r = 0; r < rows; r++) copyWindow(tokens, (first + r) * T, T, inputs, targets, r);
    out.push({ inputs, targets, rows });
  }
  return out;
}

function copyWindow(tokens: Uint32Array, start: number, T: number, inputs: Int32Array, targets: Int32Array, row: number): void {
  inputs.set(tokens.subarray(start, start + T), row * T);
  targets.set(tokens.subarray(start + 1, start + T + 1), row * T);
}

function checkShape(tokens: Uint32Array, batchSize: number, contextLength: number): void {
  checkPositiveInt("batchSize", batchSize);
  checkPositiveInt("contextLength", contextLength);
  if (tokens.length < contextLength + 1) {
    throw bad(`${tokens.length} tokens cannot fill one window of context ${contextLength} (needs ${contextLength + 1}); use a smaller context length or more data`);
  }
}

function checkPositiveInt(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 1)) throw bad(`${name} must be an integer ≥ 1, got ${v}`);
}

function bad(msg: string): PeelError {
  return new PeelError("INVALID_ARGUMENT", msg);
}
