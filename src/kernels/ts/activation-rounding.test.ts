// The activation rounding that mirrors llama.cpp's vec_dot conversions, on hand-computed blocks:
// Q8_0 (scale amax/127 kept as f16, ties to even), Q8_1's s correction, Q8_K (signed max, f32 scale).

import { test } from "node:test";
import assert from "node:assert/strict";
import { activationRoundingFor, roundActivations } from "./activation-rounding.js";
import { roundToF16 } from "../../tensor/f16.js";

test("activationRoundingFor pairs each weight type with llama.cpp's vec_dot type", () => {
  assert.equal(activationRoundingFor("F32"), "none");
  assert.equal(activationRoundingFor("F16"), "f16");
  assert.equal(activationRoundingFor("BF16"), "bf16");
  for (const d of ["Q4_0", "Q5_0", "Q8_0"] as const) assert.equal(activationRoundingFor(d), "q8_0");
  for (const d of ["Q4_1", "Q5_1"] as const) assert.equal(activationRoundingFor(d), "q8_1");
  for (const d of ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"] as const) assert.equal(activationRoundingFor(d), "q8_k");
});

test("q8_0 with amax 127: scale 1, values rounded half to even", () => {
  const x = new Float32Array(32);
  x.set([127, 0.5, 1.5, 2.5, -0.5, -1.5, 3.4, -3.6, 126.5]);
  const out = new Float32Array(32);
  roundActivations("q8_0", out, x, 32);
  assert.deepEqual([...out.subarray(0, 9)], [127, 0, 2, 2, -0, -2, 3, -4, 126]);
  assert.ok(out.subarray(9).every((v) => v === 0));
});

test("q8_0 with amax 1: the scale 1/127 is stored as f16 (1032/131072), so 1 comes back as 0.99993896484375", () => {
  const x = new Float32Array(64);
  x[0] = 1; x[1] = 0.5; x[2] = -0.25; // block 0; block 1 is all zeros (scale 0)
  const out = new Float32Array(64).fill(9);
  roundActivations("q8_0", out, x, 64);
  const d = 1032 / 131072; // f16(1/127): 2^-7 · (1 + 8/1024)
  assert.equal(roundToF16(1 / 127), d);
  // q = round(x · 127): 127, 63.5 → 64 (even), −31.75 → −32
  assert.deepEqual([...out.subarray(0, 3)], [127 * d, 64 * d, -32 * d]);
  assert.equal(out[0], 0.99993896484375);
  assert.ok(out.subarray(32).every((v) => v === 0));
});

test("q8_1 s correction: f16(d·Σq) − f16(d)·Σq, hand value 2^-9 for a block of ones", () => {
  const x = new Float32Array(32).fill(1);
  const out = new Float32Array(32);
  const s = new Float32Array(1);
  roundActivations("q8_1", out, x, 32, s);
  // q = 127 everywhere, Σq = 4064; d·Σq ≈ 32.00000008 → f16 32; f16(d)·Σq = 1032/131072 · 4064 = 31.998046875
  assert.equal(s[0], 32 - 31.998046875);
  assert.equal(s[0], 2 ** -9);
  assert.ok(out.every((v) => v === 0.99993896484375));
});

test("q8_k: scale from the signed max (first of equal magnitudes), f32 scale, ties to even, clamp at 127", () => {
  const x = new Float32Array(256);
  x.set([4, 1, -4, 2, 0.5]); // max = +4 (found first), iscale = −127/4 = −31.75
  const out = new Float32Array(256);
  roundActivations("q8_k", out, x, 256);
  const d = Math.fround(1 / -31.75);
  // q: round(−127) = −127; round(−31.75) = −32; round(127) = 127; round(−63.5) = −64 (even); round(−15.875) = −16
  const q = [-127, -32, 127, -64, -16];
  assert.deepEqual([...out.subarray(0, 5)], q.map((v) => Math.fround(d * v)));
  assert.ok(Math.abs((out[1] as number) - 32 / 31.75) < 1e-6);
  assert.ok(out.subarray(5).every((v) => v === 0 || Object.is(v, -0)));
});

test("q8_k with a negative max and an all-zero block", () => {
  const x = new Float32Array(512);
  x.set([-127, 2.5, 3.5, -0.5]); // iscale = 1, d = 1: plain ties-to-even rounding
  const out = new Float32Array(512).fill(7);
  roundActivations("q8_k", out, x, 512);
  assert.deepEqual([...out.subarray(0, 4)], [-127, 2, 4, -0]);
  assert.ok(out.subarray(256).every((v) => v === 0), "zero block");
});

test("none, f16 and bf16 rounding", () => {
  const x = new Float32Array([1 + 2 ** -12, 1 + 2 ** -9, 3.14159, -65504]);
  const out = new Float32Array(4);
  roundActivations("none", out, x, 4);
  assert.deepEqual([...out], [...x]);
  roundActivations("f16", out, x, 4);
  assert.deepEqual([...out], [1, 1 + 2 ** -9, 3.140625, -65504]);
  roundActivations("bf16", out, x, 4);
  assert.deepEqual([...out], [1, 1, 3.140625, -65536]);
});
