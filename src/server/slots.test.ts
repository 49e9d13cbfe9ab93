// The slot pool over a small random Llama model: a request takes the free slot whose cache shares the
// longest prefix with its prompt, waiters are served first come first served, a waiter whose client leaves
// is dropped, and a full queue is a 503 with Retry-After. Sessions are the pool's own, made once.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomLlamaGguf } from "../../test/fixtures/random-llama.js";
import { bytesSource } from "../formats/byte-source.js";
import { loadModelFromSource } from "../model/load.js";
import { ApiError } from "./api-error.js";
import { createSlotPool } from "./slots.js";

const model = await loadModelFromSource(bytesSource(randomLlamaGguf({
  dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", tied: false, seed: 3, contextLength: 32,
})));
const never = new AbortController().signal;

test("a free slot whose cache shares the longest prefix with the prompt is chosen", async () => {
  const pool = createSlotPool(model, 3, 4, {});
  const [a, b, c] = [await pool.acquire([], never), await pool.acquire([], never), await pool.acquire([], never)];
  b.session.evaluate([1, 5, 6, 7]);
  c.session.evaluate([1, 5, 9]);
  for (const s of [a, b, c]) pool.release(s);
  assert.equal((await pool.acquire([1, 5, 6, 8], never)).id, b.id);
  assert.equal((await pool.acquire([1, 5, 9, 9], never)).id, c.id);
  assert.equal(pool.busy, 2);
});

test("waiters are served in order; one whose client leaves is dropped; a full queue is 503", async () => {
  const pool = createSlotPool(model, 1, 2, {});
  const slot = await pool.acquire([], never);
  const leaving = new AbortController();
  const first = pool.acquire([], leaving.signal);
  const second = pool.acquire([], never);
  assert.equal(pool.queued, 2);
  await assert.rejects(pool.acquire([], never), (e: unknown) => e instanceof ApiError && e.status === 503 && e.headers["Retry-After"] === "1");
  leaving.abort();
  await assert.rejects(first, (e: unknown) => e instanceof ApiError && e.status === 499);
  assert.equal(pool.queued, 1);
  pool.release(slot);
  assert.equal((await second).id, slot.id);
  assert.equal(pool.queued, 0);
  assert.equal(pool.busy, 1);
});
