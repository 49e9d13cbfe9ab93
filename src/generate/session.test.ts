// Sessions over a small random Llama model built in memory (random weights, LLaMA's vocabulary, written as
// GGUF by Peel's writer and loaded from the bytes): batched prefill equals token-by-token evaluation,
// continuation across calls, and argument errors that leave the session as it was.
// Loaded on the default backend (wasm), whose prefill multiplies 4-token tiles while a single token streams
// one row: the same products summed in a different f32 order. Bounds, relative to max(1, |logit|): 5e-5 with
// an F32 cache (measured ~1e-5); 1e-3 with an F16 cache, where a last-bit difference can move a cached key or
// value by one f16 step (4.9e-4 of it). With flash attention on (the default) and an F16 cache, 4e-3: llama.cpp's
// one-row flash kernel, which Peel reproduces, also keeps each head's running value sum in f16, so such a
// difference can round that sum to its neighbouring f16 after any key (measured 2.6e-3).
// A batching bug (wrong positions, a leaky mask) moves logits by O(1).

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomLlamaGguf } from "../../test/fixtures/random-llama.js";
import { bytesSource } from "../formats/byte-source.js";
import { loadModelFromSource } from "../model/load.js";
import { PeelError } from "../util/errors.js";
import { createSession } from "./session.js";

const model = await loadModelFromSource(bytesSource(randomLlamaGguf({
  dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", tied: false, seed: 11, contextLength: 32,
})));
const V = model.config.vocabSize;
const PROMPT = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203];

/** Largest difference relative to max(1, |b|): float summation order may differ between batch shapes. */
function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)) / Math.max(1, Math.abs(b[i] as number)));
  }
  return m;
}

const TOL = { F32: 5e-5, F16: 1e-3 } as const;

for (const [kvType, flashAttention, tol] of [["F32", "on", 5e-5], ["F16", "on", 4e-3], ["F16", "off", 1e-3]] as const) {
  test(`prefill in batches of 1, 3, 4 and 64 gives the same logits (${kvType} cache, flash attention ${flashAttention})`, () => {
    const ref = createSession(model, { batchSize: 64, kvType, flashAttention }).evaluate(PROMPT, { allLogits: true });
    assert.equal(ref.length, PROMPT.length * V);
    for (const batchSize of [1, 3, 4]) {
      const s = createSession(model, { batchSize, kvType, flashAttention });
      const all = s.evaluate(PROMPT, { allLogits: true });
      assert.ok(maxDiff(all, ref) <= tol, `batch ${batchSize}: ${maxDiff(all, ref)}`);
      assert.deepEqual(s.tokens, PROMPT);
    }
    // one token per evaluate call, taking the last-token logits each time
    const s1 = createSession(model, { batchSize: 1, kvType, flashAttention });
    for (let i = 0; i < PROMPT.length; i++) {
      const last = s1.evaluate([PROMPT[i] as number]);
      assert.equal(last.length, V);
      assert.ok(maxDiff(last, ref.subarray(i * V, (i + 1) * V)) <= tol, `token ${i}`);
    }
  });
}

test("evaluate returns the last token's logits; later calls continue the context", () => {
  const whole = createSession(model, { batchSize: 4 }).evaluate(PROMPT).slice();
  const s = createSession(model, { batchSize: 4 });
  s.evaluate(PROMPT.slice(0, 6));
  const cont = s.evaluate(PROMPT.slice(6));
  assert.ok(maxDiff(cont, whole) <= TOL.F16); // default cache: F16
  assert.equal(s.tokens.length, PROMPT.length);
  s.reset();
  assert.equal(s.tokens.length, 0);
  assert.equal(maxDiff(s.evaluate(PROMPT), whole), 0, "after reset (same chunks, so bit-identical) the cache is reused from position 0");
});

