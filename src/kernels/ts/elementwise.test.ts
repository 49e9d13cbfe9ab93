// swiglu, addInPlace and softmax on hand values; softmax sums to 1 and stays finite for inputs near 1e4.

import { test } from "node:test";
import assert from "node:assert/strict";
import { addInPlace, softmax, swiglu } from "./elementwise.js";

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
