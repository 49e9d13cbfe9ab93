// wasm attention on head sizes the conformance suite (headDim 32) does not reach: the tiny-model size 8
// (register accumulator, four key rows per vector), sizes that are multiples of 4 but not 8 (f16 keys take
// the scalar path), odd sizes, and contexts that are not multiples of 4 — against the plain-TS reference,
// for F32 and F16 caches, with one and with several query tokens.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { AttentionShape, KvDType } from "../kernels.js";
import { createTsKernels } from "../ts/index.js";
import { createRng, randomF32, worstError } from "../../../test/conformance/backends.js";
import { createWasmKernels } from "./index.js";

const ref = createTsKernels();

for (const kvType of ["F32", "F16"] as const satisfies readonly KvDType[]) {
  test(`wasm attention, ${kvType} cache, head sizes 4, 6, 8, 12, 16 match the reference`, async () => {
    const k = await createWasmKernels();
    const rng = createRng(kvType === "F16" ? 41 : 40);
    const tol = kvType === "F16" ? 2e-3 : 4e-5;
    for (const headDim of [4, 6, 8, 12, 16]) {
      const nHeads = 8, nKvHeads = 4, seqLen = 150, kvDim = nKvHeads * headDim;
      const kr = ref.allocKv(kvType, seqLen, kvDim), vr = ref.allocKv(kvType, seqLen, kvDim);
      const kb = k.allocKv(kvType, seqLen, kvDim), vb = k.allocKv(kvType, seqLen, kvDim);
      for (const [startPos, nTokens] of [[0, 5], [5, 1], [6, 1], [7, 66], [73, 1], [74, 3]] as const) {
        const kn = randomF32(rng, nTokens * kvDim), vn = randomF32(rng, nTokens * kvDim);
        ref.storeKv(kr, kn, startPos, nTokens); ref.storeKv(vr, vn, startPos, nTokens);
        k.storeKv(kb, kn, startPos, nTokens); k.storeKv(vb, vn, startPos, nTokens);
        const shape: AttentionShape = { nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
        const q = randomF32(rng, nTokens * nHeads * headDim, 2);
        const want = new Float32Array(q.length);
        ref.attention(want, q, kr, vr, startPos, nTokens, shape, new Float32Array(seqLen));
        const got = new Float32Array(q.length);
        k.attention(got, q, kb, vb, startPos, nTokens, shape, new Float32Array(seqLen));
        const { err, at } = worstError(got, want);
        assert.ok(err <= tol, `headDim ${headDim} at ${startPos}+${nTokens}: error ${err.toExponential(2)} at [${at}] (got ${got[at]}, want ${want[at]})`);
      }
    }
    await k.dispose();
  });
}

test("wasm attention with an F16 cache rounds q lanes near the f16 limit like the reference (the vector path hands them to the scalar one)", async () => {
  const k = await createWasmKernels();
  const headDim = 8, kvDim = 8, seqLen = 4;
  const shape: AttentionShape = { nHeads: 1, nKvHeads: 1, headDim, scale: 1e-5 };
  const kr = ref.allocKv("F16", seqLen, kvDim), vr = ref.allocKv("F16", seqLen, kvDim);
  const kb = k.allocKv("F16", seqLen, kvDim), vb = k.allocKv("F16", seqLen, kvDim);
  const kn = new Float32Array(seqLen * kvDim).map((_, i) => ((i * 7) % 5) / 5 - 0.4);
  const vn = new Float32Array(seqLen * kvDim).map((_, i) => ((i * 3) % 7) / 7);
  ref.storeKv(kr, kn, 0, seqLen); ref.storeKv(vr, vn, 0, seqLen);
  k.storeKv(kb, kn, 0, seqLen); k.storeKv(vb, vn, 0, seqLen);
  const q = Float32Array.from([65519, -65000, 1e-6, 3e-8, 0.5, -0.25, 65505, 2]);
  const want = new Float32Array(headDim), got = new Float32Array(headDim);
  ref.attention(want, q, kr, vr, 3, 1, shape, new Float32Array(seqLen));
  k.attention(got, q, kb, vb, 3, 1, shape, new Float32Array(seqLen));
  const { err } = worstError(got, want);
  assert.ok(err <= 2e-3, `error ${err.toExponential(2)}: got ${[...got]}, want ${[...want]}`);
  await k.dispose();
});

test("wasm attention split across threads (uneven runs of heads, GQA groups cut between threads) gives the bits of one thread", async () => {
  const { createWasmKernels: createNode } = await import("./index.node.js");
  const one = await createWasmKernels();
  for (const threads of [2, 4]) {
    const k = await createNode({ threads });
    const rng = createRng(50 + threads);
    for (const kvType of ["F32", "F16"] as const) {
      for (const [nHeads, nKvHeads, headDim] of [[5, 5, 16], [6, 2, 16], [8, 1, 8], [12, 4, 32]] as const) {
        const seqLen = 400, kvDim = nKvHeads * headDim;
        const kvs = [one, k].map((b) => ({ k: b.allocKv(kvType, seqLen, kvDim), v: b.allocKv(kvType, seqLen, kvDim) }));
        const shape: AttentionShape = { nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
        // a prefill of 350 positions, then decode steps far enough in to be split (≥ 2^17 multiply-adds)
        for (const [startPos, nTokens] of [[0, 350], [350, 1], [351, 1]] as const) {
          const kn = randomF32(rng, nTokens * kvDim), vn = randomF32(rng, nTokens * kvDim);
          for (const [i, b] of [one, k].entries()) { b.storeKv(kvs[i]!.k, kn, startPos, nTokens); b.storeKv(kvs[i]!.v, vn, startPos, nTokens); }
          const q = randomF32(rng, nTokens * nHeads * headDim, 2);
          const want = new Float32Array(q.length), got = new Float32Array(q.length);
          one.attention(want, q, kvs[0]!.k, kvs[0]!.v, startPos, nTokens, shape, new Float32Array(seqLen));
          k.attention(got, q, kvs[1]!.k, kvs[1]!.v, startPos, nTokens, shape, new Float32Array(seqLen));
          assert.deepEqual(got, want, `${threads} threads, ${kvType}, ${nHeads}/${nKvHeads} heads of ${headDim} at ${startPos}+${nTokens}`);
        }
      }
    }
    assert.ok(k.workerChunks() > 0, `${threads} threads: the workers took part`);
    await k.dispose();
  }
  await one.dispose();
});
