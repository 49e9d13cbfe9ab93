/**
 * The two checks every llama.cpp parity test runs on a Peel model, given llama.cpp's run (llama-cpp.ts):
 * forced decoding (Peel is fed llama.cpp's own greedy tokens, and each step's distribution is compared with
 * llama.cpp's top five) and a free greedy run (Peel's tokens equal llama.cpp's until llama.cpp's top two come
 * within a near-tie). Tolerances stay with each test: this file only measures and asserts what all share.
 */

import assert from "node:assert/strict";
import { createSession } from "../../src/generate/session.js";
import { generate } from "../../src/generate/generate.js";
import type { Model } from "../../src/model/model.js";
import { softmax, type ReferenceRun } from "./llama-cpp.js";

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[best] as number)) best = i;
  return best;
}

export interface ForcedDecoding {
  /** Per position, the largest |Peel p − llama.cpp p| over llama.cpp's top five. */
  readonly diffs: readonly number[];
  /** llama.cpp's mean top-1 probability (a fixture near 1 everywhere would test nothing). */
  readonly meanTop1: number;
}

/**
 * Prefills `prompt`, then feeds llama.cpp's greedy tokens one step at a time. Asserts Peel's top-1 wherever
 * llama.cpp's top two are more than `nearTie` apart, and that the fixture is not saturated.
 */
export function forcedDecoding(model: Model, prompt: readonly number[], ref: ReferenceRun, contextLength: number, nearTie: number): ForcedDecoding {
  const session = createSession(model, { contextLength, flashAttention: ref.flashAttention });
  const diffs: number[] = [];
  for (let i = 0; i < ref.dists.length; i++) {
    const p = softmax(session.evaluate(i === 0 ? [...prompt] : [ref.greedy[i - 1] as number]));
    const top = [...ref.dists[i]!.entries()].slice(0, 5);
    const gap = (top[0]?.[1] ?? 0) - (top[1]?.[1] ?? 0);
    if (gap > nearTie) assert.equal(argmax(p), top[0]![0], `position ${prompt.length + i}: top-1 differs (llama.cpp gap ${gap.toFixed(4)})`);
    diffs.push(Math.max(...top.map(([id, pr]) => Math.abs((p[id] as number) - pr))));
  }
  const meanTop1 = ref.dists.reduce((a, d) => a + (d.values().next().value ?? 0), 0) / ref.dists.length;
  assert.ok(meanTop1 < 0.97, `fixture too peaked to test anything: mean top-1 probability ${meanTop1.toFixed(3)}`);
  return { diffs, meanTop1 };
}

/** Forced decoding's per-position top-5 |Δp| alone, asserting nothing (for comparisons that are reported, not gated). */
export function forcedDiffs(model: Model, prompt: readonly number[], ref: ReferenceRun, contextLength: number): number[] {
  const session = createSession(model, { contextLength, flashAttention: ref.flashAttention });
  return ref.dists.map((dist, i) => {
    const p = softmax(session.evaluate(i === 0 ? [...prompt] : [ref.greedy[i - 1] as number]));
    return Math.max(...[...dist.entries()].slice(0, 5).map(([id, pr]) => Math.abs((p[id] as number) - pr)));
  });
}

/** Tokens of the free greedy run unless a test asks for more (see greedyAgreement). */
export const GREEDY_CHECK_TOKENS = 8;

/**
 * Peel's own greedy run against llama.cpp's: asserts the tokens are equal up to llama.cpp's first step whose
 * top two are closer than `nearTie`; returns how many tokens were compared. Forced decoding already asserts
 * Peel's top-1 at every position where llama.cpp is not near a tie, so this run's job is the generate() loop end
 * to end (sampling at temperature 0, feeding its own tokens back): its first `maxTokens` (default
 * GREEDY_CHECK_TOKENS) show that, and the rest would repeat forced decoding's work at the cost of a second decode.
 */
export async function greedyAgreement(model: Model, prompt: readonly number[], ref: ReferenceRun, contextLength: number, nearTie: number,
  maxTokens = GREEDY_CHECK_TOKENS): Promise<number> {
  const n = Math.min(maxTokens, ref.greedy.length);
  const gen = generate(model, [...prompt], { maxTokens: n, contextLength, flashAttention: ref.flashAttention });
  for await (const _ of gen) { /* drain */ }
  let compared = 0;
  for (; compared < n; compared++) {
    const top = [...ref.dists[compared]!.values()];
    if ((top[0] ?? 0) - (top[1] ?? 0) < nearTie) break;
    assert.equal(gen.tokens[compared], ref.greedy[compared], `greedy token ${compared} differs`);
  }
  return compared;
}
