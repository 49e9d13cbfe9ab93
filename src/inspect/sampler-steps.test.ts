// samplerSteps on the hand 4-token distribution p = [0.2, 0.4, 0.1, 0.3] (sample/'s tests use it too): the
// stages sample/ builds, how many candidates each keeps, the renormalised probabilities, and that its pick
// is the sampler's own.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createSampler } from "../sample/sampler.js";
import { PeelError } from "../util/errors.js";
import { samplerSteps } from "./sampler-steps.js";

const P = [0.2, 0.4, 0.1, 0.3];
const LOGITS = new Float32Array(P.map(Math.log));
const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;

test("greedy: one stage, 4 candidates before and 1 after", () => {
  const r = samplerSteps(LOGITS);
  assert.deepEqual(r.stages.map((s) => [s.stage, s.before.size, s.after.size]), [["greedy", 4, 1]]);
  assert.deepEqual(r.stages[0]!.before.top.map((t) => t.id), [1, 3, 0, 2]);
  assert.ok(r.stages[0]!.before.top.every((t) => close(t.prob, P[t.id]!)));
  assert.equal(r.chosen, 1);
});

test("top-k 3 → top-p 0.8 → temperature 2 → draw: survivors and renormalised probabilities per stage", () => {
  const opts = { temperature: 2, topK: 3, topP: 0.8, seed: 9 };
  const r = samplerSteps(LOGITS, opts);
  assert.deepEqual(r.stages.map((s) => [s.stage, s.before.size, s.after.size]),
    [["top-k(3)", 4, 3], ["top-p(0.8)", 3, 3], ["temperature(2)", 3, 3], ["draw", 3, 1]]);
  // after top-k 3: {1, 3, 0} with 0.4, 0.3, 0.2 renormalised by 0.9 (top-p 0.8 keeps all three: 4/9 + 3/9 < 0.8)
  const afterK = r.stages[0]!.after.top;
  assert.deepEqual(afterK.map((t) => t.id), [1, 3, 0]);
  assert.ok(close(afterK[0]!.prob, 0.4 / 0.9));
  // temperature 2 turns them into √p renormalised
  const z = Math.sqrt(0.4) + Math.sqrt(0.3) + Math.sqrt(0.2);
  const afterT = r.stages[2]!.after.top;
  assert.ok(close(afterT[0]!.prob, Math.sqrt(0.4) / z) && close(afterT[2]!.prob, Math.sqrt(0.2) / z));
  assert.equal(r.chosen, createSampler(4, opts).sample(LOGITS), "the same seed picks the same token");
  assert.deepEqual(r.stages[3]!.after.top.map((t) => t.id), [r.chosen]);
});

test("topN bounds the lists; bad options are the sampler's own errors", () => {
  const r = samplerSteps(LOGITS, { temperature: 1, topK: 0, topP: 1 }, 2);
  assert.ok(r.stages.every((s) => s.before.top.length <= 2 && s.after.top.length <= 2));
  assert.throws(() => samplerSteps(LOGITS, { topP: 2 }), (e: unknown) => e instanceof PeelError && e.message.includes("topP"));
  assert.throws(() => samplerSteps(LOGITS, {}, 0), (e: unknown) => e instanceof PeelError && e.message.includes("topN"));
});
