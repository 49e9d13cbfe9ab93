// rmsNorm on hand vectors (exact in f32), and its invariants: scaling the input does not change the output,
// and the output row has mean square equal to the gain's (for a unit gain, 1) when eps is 0.

import { test } from "node:test";
import assert from "node:assert/strict";
import { rmsNorm } from "./norm.js";

test("rmsNorm: hand rows (mean square 4 → scale 1/2), with gain and eps", () => {
  // row 0: [2,2,2,2], mean(x²) = 4, eps 0 → x/2 = 1, times gain [1,2,3,4]
  // row 1: [1,-1,1,-1], mean(x²) = 1, eps 3 → 1/sqrt(4) = 1/2
  const x = new Float32Array([2, 2, 2, 2, 1, -1, 1, -1]);
  const w = new Float32Array([1, 2, 3, 4]);
  const out = new Float32Array(8);
  rmsNorm(out, x.subarray(0, 4), w, 0, 1, 4);
  assert.deepEqual([...out.subarray(0, 4)], [1, 2, 3, 4]);
  rmsNorm(out, x, w, 3, 2, 4);
  assert.deepEqual([...out.subarray(4, 8)], [0.5, -1, 1.5, -2]);
});

test("rmsNorm: scale invariance and unit mean square (eps 0)", () => {
  const dim = 16;
  const x = new Float32Array(dim).map((_, i) => Math.sin(i + 1) * 3);
  const x2 = x.map((v) => v * 64); // a power of two keeps the input exact
  const ones = new Float32Array(dim).fill(1);
  const a = new Float32Array(dim), b = new Float32Array(dim);
  rmsNorm(a, x, ones, 0, 1, dim);
  rmsNorm(b, x2, ones, 0, 1, dim);
  for (let i = 0; i < dim; i++) assert.ok(Math.abs((a[i] as number) - (b[i] as number)) < 1e-6, `dim ${i}`);
  const ms = a.reduce((s, v) => s + v * v, 0) / dim;
  assert.ok(Math.abs(ms - 1) < 1e-6, `mean square ${ms}`);
});
