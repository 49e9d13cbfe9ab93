/**
 * Logit bias: adds a fixed amount to chosen tokens' logits before any other stage (−Infinity bans a token), as
 * llama.cpp's logit_bias sampler and OpenAI's `logit_bias` do. Ids outside the vocabulary are refused when the
 * sampler is built, not here.
 */

import type { Candidates } from "./candidates.js";
import type { SamplerStage } from "./stages.js";

export function logitBias(bias: ReadonlyMap<number, number>): SamplerStage {
  return {
    name: `logit-bias(${bias.size} tokens)`,
    apply(c: Candidates) {
      if (bias.size === 0) return;
      for (let i = 0; i < c.size; i++) {
        const b = bias.get(c.ids[i] as number);
        if (b !== undefined) c.logits[i] = (c.logits[i] as number) + b;
      }
      c.sorted = false;
    },
  };
}
