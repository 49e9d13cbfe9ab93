// Packed sequences (AttentionShape.keyRanges), on every backend: several sequences of different lengths in
// one bidirectional attention call, each query seeing only its own sequence's cache rows, must give each
// sequence exactly (bitwise) what attention over that sequence alone gives on the same backend: the same
// arithmetic in the same order over the same keys, for the standard path and both flash kernels, F32 and F16
// caches. That is what lets embed() pack many texts into one forward pass and still give each text the
// vector it gets alone. Across backends the usual attention tolerances apply (kernels.test.ts); here the
// packed call is also checked against the reference's packed call with them.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { AttentionShape, FlashVariant, Kernels, KvDType } from "../../src/kernels/kernels.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { BACKENDS, createRng, onBackend, randomF32, worstError } from "./backends.js";

const ref = createTsKernels();
// a one-token sequence, short ones, one past a 64-key flash tile (70), in an order that puts sequence starts
// off every tile and chunk boundary
const LENGTHS = [5, 70, 1, 23, 9];

function packedCase(k: Kernels, kvType: KvDType, flash: FlashVariant | undefined, nHeads: number, nKvHeads: number): void {
  const rng = createRng(31 + nKvHeads + (kvType === "F16" ? 10 : 0));
  const headDim = 32, kvDim = nKvHeads * headDim;
  const total = LENGTHS.reduce((a, b) => a + b, 0);
  const kn = randomF32(rng, total * kvDim), vn = randomF32(rng, total * kvDim);
  const q = randomF32(rng, total * nHeads * headDim, 2);
  const ranges = new Int32Array(2 * total);
  let o = 0;
  for (const len of LENGTHS) {
    for (let t = o; t < o + len; t++) { ranges[2 * t] = o; ranges[2 * t + 1] = o + len; }
    o += len;
  }
  const shape: AttentionShape = { nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim), causal: false, ...(flash !== undefined ? { flash } : {}) };
  const kb = k.allocKv(kvType, total, kvDim), vb = k.allocKv(kvType, total, kvDim);
  k.storeKv(kb, onBackend(k, kn), 0, total); k.storeKv(vb, onBackend(k, vn), 0, total);
  const packed = k.allocF32(q.length);
  k.attention(packed, onBackend(k, q), kb, vb, 0, total, { ...shape, keyRanges: ranges }, k.allocF32(total));
  const label = `${k.name} ${kvType} ${flash ?? "standard"} ${nHeads}/${nKvHeads}`;

  const rk = ref.allocKv(kvType, total, kvDim), rv = ref.allocKv(kvType, total, kvDim);
  ref.storeKv(rk, kn, 0, total); ref.storeKv(rv, vn, 0, total);
  const want = new Float32Array(q.length);
  ref.attention(want, q, rk, rv, 0, total, { ...shape, keyRanges: ranges }, new Float32Array(total));
  const tol = kvType === "F16" && flash === "vec" ? 4e-3 : kvType === "F16" ? 2e-3 : 4e-5; // kernels.test.ts's bounds
  const { err } = worstError(packed, want);
  assert.ok(err <= tol, `${label}: packed call against the reference's: ${err} > ${tol}`);

  o = 0;
  const width = nHeads * headDim;
  for (const len of LENGTHS) { // each sequence alone, in a cache of its own
    const ks = k.allocKv(kvType, len, kvDim), vs = k.allocKv(kvType, len, kvDim);
    k.storeKv(ks, onBackend(k, kn.subarray(o * kvDim, (o + len) * kvDim)), 0, len);
    k.storeKv(vs, onBackend(k, vn.subarray(o * kvDim, (o + len) * kvDim)), 0, len);
    const alone = k.allocF32(len * width);
    k.attention(alone, onBackend(k, q.subarray(o * width, (o + len) * width)), ks, vs, 0, len, shape, k.allocF32(len));
    assert.deepEqual([...packed.subarray(o * width, (o + len) * width)], [...alone], `${label}: sequence at ${o} (${len} tokens) differs from itself alone`);
    o += len;
  }
}

for (const backend of BACKENDS) {
  const kernels = backend.create();
  test(`${backend.name}: packed sequences (keyRanges) give each sequence's own attention, bitwise (standard, vec, tiled; F32, F16; MHA, GQA)`, async () => {
    const k = await kernels;
    for (const kvType of ["F32", "F16"] as const) {
      for (const flash of [undefined, "vec", "tiled"] as const) {
        packedCase(k, kvType, flash, 4, 4);
        packedCase(k, kvType, flash, 4, 2);
      }
    }
    await k.dispose?.();
  });
}
