/**
 * Sampler stages, each a small object that narrows or reshapes the candidates in place, in the order
 * llama.cpp's default chain uses: top-k → top-p → temperature → pick (greedy or a seeded random draw).
 * Each stage is pure given its parameters, so a chain can be rebuilt from options at any time.
 */

import type { Candidates } from "./candidates.js";
import { keepTopCandidates, softmaxCandidates, sortCandidates } from "./candidates.js";
import type { Rng } from "./rng.js";

export interface SamplerStage {
  readonly name: string;
  apply(c: Candidates): void;
  /** Told each token the context takes (prompt and generated), for stages with memory (penalties). */
  accept?(id: number): void;
  /** Forgets what accept recorded. */
  reset?(): void;
}

/** Keeps the k most likely tokens (k ≤ 0: keep all). */
export function topK(k: number): SamplerStage {
  return {
    name: `top-k(${k})`,
    apply(c) {
      if (k <= 0 || k >= c.size) return;
      keepTopCandidates(c, k);
    },
  };
}

/** Keeps the smallest set of most likely tokens whose probability mass reaches p (at least one token). */
export function topP(p: number): SamplerStage {
  return {
    name: `top-p(${p})`,
    apply(c) {
      if (p >= 1) return;
      sortCandidates(c);
      softmaxCandidates(c);
      let cum = 0;
      for (let i = 0; i < c.size; i++) {
        cum += c.probs[i] as number;
        if (cum >= p) {
          c.size = i + 1;
          return;
        }
      }
    },
  };
}

/** Divides logits by the temperature (> 0). */
export function temperature(t: number): SamplerStage {
  return {
    name: `temperature(${t})`,
    apply(c) {
      for (let i = 0; i < c.size; i++) c.logits[i] = (c.logits[i] as number) / t;
    },
  };
}

/** Picks the highest-logit candidate (ties: lowest id), leaving it alone in the record. */
export function greedy(): SamplerStage {
  return {
    name: "greedy",
    apply(c) {
      let best = 0;
      for (let i = 1; i < c.size; i++) {
        const l = c.logits[i] as number, bl = c.logits[best] as number;
        if (l > bl || (l === bl && (c.ids[i] as number) < (c.ids[best] as number))) best = i;
      }
      c.ids[0] = c.ids[best] as number;
      c.logits[0] = c.logits[best] as number;
      c.probs[0] = 1;
      c.size = 1;
      c.sorted = true;
    },
  };
}

/** Draws one candidate in proportion to softmax(logits) with the given Rng. */
export function draw(rng: Rng): SamplerStage {
  return {
    name: "draw",
    apply(c) {
      sortCandidates(c); // a fixed order makes the draw reproducible from the seed alone
      softmaxCandidates(c);
      const u = rng.next();
      let cum = 0;
      let pick = c.size - 1;
      for (let i = 0; i < c.size; i++) {
        cum += c.probs[i] as number;
        if (u < cum) { pick = i; break; }
      }
      c.ids[0] = c.ids[pick] as number;
      c.logits[0] = c.logits[pick] as number;
      c.probs[0] = c.probs[pick] as number;
      c.size = 1;
    },
  };
}
