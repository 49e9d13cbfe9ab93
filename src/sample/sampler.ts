/**
 * The sampler: builds a stage chain from user options and turns one step's logits into a token id.
 * The chain, in llama.cpp's order: logit bias → penalties → (greedy, at temperature 0, the default; otherwise
 * top-k → typical-p → top-p → min-p → temperature → seeded draw). Stages left at their "off" values are not in the chain.
 * A grammar (structured output) runs as llama.cpp runs it: the chain picks a token; if the grammar refuses it,
 * the logits are taken again, every refused token is removed, and the chain picks again from what is left.
 * (So a sampled pick is not drawn from exactly the masked distribution — a refused first pick is redrawn —
 * the price llama.cpp also pays for not masking the whole vocabulary each step; greedy picks are exact.)
 */

import { PeelError } from "../util/errors.js";
import { createCandidates, fillCandidates, type Candidates } from "./candidates.js";
import { createRng } from "./rng.js";
import { draw, greedy, temperature, topK, topP, type SamplerStage } from "./stages.js";
import { logitBias } from "./logit-bias.js";
import { minP } from "./min-p.js";
import { typicalP } from "./typical-p.js";
import { penalties } from "./penalties.js";
import type { Grammar } from "./grammar/grammar.js";
import { grammarStage, type GrammarStage } from "./grammar/grammar-stage.js";
import { tokenTableFor, type TokenSource } from "./grammar/token-table.js";

export interface SamplingOptions {
  /** 0 = greedy (default). */
  readonly temperature?: number;
  /** Keep the k most likely tokens; 0 = off (default 40 when sampling, as llama.cpp). */
  readonly topK?: number;
  /** Nucleus mass in (0, 1]; 1 = off (default 0.95 when sampling, as llama.cpp). */
  readonly topP?: number;
  /** Seed for the random draw; the same seed gives the same tokens. Default 0. */
  readonly seed?: number;
  /** Locally typical sampling mass in (0, 1]; 1 = off (default). */
  readonly typicalP?: number;
  /** Keep tokens with probability ≥ minP × the top token's, in [0, 1]; 0 = off (default). */
  readonly minP?: number;
  /** Divide (positive) or multiply (negative) the logits of recent tokens, > 0; 1 = off (default). */
  readonly repeatPenalty?: number;
  /** Subtract per occurrence of a recent token, in [-2, 2]; 0 = off (default). */
  readonly frequencyPenalty?: number;
  /** Subtract once for any recent token, in [-2, 2]; 0 = off (default). */
  readonly presencePenalty?: number;
  /** How many recent tokens the penalties look at (default 64, as llama.cpp). */
  readonly penaltyLastN?: number;
  /** Added to chosen tokens' logits (-Infinity bans one), by token id. */
  readonly logitBias?: ReadonlyMap<number, number> | Readonly<Record<number, number>>;
  /**
   * Only text this grammar accepts is generated, and end-of-generation only once it is complete (compileGbnf,
   * jsonSchemaToGrammar, grammarForResponseFormat). Needs the tokenizer: see SamplerContext.
   */
  readonly grammar?: Grammar;
}

/** What the sampler needs beyond logits, for a grammar: the tokenizer's token texts and the ids that end generation. */
export interface SamplerContext {
  readonly tokens?: TokenSource;
  /** Ids that end generation besides the tokenizer's end-of-generation tokens (a chat template's end of turn). */
  readonly endTokens?: readonly number[];
}

export interface Sampler {
  readonly stages: readonly SamplerStage[];
  /** The grammar stage, when the options have a grammar; it runs outside `stages`, only when their pick is refused. */
  readonly grammar: GrammarStage | undefined;
  /**
   * Chooses the next token from logits (vocabSize). Does not record it: call accept when the context takes it.
   * `beforePick` sees the candidates the final pick (greedy or the draw) chooses from, after every other stage
   * (when a grammar refuses the first pick, it is called again for the masked second pass).
   */
  sample(logits: Float32Array, beforePick?: (c: Candidates) => void): number;
  /** Records a token the context took, for the penalties' window; a generated one (not `fromPrompt`) also advances the grammar. */
  accept(id: number, fromPrompt?: boolean): void;
  /** Forgets accepted tokens and restarts the grammar. */
  reset(): void;
}

