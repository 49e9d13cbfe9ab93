/**
 * Locally typical sampling (typical-p), as llama.cpp's typical sampler does it: tokens are ranked by how far
 * their surprise (−ln p) is from the distribution's entropy, and the most typical ones are kept until their
 * probability mass exceeds p (at least one). The kept tokens are left in that typicality order, unsorted by
 * logit, as llama.cpp leaves them. p ≥ 1 keeps everything. Sorting uses the record's scratch: no allocation.
 */

import type { Candidates } from "./candidates.js";
import { softmaxCandidates } from "./candidates.js";
import type { SamplerStage } from "./stages.js";

export function typicalP(p: number): SamplerStage {
  return {
    name: `typical-p(${p})`,
    apply(c: Candidates) {
      if (p >= 1 || c.size <= 1) return;
      softmaxCandidates(c);
      let entropy = 0;
      for (let i = 0; i < c.size; i++) {
        const pi = c.probs[i] as number;
        if (pi > 0) entropy -= pi * Math.log(pi);
      }
      const shift = (i: number) => Math.abs(-Math.log(c.probs[i] as number) - entropy);
      const order = c.order.subarray(0, c.size);
      for (let i = 0; i < c.size; i++) order[i] = i;
      order.sort((a, b) => shift(a) - shift(b) || a - b);
      let cum = 0, keep = c.size;
      for (let i = 0; i < c.size; i++) {
        cum += c.probs[order[i] as number] as number;
        if (cum > p) { keep = i + 1; break; }
      }
      // reorder the record by typicality, keeping the first `keep` (ids and logits through the scratch arrays)
      for (let i = 0; i < keep; i++) {
        c.tmpIds[i] = c.ids[order[i] as number] as number;
        c.tmpLogits[i] = c.logits[order[i] as number] as number;
      }
      for (let i = 0; i < keep; i++) { c.ids[i] = c.tmpIds[i] as number; c.logits[i] = c.tmpLogits[i] as number; }
      c.size = keep;
      c.sorted = false;
    },
  };
}
