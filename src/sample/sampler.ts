/**
 * The sampler: builds a stage chain from user options and turns one step's logits into a token id.
 * Temperature 0 (the default) means greedy decoding; otherwise top-k → top-p → temperature → seeded draw.
 */

import { PeelError } from "../util/errors.js";
import { createCandidates, fillCandidates, type Candidates } from "./candidates.js";
import { createRng } from "./rng.js";
import { draw, greedy, temperature, topK, topP, type SamplerStage } from "./stages.js";

export interface SamplingOptions {
  /** 0 = greedy (default). */
  readonly temperature?: number;
  /** Keep the k most likely tokens; 0 = off (default 40 when sampling, as llama.cpp). */
  readonly topK?: number;
  /** Nucleus mass in (0, 1]; 1 = off (default 0.95 when sampling, as llama.cpp). */
  readonly topP?: number;
  /** Seed for the random draw; the same seed gives the same tokens. Default 0. */
  readonly seed?: number;
}

export interface Sampler {
  readonly stages: readonly SamplerStage[];
  /** Chooses the next token from logits (vocabSize). */
  sample(logits: Float32Array): number;
}

export function validateSampling(o: SamplingOptions): void {
  const bad = (name: string, v: number, range: string) =>
    new PeelError("INVALID_ARGUMENT", `sampling: ${name} must be ${range}, got ${v}`);
  if (o.temperature !== undefined && !(o.temperature >= 0 && o.temperature <= 100)) throw bad("temperature", o.temperature, "between 0 and 100");
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw bad("topK", o.topK, "an integer ≥ 0");
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw bad("topP", o.topP, "in (0, 1]");
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) throw bad("seed", o.seed, "an integer in 0..4294967295");
}

export function createSampler(vocabSize: number, o: SamplingOptions = {}): Sampler {
  validateSampling(o);
  const t = o.temperature ?? 0;
  const stages: SamplerStage[] = t === 0
    ? [greedy()]
    : [topK(o.topK ?? 40), topP(o.topP ?? 0.95), temperature(t), draw(createRng(o.seed ?? 0))];
  const cands: Candidates = createCandidates(vocabSize);
  return {
    stages,
    sample(logits) {
      fillCandidates(cands, logits);
      for (const s of stages) s.apply(cands);
      return cands.ids[0] as number;
    },
  };
}