export function validateSampling(o: SamplingOptions): void {
  const bad = (name: string, v: number, range: string) =>
    new PeelError("INVALID_ARGUMENT", `sampling: ${name} must be ${range}, got ${v}`);
  if (o.temperature !== undefined && !(o.temperature >= 0 && o.temperature <= 100)) throw bad("temperature", o.temperature, "between 0 and 100");
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw bad("topK", o.topK, "an integer ≥ 0");
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw bad("topP", o.topP, "in (0, 1]");
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) throw bad("seed", o.seed, "an integer in 0..4294967295");
  if (o.minP !== undefined && !(o.minP >= 0 && o.minP <= 1)) throw bad("minP", o.minP, "in [0, 1]");
  if (o.typicalP !== undefined && !(o.typicalP > 0 && o.typicalP <= 1)) throw bad("typicalP", o.typicalP, "in (0, 1]");
  if (o.repeatPenalty !== undefined && !(o.repeatPenalty > 0 && o.repeatPenalty <= 10)) throw bad("repeatPenalty", o.repeatPenalty, "in (0, 10]");
  if (o.frequencyPenalty !== undefined && !(o.frequencyPenalty >= -2 && o.frequencyPenalty <= 2)) throw bad("frequencyPenalty", o.frequencyPenalty, "in [-2, 2]");
  if (o.presencePenalty !== undefined && !(o.presencePenalty >= -2 && o.presencePenalty <= 2)) throw bad("presencePenalty", o.presencePenalty, "in [-2, 2]");
  if (o.penaltyLastN !== undefined && !(Number.isInteger(o.penaltyLastN) && o.penaltyLastN >= 0 && o.penaltyLastN <= 1 << 20)) throw bad("penaltyLastN", o.penaltyLastN, "an integer in 0..1048576");
  for (const [id, b] of biasEntries(o.logitBias)) {
    if (!Number.isInteger(id) || id < 0) throw new PeelError("INVALID_ARGUMENT", `sampling: logitBias has token id ${id}; ids are integers ≥ 0`);
    if (Number.isNaN(b) || b === Infinity) throw new PeelError("INVALID_ARGUMENT", `sampling: logitBias for token ${id} must be a number or -Infinity, got ${b}`);
  }
}

function biasEntries(b: SamplingOptions["logitBias"]): Array<[number, number]> {
  if (b === undefined) return [];
  return b instanceof Map ? [...b] : Object.entries(b).map(([k, v]) => [Number(k), v as number]);
}

export function createSampler(vocabSize: number, o: SamplingOptions = {}, context: SamplerContext = {}): Sampler {
  validateSampling(o);
  const t = o.temperature ?? 0;
  const bias = new Map(biasEntries(o.logitBias));
  for (const id of bias.keys()) {
    if (id >= vocabSize) throw new PeelError("INVALID_ARGUMENT", `sampling: logitBias has token id ${id}, outside the vocabulary (0..${vocabSize - 1})`);
  }
  const repeat = o.repeatPenalty ?? 1, frequency = o.frequencyPenalty ?? 0, presence = o.presencePenalty ?? 0;
  const first: SamplerStage[] = [
    ...(bias.size > 0 ? [logitBias(bias)] : []),
    ...(repeat !== 1 || frequency !== 0 || presence !== 0 ? [penalties({ repeat, frequency, presence, lastN: o.penaltyLastN ?? 64 })] : []),
  ];
  const stages: SamplerStage[] = t === 0
    ? [...first, greedy()]
    : [...first, topK(o.topK ?? 40), ...((o.typicalP ?? 1) < 1 ? [typicalP(o.typicalP ?? 1)] : []), topP(o.topP ?? 0.95), ...((o.minP ?? 0) > 0 ? [minP(o.minP ?? 0)] : []), temperature(t), draw(createRng(o.seed ?? 0))];
  const cands: Candidates = createCandidates(vocabSize);
  const grammar = o.grammar === undefined ? undefined : grammarFor(vocabSize, o.grammar, context);
  return {
    stages,
    grammar,
    sample(logits, beforePick) {
      const run = () => {
        const last = stages.length - 1;
        for (let i = 0; i < stages.length; i++) {
          if (i === last) beforePick?.(cands);
          (stages[i] as SamplerStage).apply(cands);
        }
      };
      fillCandidates(cands, logits);
      run();
      const id = cands.ids[0] as number;
      if (grammar === undefined || grammar.allows(id)) return id;
      // llama.cpp's order: check the pick first, mask the whole vocabulary only when it is refused
      fillCandidates(cands, logits);
      grammar.apply(cands);
      run();
      return cands.ids[0] as number;
    },
    accept(id, fromPrompt = false) {
      for (const s of stages) s.accept?.(id);
      grammar?.accept(id, fromPrompt);
    },
    reset() {
      for (const s of stages) s.reset?.();
      grammar?.reset();
    },
  };
}

function grammarFor(vocabSize: number, g: Grammar, context: SamplerContext): GrammarStage {
  if (context.tokens === undefined) throw new PeelError("INVALID_ARGUMENT", "sampling: a grammar needs the tokenizer's token texts; pass { tokens: model.tokenizer } as the sampler context (generate() does this)");
  if (context.tokens.vocabSize > vocabSize) throw new PeelError("INVALID_ARGUMENT", `sampling: the tokenizer has ${context.tokens.vocabSize} tokens but the logits only ${vocabSize}`);
  return grammarStage(g, tokenTableFor(context.tokens), context.endTokens ?? []);
}
