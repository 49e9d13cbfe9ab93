// The sampler chain end to end: greedy default, seeded draws (same seed → same sequence), empirical
// frequencies over 20k draws against the softmax, and option validation errors.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../util/errors.js";
import { createSampler, validateSampling, type SamplingOptions } from "./sampler.js";
import { createRng } from "./rng.js";

const P = [0.2, 0.4, 0.1, 0.3];
const LOGITS = new Float32Array(P.map(Math.log));

test("default sampler is greedy", () => {
  const s = createSampler(4);
  assert.deepEqual(s.stages.map((x) => x.name), ["greedy"]);
  assert.equal(s.sample(LOGITS), 1);
  assert.equal(createSampler(4, { temperature: 0, seed: 5 }).sample(LOGITS), 1);
});

test("sampling chain order: top-k → top-p → temperature → draw, with llama.cpp's defaults", () => {
  const s = createSampler(4, { temperature: 0.8 });
  assert.deepEqual(s.stages.map((x) => x.name), ["top-k(40)", "top-p(0.95)", "temperature(0.8)", "draw"]);
});

function drawSeq(opts: SamplingOptions, n: number): number[] {
  const s = createSampler(4, opts);
  return Array.from({ length: n }, () => s.sample(LOGITS));
}

test("seeded draws: the same seed gives the same sequence, a different seed a different one", () => {
  const base = { temperature: 1, topK: 0, topP: 1 };
  const a = drawSeq({ ...base, seed: 42 }, 200);
  assert.deepEqual(drawSeq({ ...base, seed: 42 }, 200), a);
  assert.notDeepEqual(drawSeq({ ...base, seed: 43 }, 200), a);
  assert.notDeepEqual(drawSeq({ ...base }, 200), a, "default seed 0");
});

test("empirical frequencies over 20k draws are within 0.02 of the softmax", () => {
  const n = 20000;
  const counts = [0, 0, 0, 0];
  const s = createSampler(4, { temperature: 1, topK: 0, topP: 1, seed: 7 });
  for (let i = 0; i < n; i++) counts[s.sample(LOGITS)]! += 1;
  for (let i = 0; i < 4; i++) {
    const f = (counts[i] as number) / n;
    assert.ok(Math.abs(f - (P[i] as number)) < 0.02, `token ${i}: frequency ${f}, probability ${P[i]}`);
  }
});

test("top-k 2 draws only the two most likely tokens; a tiny temperature is greedy", () => {
  const seen = new Set(drawSeq({ temperature: 1, topK: 2, topP: 1, seed: 1 }, 500));
  assert.deepEqual([...seen].sort(), [1, 3]);
  assert.deepEqual(new Set(drawSeq({ temperature: 0.01, topK: 0, topP: 1, seed: 1 }, 200)), new Set([1]));
});

test("validateSampling: out-of-range options are INVALID_ARGUMENT naming the option", () => {
  const bad: Array<[SamplingOptions, string]> = [
    [{ temperature: -1 }, "temperature"], [{ temperature: Number.NaN }, "temperature"],
    [{ topP: 0 }, "topP"], [{ topP: 1.5 }, "topP"],
    [{ topK: 1.5 }, "topK"], [{ topK: -1 }, "topK"],
    [{ seed: -1 }, "seed"], [{ seed: 0.5 }, "seed"], [{ seed: 2 ** 32 }, "seed"],
  ];
  for (const [o, name] of bad) {
    assert.throws(() => validateSampling(o), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && e.message.includes(name),
      JSON.stringify(o));
    assert.throws(() => createSampler(4, o), PeelError);
  }
  validateSampling({ temperature: 0, topK: 0, topP: 1, seed: 0xffffffff });
});

test("rng: uniform in [0, 1), reproducible per seed, mean ≈ 1/2", () => {
  const a = createRng(123), b = createRng(123), c = createRng(124);
  const xs = Array.from({ length: 10000 }, () => a.next());
  assert.deepEqual(Array.from({ length: 10000 }, () => b.next()), xs);
  assert.notEqual(c.next(), xs[0]);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
});
