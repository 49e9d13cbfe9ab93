/**
 * The argument checks every inspector entry point shares, so a bad prompt, layer or head gets the same
 * INVALID_ARGUMENT (or CONTEXT_OVERFLOW) message wherever it is passed. Checks only; no behaviour.
 */

import type { ModelConfig } from "../model/config.js";
import { PeelError } from "../util/errors.js";

/** A prompt must be 1..contextLength ids, each an integer in 0..vocabSize-1. */
export function checkPrompt(c: ModelConfig, ids: readonly number[], what = "prompt"): void {
  if (ids.length === 0) throw new PeelError("INVALID_ARGUMENT", `inspect: the ${what} is empty; give at least one token id`);
  if (ids.length > c.contextLength) {
    throw new PeelError("CONTEXT_OVERFLOW", `inspect: the ${what} has ${ids.length} tokens but the model's context holds ${c.contextLength}`);
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) {
      throw new PeelError("INVALID_ARGUMENT", `inspect: token id ${id} at ${what} position ${i} is outside the vocabulary (0..${c.vocabSize - 1})`);
    }
  }
}

export function checkLayer(c: ModelConfig, layer: number): void {
  if (!(Number.isInteger(layer) && layer >= 0 && layer < c.nLayers)) {
    throw new PeelError("INVALID_ARGUMENT", `inspect: layer ${layer} is outside 0..${c.nLayers - 1} (the model has ${c.nLayers} layers)`);
  }
}

export function checkHead(c: ModelConfig, head: number): void {
  if (!(Number.isInteger(head) && head >= 0 && head < c.nHeads)) {
    throw new PeelError("INVALID_ARGUMENT", `inspect: head ${head} is outside 0..${c.nHeads - 1} (the model has ${c.nHeads} query heads)`);
  }
}

/** A position must index a token of a prompt of length n. */
export function checkPosition(pos: number, n: number, what = "prompt"): void {
  if (!(Number.isInteger(pos) && pos >= 0 && pos < n)) {
    throw new PeelError("INVALID_ARGUMENT", `inspect: position ${pos} is outside the ${what} (0..${n - 1})`);
  }
}

/** k for a top-k list: an integer ≥ 1. */
export function checkTopK(k: number, what = "topK"): void {
  if (!(Number.isInteger(k) && k >= 1)) throw new PeelError("INVALID_ARGUMENT", `inspect: ${what} must be an integer ≥ 1, got ${k}`);
}

/**
 * Interventions and the step view read a decoder's next-token distribution: an encoder (BERT: no next-token
 * head) or an encoder–decoder (T5, whose decoder needs an encoded input) is refused by name, never answered with
 * numbers that mean nothing.
 */
export function checkDecoder(c: ModelConfig, what: string): void {
  if (c.seq2seq === undefined && c.encoder === undefined) return;
  const kind = c.seq2seq !== undefined ? "an encoder–decoder" : "an encoder (no next-token head)";
  throw new PeelError("UNSUPPORTED", `inspect: ${what} reads a decoder's next-token distribution; "${c.architecture}" is ${kind}. ` +
    "Its attention maps are in traceForward / traceSeq2seq");
}
