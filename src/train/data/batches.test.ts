// Splits (sizes, views, errors that say what is needed), random batches (targets are inputs shifted by one,
// every start reachable, same seed same batch) and validation batches (tiling, partial last batch, cap).

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { createRng } from "../../sample/rng.js";
import { evalBatches, sampleBatch, splitTokens } from "./batches.js";

const iota = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);
const isArg = (e: unknown): boolean => e instanceof PeelError && e.code === "INVALID_ARGUMENT";

test("splitTokens keeps the last fraction for validation, as views", () => {
  const t = iota(100);
  const { train, val } = splitTokens(t, 0.1, 8);
  assert.equal(train.length, 90);
  assert.deepEqual(Array.from(val), Array.from({ length: 10 }, (_, i) => 90 + i));
  assert.equal(val.buffer, t.buffer);
});

test("splitTokens refuses splits shorter than one window, saying how many tokens there are and what is needed", () => {
  assert.throws(() => splitTokens(iota(100), 0.1, 10), (e: unknown) =>
    isArg(e) && /validation split has 10 tokens/.test((e as Error).message) && /needs 11/.test((e as Error).message) && /smaller context/.test((e as Error).message));
  assert.throws(() => splitTokens(iota(100), 0.95, 8), (e: unknown) => isArg(e) && /training split has 5 tokens/.test((e as Error).message));
  for (const f of [0, 1, -0.1, NaN]) assert.throws(() => splitTokens(iota(100), f, 4), isArg);
  assert.throws(() => splitTokens(iota(100), 0.1, 0), isArg);
});

test("sampleBatch: targets are the inputs shifted by one token, windows are contiguous", () => {
  const T = 5, B = 4;
  const { inputs, targets } = sampleBatch(iota(50), B, T, createRng(3));
  assert.equal(inputs.length, B * T);
  for (let r = 0; r < B; r++) {
    const start = inputs[r * T]!;
    assert.ok(start >= 0 && start <= 50 - T - 1);
    for (let i = 0; i < T; i++) {
      assert.equal(inputs[r * T + i], start + i);
      assert.equal(targets[r * T + i], start + i + 1);
    }
  }
});

test("sampleBatch reaches every start 0..len-T-1 and no other; the same seed gives the same batch", () => {
  const tokens = iota(12), T = 4;
  const seen = new Set<number>();
  const rng = createRng(9);
  for (let k = 0; k < 200; k++) seen.add(sampleBatch(tokens, 1, T, rng).inputs[0]!);
  assert.deepEqual([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(sampleBatch(tokens, 8, T, createRng(1)), sampleBatch(tokens, 8, T, createRng(1)));
  const one = sampleBatch(iota(5), 3, 4, createRng(2));
  assert.deepEqual(Array.from(one.targets.subarray(0, 4)), [1, 2, 3, 4], "exactly T+1 tokens: only start 0");
  assert.deepEqual(sampleBatch(iota(5), 1, 4, { next: () => 1 }).inputs, Int32Array.from([0, 1, 2, 3]));
});

test("sampleBatch validates its arguments", () => {
  assert.throws(() => sampleBatch(iota(4), 1, 4, createRng(0)), (e: unknown) => isArg(e) && /4 tokens/.test((e as Error).message));
  assert.throws(() => sampleBatch(iota(40), 0, 4, createRng(0)), isArg);
  assert.throws(() => sampleBatch(iota(40), 2, 2.5, createRng(0)), isArg);
});

test("evalBatches tiles inputs from the start, with a partial last batch", () => {
  // 23 tokens, T=4: windows start at 0,4,8,12,16 (the one at 20 would need token 24)
  const bs = evalBatches(iota(23), 2, 4, 10);
  assert.deepEqual(bs.map((b) => b.rows), [2, 2, 1]);
  const starts = bs.flatMap((b) => Array.from({ length: b.rows }, (_, r) => b.inputs[r * 4]!));
  assert.deepEqual(starts, [0, 4, 8, 12, 16]);
  assert.deepEqual(Array.from(bs[2]!.targets), [17, 18, 19, 20]);
  assert.deepEqual(evalBatches(iota(23), 2, 4, 10), bs, "deterministic");
});

test("evalBatches stops at maxBatches and validates", () => {
  const bs = evalBatches(iota(1000), 3, 4, 2);
  assert.deepEqual(bs.map((b) => b.rows), [3, 3]);
  assert.deepEqual(evalBatches(iota(5), 3, 4, 2).map((b) => b.rows), [1]);
  assert.throws(() => evalBatches(iota(100), 3, 4, 0), isArg);
  assert.throws(() => evalBatches(iota(4), 3, 4, 1), isArg);
});
