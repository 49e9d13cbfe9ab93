/**
 * The next-token distribution seen through the sampler, stage by stage: the chain sample/sampler.ts builds
 * for the given options (greedy, or top-k → top-p → temperature → seeded draw) runs one stage at a time on
 * one candidates record, and after each we note how many candidates survive and the top of the
 * distribution over the survivors (softmax of their current logits, so temperature shows). The stages
 * are sample/'s own; nothing here re-implements one. (sample/ has no min-p or repetition penalties yet.)
 */

import { createCandidates, fillCandidates, type Candidates } from "../sample/candidates.js";
import { createSampler, type SamplingOptions } from "../sample/sampler.js";
import { PeelError } from "../util/errors.js";
import { checkTopK } from "./check.js";
import { topTokens, type TokenProb } from "./distribution.js";

/** The candidates at one point of the chain. */
export interface CandidateView {
  /** Candidates still in play. */
  readonly size: number;
  /** The most likely of them, probabilities renormalised over the survivors. */
  readonly top: readonly TokenProb[];
}

export interface StageEffect {
  /** The stage's name as sample/ gives it, e.g. "top-k(40)". */
  readonly stage: string;
  readonly before: CandidateView;
  readonly after: CandidateView;
}

export interface SamplerSteps {
  readonly stages: readonly StageEffect[];
  /** The token the chain picks (with a draw: the one this seed draws first). */
  readonly chosen: number;
}

function view(c: Candidates, k: number): CandidateView {
  return { size: c.size, top: topTokens(c.logits, Math.min(k, c.size), c.size, c.ids) };
}

/** Runs `logits` (vocabSize) through the sampler chain of `opts`, reporting each stage's effect. */
export function samplerSteps(logits: Float32Array, opts: SamplingOptions = {}, topN = 10): SamplerSteps {
  checkTopK(topN, "topN");
  if (logits.length === 0) throw new PeelError("INVALID_ARGUMENT", "samplerSteps: the logits are empty");
  const sampler = createSampler(logits.length, opts); // validates the options, builds the stages
  const cands = createCandidates(logits.length);
  fillCandidates(cands, logits);
  const stages: StageEffect[] = [];
  let before = view(cands, topN);
  for (const s of sampler.stages) {
    s.apply(cands);
    const after = view(cands, topN);
    stages.push({ stage: s.name, before, after });
    before = after;
  }
  return { stages, chosen: cands.ids[0] as number };
}
