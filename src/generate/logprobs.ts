/**
 * Log-probabilities of generated tokens, for callers that show how sure the model was (OpenAI's `logprobs`
 * and `top_logprobs`, llama-server's `n_probs`). They are taken from the model's own distribution: the
 * softmax of the raw logits over the whole vocabulary, before logit bias, penalties, truncation (top-k/p,
 * min-p) and temperature. That is llama-server's default (`post_sampling_probs` off) and what OpenAI's API
 * reports; it keeps greedy decoding informative (the sampler's own distribution at temperature 0 puts all
 * its mass on one token). Computed in f64 from one pass over the logits; the top list is kept by insertion,
 * so n stays small (≤ 20 on the wire).
 */

export interface TokenLogprob {
  readonly id: number;
  /** Natural log of the token's probability (≤ 0). */
  readonly logprob: number;
}

export interface StepLogprobs {
  /** The chosen token's log-probability. */
  readonly logprob: number;
  /** The `top` most likely tokens, most likely first (ties: lower id first); may include the chosen one. */
  readonly top: readonly TokenLogprob[];
}

/** Most alternatives per token generate() accepts. */
export const MAX_TOP_LOGPROBS = 100;

/** log softmax(logits)[id] and the `top` best entries of it. logits: (vocabSize). */
export function stepLogprobs(logits: Float32Array, id: number, top: number): StepLogprobs {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) { const l = logits[i] as number; if (l > max) max = l; }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp((logits[i] as number) - max);
  const logZ = max + Math.log(sum);
  const bestIds: number[] = [];
  const bestLogits: number[] = [];
  if (top > 0) {
    for (let i = 0; i < n; i++) {
      const l = logits[i] as number;
      if (bestIds.length === top && l <= (bestLogits[top - 1] as number)) continue; // strict: an equal later id loses the tie
      let at = bestIds.length;
      while (at > 0 && l > (bestLogits[at - 1] as number)) at--;
      bestIds.splice(at, 0, i);
      bestLogits.splice(at, 0, l);
      if (bestIds.length > top) { bestIds.pop(); bestLogits.pop(); }
    }
  }
  return {
    logprob: (logits[id] as number) - logZ,
    top: bestIds.map((tid, i) => ({ id: tid, logprob: (bestLogits[i] as number) - logZ })),
  };
}
