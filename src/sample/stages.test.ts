// Sampler stages on a hand 4-token distribution p = [0.2, 0.4, 0.1, 0.3] (logits ln p): which tokens
// each stage keeps, in which order, and what temperature does to the probabilities.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createCandidates, fillCandidates, softmaxCandidates, sortCandidates, type Candidates } from "./candidates.js";
import { draw, greedy, temperature, topK, topP } from "./stages.js";

const P = [0.2, 0.4, 0.1, 0.3];
const LOGITS = new Float32Array(P.map(Math.log));

function fresh(logits: Float32Array = LOGITS): Candidates {
  const c = createCandidates(logits.length);
  fillCandidates(c, logits);
  return c;
}

const kept = (c: Candidates) => [...c.ids.subarray(0, c.size)];

test("candidates: fill keeps every token unsorted; sort orders by logit, ties by lower id", () => {
  const c = fresh(new Float32Array([1, 3, 3, 0]));
  assert.deepEqual(kept(c), [0, 1, 2, 3]);
  assert.equal(c.sorted, false);
  sortCandidates(c);
  assert.deepEqual(kept(c), [1, 2, 0, 3]);
  assert.deepEqual([...c.logits], [3, 3, 1, 0]);
  softmaxCandidates(c);
  assert.ok(Math.abs(c.probs.reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test("greedy picks the most likely token (id 1)", () => {
  const c = fresh();
  greedy().apply(c);
  assert.deepEqual(kept(c), [1]);
  const tie = fresh(new Float32Array([0, 2, 2, 1]));
  greedy().apply(tie);
  assert.deepEqual(kept(tie), [1], "ties go to the lower id");
});

test("top-k keeps the k most likely tokens; 0 and k ≥ size keep all", () => {
  const c = fresh();
  topK(2).apply(c);
  assert.deepEqual(kept(c), [1, 3]);
  const c1 = fresh();
  topK(1).apply(c1);
  assert.deepEqual(kept(c1), [1]);
  for (const k of [0, 4, 10]) {
    const all = fresh();
    topK(k).apply(all);
    assert.equal(all.size, 4, `k = ${k}`);
  }
});

test("top-p keeps the smallest most-likely set reaching the mass p", () => {
  const cases: Array<[number, number[]]> = [[0.35, [1]], [0.6, [1, 3]], [0.8, [1, 3, 0]], [0.95, [1, 3, 0, 2]], [1, [0, 1, 2, 3]]];
  for (const [p, want] of cases) {
    const c = fresh();
    topP(p).apply(c);
    assert.deepEqual(kept(c).sort(), [...want].sort(), `p = ${p}`);
  }
});

test("top-k then top-p renormalises over the survivors", () => {
  const c = fresh();
  topK(2).apply(c); // {1: 0.4, 3: 0.3} → renormalised 4/7, 3/7
  topP(0.5).apply(c);
  assert.deepEqual(kept(c), [1]);
  const d = fresh();
  topK(2).apply(d);
  topP(0.6).apply(d); // 4/7 ≈ 0.571 < 0.6 → both stay
  assert.deepEqual(kept(d), [1, 3]);
});

test("temperature divides logits: T = 2 turns p into √p renormalised", () => {
  const c = fresh();
  temperature(2).apply(c);
  softmaxCandidates(c);
  const z = P.reduce((a, p) => a + Math.sqrt(p), 0);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs((c.probs[i] as number) - Math.sqrt(P[i] as number) / z) < 1e-6);
  const cold = fresh();
  temperature(0.5).apply(cold); // p² renormalised
  softmaxCandidates(cold);
  const z2 = P.reduce((a, p) => a + p * p, 0);
  assert.ok(Math.abs((cold.probs[1] as number) - 0.16 / z2) < 1e-6);
});

test("draw: u just below the cumulative mass picks that token", () => {
  // sorted order 1 (0.4), 3 (0.3), 0 (0.2), 2 (0.1): u = 0.39 → 1, 0.41 → 3, 0.71 → 0, 0.95 → 2
  for (const [u, id] of [[0, 1], [0.39, 1], [0.41, 3], [0.71, 0], [0.95, 2], [0.999999, 2]] as const) {
    const c = fresh();
    draw({ next: () => u }).apply(c);
    assert.deepEqual(kept(c), [id], `u = ${u}`);
  }
});
