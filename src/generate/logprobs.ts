/**
 * Log-probabilities of generated tokens, for callers that show how sure the model was (OpenAI's `logprobs`
 * and `top_logprobs`, llama-server's `n_probs`). They are taken from the model's own distribution: the
 * softmax of the raw logits over the whole vocabulary, before logit bias, penalties, truncation (top-k/p,
 * min-p) and temperature. That is llama-server's default (`post_sampling_probs` off) and what OpenAI's API
 * reports, and it means the same whatever the sampling settings (greedy decoding has no distribution of
 * its own to draw from). Computed in f64 from one pass over the logits; the top list is kept by insertion,
 * so n stays small (≤ 20 on the wire). `candidateLogprobs` gives the other reading, llama-server's
 * `post_sampling_probs`: the distribution the final pick drew from (after bias, penalties, truncation and
 * temperature; at temperature 0, after bias and penalties), over the candidates still in play.
 */

import type { Candidates } from "../sample/candidates.js";

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
  const logZ = logSumExp(logits, logits.length);
  return { logprob: (logits[id] as number) - logZ, top: topEntries(logits, logits.length, (i) => i, top, logZ) };
}

/** The candidates in play, copied when the final pick is about to choose among them (the pick collapses the record). */
export interface CandidateSnapshot {
  readonly ids: Int32Array;
  readonly logits: Float32Array;
}

export function snapshotCandidates(c: Candidates): CandidateSnapshot {
  return { ids: c.ids.slice(0, c.size), logits: c.logits.slice(0, c.size) };
}

/** The chosen id's log-probability among the snapshot's candidates (−Infinity when it is not one) and the top ones. */
export function candidateLogprobs(s: CandidateSnapshot, id: number, top: number): StepLogprobs {
  const n = s.ids.length;
  const logZ = logSumExp(s.logits, n);
  const at = s.ids.indexOf(id);
  return { logprob: at >= 0 ? (s.logits[at] as number) - logZ : -Infinity, top: topEntries(s.logits, n, (i) => s.ids[i] as number, top, logZ) };
}

function logSumExp(v: Float32Array, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) { const l = v[i] as number; if (l > max) max = l; }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp((v[i] as number) - max);
  return max + Math.log(sum);
}

/** The `top` largest of v[0..n) as (id, v − logZ), largest first, ties to the lower id; kept by insertion. */
function topEntries(v: Float32Array, n: number, idOf: (i: number) => number, top: number, logZ: number): TokenLogprob[] {
  const best: number[] = []; // indices into v, best first
  const better = (i: number, j: number) => (v[i] as number) > (v[j] as number) || ((v[i] as number) === (v[j] as number) && idOf(i) < idOf(j));
  if (top <= 0) return [];
  for (let i = 0; i < n; i++) {
    if (best.length === top && !better(i, best[top - 1] as number)) continue;
    let at = best.length;
    while (at > 0 && better(i, best[at - 1] as number)) at--;
    best.splice(at, 0, i);
    if (best.length > top) best.pop();
  }
  return best.map((i) => ({ id: idOf(i), logprob: (v[i] as number) - logZ }));
}
