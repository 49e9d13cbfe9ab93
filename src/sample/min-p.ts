/**
 * Min-p: keeps the tokens whose probability is at least p times the most likely token's, as llama.cpp's
 * min_p sampler does it, on logits: a token stays when logit ≥ max logit + ln p (the same test without a
 * softmax). Always keeps the top token. p ≤ 0 keeps everything.
 */

import type { Candidates } from "./candidates.js";
import { sortCandidates } from "./candidates.js";
import type { SamplerStage } from "./stages.js";

export function minP(p: number): SamplerStage {
  return {
    name: `min-p(${p})`,
    apply(c: Candidates) {
      if (p <= 0 || c.size <= 1) return;
      sortCandidates(c); // most likely first: the kept tokens are a prefix
      const min = (c.logits[0] as number) + Math.log(p);
      let n = 1;
      while (n < c.size && (c.logits[n] as number) >= min) n++;
      c.size = n;
    },
  };
}