test("evaluate([]) and out-of-vocabulary ids are INVALID_ARGUMENT and leave the session unchanged", () => {
  const s = createSession(model, { batchSize: 2 });
  s.evaluate([1, 2]);
  const isInvalid = (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT";
  assert.throws(() => s.evaluate([]), isInvalid);
  assert.throws(() => s.evaluate([V]), (e: unknown) => isInvalid(e) && String((e as Error).message).includes(String(V)));
  assert.throws(() => s.evaluate([-1]), isInvalid);
  assert.throws(() => s.evaluate([1.5]), isInvalid);
  // a bad id in a later batch-sized chunk must not leave the earlier chunks in the context
  assert.throws(() => s.evaluate([5, 6, 7, V + 10]), isInvalid);
  assert.deepEqual(s.tokens, [1, 2]);
});

test("evaluate past the context is CONTEXT_OVERFLOW with both numbers; bad options are INVALID_ARGUMENT", () => {
  const s = createSession(model, { contextLength: 8 });
  s.evaluate([1, 2, 3, 4, 5]);
  assert.throws(() => s.evaluate([1, 2, 3, 4]), (e: unknown) => e instanceof PeelError && e.code === "CONTEXT_OVERFLOW" && /9/.test(e.message) && /8/.test(e.message));
  assert.equal(s.tokens.length, 5);
  const isInvalid = (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT";
  assert.throws(() => createSession(model, { contextLength: 33 }), isInvalid);
  assert.throws(() => createSession(model, { contextLength: 0 }), isInvalid);
  assert.throws(() => createSession(model, { batchSize: 0 }), isInvalid);
});

test("rewind keeps a prefix: evaluating after it equals evaluating the new tokens from scratch", () => {
  const s = createSession(model, { kvType: "F32" });
  s.evaluate(PROMPT);
  assert.equal(s.canRewind(PROMPT.length + 1), false);
  s.rewind(4);
  assert.deepEqual(s.tokens, PROMPT.slice(0, 4));
  const tail = [920, 338, 445];
  const a = Float32Array.from(s.evaluate(tail));
  const b = createSession(model, { kvType: "F32" }).evaluate([...PROMPT.slice(0, 4), ...tail]);
  assert.ok(maxDiff(a, b) < 5e-5);
  assert.throws(() => s.rewind(99), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT");
});

test("onHidden hands the final-normed hidden states of every token and computes no logits", () => {
  const s = createSession(model, { batchSize: 4 });
  const seen: number[] = [];
  const out = s.evaluate(PROMPT, { onHidden: (h, n, pos) => { assert.equal(h.length, n * model.config.dim); seen.push(pos); } });
  assert.equal(out.length, 0);
  assert.deepEqual(seen, [0, 4, 8]);
  assert.equal(s.tokens.length, PROMPT.length);
});

test("evaluateAsync: on a CPU backend it is evaluate; a deferred backend refuses evaluate and is read back once per chunk asked for", async () => {
  const plain = createSession(model, { batchSize: 4 });
  const all = plain.evaluate(PROMPT, { allLogits: true }).slice();
  plain.reset();
  const last = plain.evaluate(PROMPT).slice(); // (a different batch shape than allLogits, and a pruned last block: not bit-equal to its last row)
  plain.reset();
  assert.deepEqual(await plain.evaluateAsync(PROMPT, { allLogits: true }), all);
  // the ts kernels dressed as a deferred backend: the session must sync through readback, and only there
  const readbacks: number[] = [];
  const k = model.transformer.kernels;
  const deferred = await loadModelFromSource(bytesSource(randomLlamaGguf({
    dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, weightType: "F32", tied: false, seed: 11, contextLength: 32,
  })), { kernels: { ...k, name: "fake-gpu", deferred: true, readback: async (arrays) => { readbacks.push(arrays.length); } } });
  const s = createSession(deferred, { batchSize: 4 });
  assert.throws(() => s.evaluate(PROMPT), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" && /evaluateAsync/.test(e.message));
  assert.deepEqual(await s.evaluateAsync(PROMPT, { allLogits: true }), all);
  assert.deepEqual(readbacks, [1, 1, 1], "11 tokens in chunks of 4: each chunk's logits read back");
  readbacks.length = 0;
  s.reset();
  // close to, not bitwise, the CPU run's: a CPU pass prunes its last block to the output row (forward.ts), a
  // deferred backend's does not
  assert.ok(maxDiff(await s.evaluateAsync(PROMPT), last) < 1e-4);
  assert.deepEqual(readbacks, [1], "only the last chunk's logits when one position is asked for");
  await assert.rejects(s.evaluateAsync([5], { onHidden: () => undefined }), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED");
});
