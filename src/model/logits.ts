/**
 * Stage 3: the final norm and the LM head, then the final soft cap where the model has one (Gemma 2). Only
 * the rows the caller needs are projected: the last token during generation, every token when scoring a
 * sequence (the vocabulary projection is the biggest matmul).
 */

import { PeelError } from "../util/errors.js";
import { applyNorm } from "./norm.js";
import type { RunState } from "./run-state.js";
import type { Trace } from "./trace.js";
import type { Transformer } from "./transformer.js";

/** Returns logits (nOut, vocabSize) for the last `nOut` of the `nTokens` rows of the residual stream. */
export function computeLogits(m: Transformer, s: RunState, startPos: number, nTokens: number, nOut: number, trace: Trace | undefined): Float32Array {
  const { config: c, kernels: k } = m;
  const first = nTokens - nOut;
  const { outputNorm, output } = m.weights;
  if (outputNorm === undefined || output === undefined) {
    throw new PeelError("UNSUPPORTED", `model: "${c.architecture}" is an encoder: it has no LM head to predict tokens with; embed texts with it instead (embed(), peel embed)`);
  }
  applyNorm(m, s.xb, s.x.subarray(first * c.dim, nTokens * c.dim), outputNorm, nOut, c.dim);
  if (trace?.wants("output_norm")) trace.record("output_norm", -1, startPos + first, [nOut, c.dim], s.xb);
  k.matmul(s.logits, output, s.xb, nOut);
  const logits = s.logits.subarray(0, nOut * c.vocabSize);
  if (c.finalSoftcap !== undefined) k.softcap(logits, c.finalSoftcap, nOut * c.vocabSize);
  if (trace?.wants("logits")) trace.record("logits", -1, startPos + first, [nOut, c.vocabSize], logits);
  return logits;
}
