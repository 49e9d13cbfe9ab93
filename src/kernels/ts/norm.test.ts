// rmsNorm and layerNorm on hand vectors (exact in f32), and their invariants: scaling the input (and, for
// layerNorm, shifting it) does not change the output; with a unit gain and eps 0 the rows are normalized.

import { test } from "node:test";
import assert from "node:assert/strict";
import { layerNorm, rmsNorm } from "./norm.js";

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

test("layerNorm: hand rows (mean 2, variance 1), with gain, bias and eps", () => {
  // row 0: [1,3,1,3] → centred ±1, variance 1, eps 0 → ±1, then ·gain + bias
  // row 1: [5,7,5,7] → the same after centring, eps 3 → scale 1/sqrt(4) = 1/2
  const x = new Float32Array([1, 3, 1, 3, 5, 7, 5, 7]);
  const w = new Float32Array([1, 2, 3, 4]);
  const b = new Float32Array([0.5, 0, -1, 10]);
  const out = new Float32Array(8);
  layerNorm(out, x, w, b, 0, 1, 4);
  assert.deepEqual([...out.subarray(0, 4)], [-0.5, 2, -4, 14]);
  layerNorm(out, x, w, b, 3, 2, 4);
  assert.deepEqual([...out.subarray(4, 8)], [0, 1, -2.5, 12]);
});

test("layerNorm: shift and scale invariance, zero mean and unit variance (unit gain, no bias, eps 0)", () => {
  const dim = 16;
  const x = new Float32Array(dim).map((_, i) => Math.sin(i + 1) * 3);
  const ones = new Float32Array(dim).fill(1), zeros = new Float32Array(dim);
  const a = new Float32Array(dim), b = new Float32Array(dim), c = new Float32Array(dim);
  layerNorm(a, x, ones, zeros, 0, 1, dim);
  layerNorm(b, x.map((v) => v * 64), ones, zeros, 0, 1, dim);
  layerNorm(c, x.map((v) => v + 100), ones, zeros, 0, 1, dim);
  for (let i = 0; i < dim; i++) {
    assert.ok(Math.abs((a[i] as number) - (b[i] as number)) < 1e-6, `scale, dim ${i}`);
    assert.ok(Math.abs((a[i] as number) - (c[i] as number)) < 1e-4, `shift, dim ${i}`); // x + 100 loses low bits in f32
  }
  const mean = a.reduce((s, v) => s + v, 0) / dim;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / dim;
  assert.ok(Math.abs(mean) < 1e-6, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 1e-5, `variance ${variance}`);
});
