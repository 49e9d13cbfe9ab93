/**
 * Small helpers over one next-token distribution that several inspector views share: softmax in float64
 * (so tiny probabilities and KL divergences are not lost to f32 rounding), the top-k tokens, the rank of a
 * token, and KL divergence. Reading aids on a copy of the logits, not part of any forward pass; the model's
 * own math stays in kernels/.
 */

/** One token of a distribution: its id, logit and probability. */
export interface TokenProb {
  readonly id: number;
  readonly logit: number;
  readonly prob: number;
}

/** softmax(logits[0..n)) in float64. */
export function softmax64(logits: ArrayLike<number>, n: number = logits.length): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i] as number);
  const p = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp((logits[i] as number) - max);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) p[i] = (p[i] as number) / sum;
  return p;
}

/** a ranks before b: higher logit, ties to the lower id (the order of sample/candidates.ts's sort). */
const before = (la: number, ia: number, lb: number, ib: number) => la > lb || (la === lb && ia < ib);

/**
 * The k highest-logit entries of logits[0..n), best first. `ids` maps an entry to its token id (default:
 * the index); `probs` gives each entry's probability (default: softmax over the n entries).
 */
export function topTokens(logits: ArrayLike<number>, k: number, n: number = logits.length,
  ids?: ArrayLike<number>, probs?: ArrayLike<number>): TokenProb[] {
  const p = probs ?? softmax64(logits, n);
  const idOf = (i: number) => (ids === undefined ? i : (ids[i] as number));
  const best: number[] = []; // indices, kept sorted best first; k is small, so insertion is cheap
  for (let i = 0; i < n; i++) {
    const l = logits[i] as number;
    if (best.length === k) {
      const w = best[k - 1] as number;
      if (!before(l, idOf(i), logits[w] as number, idOf(w))) continue;
      best.pop();
    }
    let j = best.length;
    while (j > 0 && before(l, idOf(i), logits[best[j - 1] as number] as number, idOf(best[j - 1] as number))) j--;
    best.splice(j, 0, i);
  }
  return best.map((i) => ({ id: idOf(i), logit: logits[i] as number, prob: p[i] as number }));
}

/** 0-based rank of token `id` in logits (vocabSize): how many tokens come before it in the sorted order. */
export function rankOf(logits: ArrayLike<number>, id: number): number {
  const l = logits[id] as number;
  let r = 0;
  for (let i = 0; i < logits.length; i++) if (before(logits[i] as number, i, l, id)) r++;
  return r;
}

/** KL(p ‖ q) = Σ p·ln(p/q) in nats; terms with p = 0 add nothing. Infinity when q = 0 where p > 0. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] as number;
    if (pi > 0) kl += pi * Math.log(pi / (q[i] as number));
  }
  return Math.max(0, kl); // rounding can leave −1e-17 for equal distributions
}
