// Pooling and normalisation on vectors small enough to check by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cosineSimilarity, normalizeL2, pool } from "./pool.js";

const x = Float32Array.from([1, 2, 3, 4, 5, 6]); // three tokens of width 2

test("mean, cls, last and none pooling of three 2-wide token vectors", () => {
  assert.deepEqual([...pool(x, 3, 2, "mean")], [Math.fround(1 * Math.fround(1 / 3) + 3 * Math.fround(1 / 3) + 5 * Math.fround(1 / 3)), 4]);
  assert.deepEqual([...pool(x, 3, 2, "cls")], [1, 2]);
  assert.deepEqual([...pool(x, 3, 2, "last")], [5, 6]);
  assert.deepEqual([...pool(x, 3, 2, "none")], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...pool(x, 2, 2, "last")], [3, 4], "only the first nTokens rows count");
});

test("L2 normalisation and cosine similarity", () => {
  assert.deepEqual([...normalizeL2(Float32Array.from([3, 4]))], [0.6000000238418579, 0.800000011920929]);
  assert.deepEqual([...normalizeL2(new Float32Array(2))], [0, 0], "a zero vector stays zero");
  assert.equal(cosineSimilarity([1, 0], [0, 1]), 0);
  assert.ok(Math.abs(cosineSimilarity([1, 2], [2, 4]) - 1) < 1e-15);
  assert.equal(cosineSimilarity([0, 0], [1, 1]), 0);
});
