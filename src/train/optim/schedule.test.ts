// The schedule's endpoints (first warmup step, peak, minLr at totalSteps and after), its shape (rising
// during warmup, never rising after), the midpoint of the cosine, and validation.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { learningRateAt, type LrSchedule } from "./schedule.js";

const S: LrSchedule = { maxLr: 1e-3, minLr: 1e-4, warmupSteps: 10, totalSteps: 110 };
const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-15;

test("endpoints: maxLr/warmup at step 0, maxLr at the end of warmup, minLr at totalSteps and after", () => {
  assert.ok(close(learningRateAt(0, S), 1e-4));
  assert.ok(close(learningRateAt(9, S), 1e-3));
  assert.ok(close(learningRateAt(10, S), 1e-3), "cosine starts at maxLr");
  assert.ok(close(learningRateAt(60, S), 5.5e-4), "halfway through the cosine: the mean of max and min");
  assert.equal(learningRateAt(110, S), 1e-4);
  assert.equal(learningRateAt(10_000, S), 1e-4);
});

test("monotone: strictly rising during warmup, non-increasing after, always within [minLr, maxLr]", () => {
  const lrs = Array.from({ length: 130 }, (_, i) => learningRateAt(i, S));
  for (let i = 1; i < 10; i++) assert.ok(lrs[i]! > lrs[i - 1]!, `warmup step ${i}`);
  for (let i = 11; i < lrs.length; i++) assert.ok(lrs[i]! <= lrs[i - 1]!, `decay step ${i}`);
  for (const lr of lrs) assert.ok(lr >= S.minLr && lr <= S.maxLr);
});

test("no warmup, and warmup as long as the run", () => {
  assert.equal(learningRateAt(0, { ...S, warmupSteps: 0 }), 1e-3);
  const w = { ...S, warmupSteps: 110 };
  assert.ok(close(learningRateAt(109, w), 1e-3));
  assert.equal(learningRateAt(110, w), 1e-4);
  assert.equal(learningRateAt(5, { ...S, minLr: S.maxLr }), S.maxLr * 6 / 10);
  assert.equal(learningRateAt(50, { ...S, minLr: S.maxLr }), S.maxLr, "constant after warmup");
});

test("invalid schedules and steps are INVALID_ARGUMENT", () => {
  const isArg = (e: unknown): boolean => e instanceof PeelError && e.code === "INVALID_ARGUMENT";
  const bads: Partial<LrSchedule>[] = [{ maxLr: 0 }, { maxLr: Infinity }, { minLr: -1 }, { minLr: 2e-3 }, { warmupSteps: 1.5 }, { warmupSteps: -1 }, { totalSteps: 0 }, { warmupSteps: 200 }];
  for (const b of bads) assert.throws(() => learningRateAt(0, { ...S, ...b }), isArg, JSON.stringify(b));
  for (const step of [-1, 0.5, NaN]) assert.throws(() => learningRateAt(step, S), isArg);
});
