// swiglu, addInPlace, addBias, softmax and inference GELU on hand values; softmax sums to 1 and stays finite for
// inputs near 1e4; inference GELU gives f16 values close to the exact formula.

import { test } from "node:test";
import assert from "node:assert/strict";
import { addBias, addInPlace, gelu, geluRounded, softmax, swiglu } from "./elementwise.js";
import { roundToF16 } from "../../tensor/f16.js";

function close(got: ArrayLike<number>, want: readonly number[], tol: number, what: string): void {
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs((got[i] as number) - (want[i] as number)) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

test("swiglu: silu(gate) · up on hand values", () => {
  const out = new Float32Array(4);
  swiglu(out, new Float32Array([0, 1, -1, 10]), new Float32Array([5, 2, 3, 1]), 4);
  const e = Math.E;
  close(out, [0, 2 / (1 + 1 / e), -3 / (1 + e), 10 / (1 + Math.exp(-10))], 1e-6, "swiglu");
});

test("addInPlace: acc += x over the first n only", () => {
  const acc = new Float32Array([1, 2, 3]);
  addInPlace(acc, new Float32Array([10, 20, 30]), 2);
  assert.deepEqual([...acc], [11, 22, 3]);
});

test("softmax: hand values, sums to 1, shift invariant", () => {
  const x = new Float32Array([0, Math.log(3), 99]);
  softmax(x, 2); // only the first 2
  close(x, [0.25, 0.75, 99], 1e-7, "softmax");
  const y = new Float32Array([1, 2, 3, 4, 5]);
  const z = y.map((v) => v + 100);
  softmax(y, 5);
  softmax(z, 5);
  close(z, [...y], 1e-7, "shifted");
  assert.ok(Math.abs(y.reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test("softmax: stable for inputs of 1e4 (no overflow to NaN/Infinity)", () => {
  const x = new Float32Array([1e4, 1e4 - 1, 0, -1e4]);
  softmax(x, 4);
  for (const v of x) assert.ok(Number.isFinite(v));
  const a = 1 / (1 + Math.exp(-1));
  close(x, [a, 1 - a, 0, 0], 1e-6, "large");
  const all = new Float32Array([1e4, 1e4, 1e4, 1e4]);
  softmax(all, 4);
  close(all, [0.25, 0.25, 0.25, 0.25], 0, "equal large");
});

test("addBias: the same bias on every row, first nTokens rows only", () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  addBias(x, new Float32Array([10, 20, 30]), 2, 3);
  assert.deepEqual([...x], [11, 22, 33, 14, 25, 36, 7, 8, 9]);
});

test("geluRounded: llama.cpp's f16 table (hand values, the ±10 cut-offs) within 1e-3 of the exact formula", () => {
  const out = new Float32Array(6);
  geluRounded(out, new Float32Array([0, 1, -10, -12, 10, 12.5]), 6);
  // gelu(1) = 0.841192 rounds to the f16 value 1723·2^-11 = 0.84130859375; x ≤ −10 gives 0, x ≥ 10 gives x
  assert.deepEqual([...out], [0, 0.84130859375, 0, 0, 10, 12.5]);
  const n = 2001;
  const x = new Float32Array(n).map((_, i) => -9.99 + (i * 19.98) / (n - 1));
  const got = new Float32Array(n), exact = new Float32Array(n);
  geluRounded(got, x, n);
  gelu(exact, x, n);
  for (let i = 0; i < n; i++) {
    const g = got[i] as number;
    assert.equal(roundToF16(g), g, `gelu(${x[i]}) = ${g} is not an f16 value`);
    assert.ok(Math.abs(g - (exact[i] as number)) <= 1e-3 * Math.max(1, Math.abs(exact[i] as number)), `gelu(${x[i]}): ${g} vs ${exact[i]}`);
  }
});
