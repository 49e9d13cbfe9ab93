// Global-norm clipping: the norm over all params, scaling only above the limit, measure-only with
// Infinity, non-finite norms left alone, and the limit validated.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { makeParam, type Param } from "../model/params.js";
import { clipGradNorm } from "./clip.js";

function grads(a: number[], b: number[]): Param[] {
  const p = makeParam("a", [a.length], true), q = makeParam("b", [b.length], false);
  p.grad.set(a);
  q.grad.set(b);
  return [p, q];
}

test("the norm spans every param; above the limit grads scale to exactly the limit", () => {
  const ps = grads([3, 0], [0, 4, 0]);
  assert.equal(clipGradNorm(ps, 1), 5);
  assert.deepEqual(Array.from(ps[0]!.grad), [3 / 5, 0].map(Math.fround));
  assert.deepEqual(Array.from(ps[1]!.grad), [0, 4 / 5, 0].map(Math.fround));
  assert.ok(Math.abs(clipGradNorm(ps, Infinity) - 1) < 1e-6);
});

test("at or below the limit, and with Infinity, grads are untouched", () => {
  for (const max of [5, 10, Infinity]) {
    const ps = grads([3, 0], [0, 4, 0]);
    assert.equal(clipGradNorm(ps, max), 5);
    assert.deepEqual(Array.from(ps[0]!.grad), [3, 0]);
  }
  assert.equal(clipGradNorm([], 1), 0);
});

test("a non-finite norm is reported and grads are not scaled", () => {
  const ps = grads([NaN, 1], [2]);
  assert.ok(Number.isNaN(clipGradNorm(ps, 1)));
  assert.equal(ps[1]!.grad[0], 2);
  const inf = grads([Infinity, 1], [2]);
  assert.equal(clipGradNorm(inf, 1), Infinity);
  assert.equal(inf[1]!.grad[0], 2);
});

test("squares are summed in float64: gradients near the float32 limit still give a finite norm", () => {
  const big = grads([3e38, 3e38], [0]);
  const norm = clipGradNorm(big, 1);
  assert.ok(Math.abs(norm / (3e38 * Math.SQRT2) - 1) < 1e-6, `norm ${norm}`);
  assert.ok(Math.abs(big[0]!.grad[0]! - Math.SQRT1_2) < 1e-6);
});

test("maxNorm must be > 0", () => {
  for (const m of [0, -1, NaN]) assert.throws(() => clipGradNorm(grads([1], [1]), m), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT");
});
