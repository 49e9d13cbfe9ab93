// Q4_K and Q6_K weights repacked at prepareWeight into the q4_Kx4 / q6_Kx4 layouts (four rows interleaved per
// super-block, Q4_K's scales packed again; wasm/matmul-kquants-x4.ts, matmul-q6k-x4.ts, layout-x4.ts) must
// change nothing a caller sees: decode keeps the one-row kernel's f32 order lane for lane, prefill builds the
// quads' records from the x4 quads at every batch size (the same records as from GGUF rows, whose outputs are
// the row kernels' bits), embedding rows come back in GGUF order. So products and lookups must equal, bit for bit, those of the same
// backend with repackWeights: false — one and several super-blocks per row, rows a multiple of 4 but not of 16,
// 1 and 2 threads, alone and through matmulShared, and a tied model's logits. The layout exists in the relaxed
// build only (the kernels use its 8-bit dot).

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, randomF32, randomWeights } from "../../../test/conformance/backends.js";
import type { WeightLayout } from "../kernels.js";
import { createWasmKernels as createNodeWasmKernels } from "./index.node.js";
import { createWasmKernels } from "./index.js";
import { enableRelaxedSimd } from "./host.node.js";
import { assertBits, assertRowsBack, assertTiedModelUnchanged, product } from "../../../test/fixtures/x4-checks.js";

const KX4: ReadonlyArray<{ dtype: "Q4_K" | "Q6_K"; layout: WeightLayout; blockBytes: number }> = [
  { dtype: "Q4_K", layout: "q4_Kx4", blockBytes: 144 }, { dtype: "Q6_K", layout: "q6_Kx4", blockBytes: 210 }];
const skip = enableRelaxedSimd() ? false : "the q4_Kx4 layout exists only in the relaxed-SIMD build, which this runtime lacks";

test("q4_Kx4, q6_Kx4: products equal GGUF order's bit for bit (decode and prefill, 1..3 super-blocks, 20 rows)", { skip }, async () => {
  const kx = await createWasmKernels({ simd: "relaxed", threads: 1 });
  const kg = await createWasmKernels({ simd: "relaxed", threads: 1, repackWeights: false });
  const kb = await createWasmKernels({ simd: "baseline", threads: 1 });
  try {
    for (const { dtype, layout } of KX4) {
      // 20 rows: a prefill chunk of 16 and one of 4 (a multiple of 4, not of 16)
      for (const [rows, cols] of [[4, 256], [20, 768], [8, 512]] as const) {
        const rng = createRng(rows * 1000 + cols);
        const bytes = randomWeights(rng, dtype, rows, cols);
        const wx = kx.prepareWeight(dtype, rows, cols, bytes), wg = kg.prepareWeight(dtype, rows, cols, bytes);
        assert.equal(wx.layout, layout);
        assert.equal(wg.layout, undefined);
        for (const nTokens of [1, 2, 7, 21]) { // 21: past kquadMinTokens (Q6_K on quads as well)
          const x = randomF32(rng, nTokens * cols);
          assertBits(product(kx, wx, x, nTokens), product(kg, wg, x, nTokens), `${dtype} ${rows}x${cols}, ${nTokens} tokens`);
        }
      }
      // rows not a multiple of 4, and the baseline build, keep GGUF order
      assert.equal(kx.prepareWeight(dtype, 6, 256, randomWeights(createRng(6), dtype, 6, 256)).layout, undefined);
      assert.equal(kb.prepareWeight(dtype, 8, 256, randomWeights(createRng(6), dtype, 8, 256)).layout, undefined);
    }
    assert.equal(kx.prepareWeight("Q5_K", 8, 256, randomWeights(createRng(6), "Q5_K", 8, 256)).layout, undefined);
  } finally {
    await kx.dispose();
    await kg.dispose();
    await kb.dispose();
  }
});

test("q4_Kx4, q6_Kx4: 2 threads and matmulShared give 1 thread's bits", { skip }, async () => {
  const k1 = await createWasmKernels({ simd: "relaxed", threads: 1, repackWeights: false });
  const k2 = await createNodeWasmKernels({ simd: "relaxed", threads: 2 });
  try {
    const rows = 256, cols = 512; // 131072 multiply-adds a token: the pool splits them in 16-row chunks
    const rng = createRng(7);
    const x = randomF32(rng, 3 * cols);
    for (const { dtype, layout } of KX4) {
      const a = randomWeights(rng, dtype, rows, cols), b = randomWeights(rng, dtype, rows, cols);
      const [a1, b1] = [k1.prepareWeight(dtype, rows, cols, a), k1.prepareWeight(dtype, rows, cols, b)];
      const [a2, b2] = [k2.prepareWeight(dtype, rows, cols, a), k2.prepareWeight(dtype, rows, cols, b)];
      assert.equal(a2.layout, layout);
      const chunksBefore = k2.workerChunks();
      // the worker takes chunks only when it wakes in time: repeat, a bounded number of times, until it has
      for (let pass = 0; pass < 20 && (pass === 0 || k2.workerChunks() === chunksBefore); pass++) {
        for (const nTokens of [1, 3]) {
          const xs = x.subarray(0, nTokens * cols);
          assertBits(product(k2, a2, xs, nTokens), product(k1, a1, xs, nTokens), `${dtype} 2 threads, ${nTokens} tokens`);
          const outs = [k2.allocF32(nTokens * rows), k2.allocF32(nTokens * rows)], xin = k2.allocF32(nTokens * cols);
          xin.set(xs);
          k2.matmulShared(outs, [a2, b2], xin, nTokens);
          assertBits(outs[0] as Float32Array, product(k1, a1, xs, nTokens), `${dtype} matmulShared first, ${nTokens} tokens`);
          assertBits(outs[1] as Float32Array, product(k1, b1, xs, nTokens), `${dtype} matmulShared second, ${nTokens} tokens`);
        }
      }
      assert.ok(k2.workerChunks() > chunksBefore, `${dtype}: the 2-thread products ran on the pool`);
    }
  } finally {
    await k1.dispose();
    await k2.dispose();
  }
});

test("q4_Kx4, q6_Kx4: ggufRowOfX4 and embedding rows give the GGUF rows back", { skip }, async () => {
  const kx = await createWasmKernels({ simd: "relaxed", threads: 1 });
  const kg = await createWasmKernels({ simd: "relaxed", threads: 1, repackWeights: false });
  try {
    for (const { dtype, blockBytes } of KX4) {
      const rows = 8, cols = 512, rowBytes = (cols / 256) * blockBytes;
      assertRowsBack(kx, kg, dtype, rows, cols, rowBytes, randomWeights(createRng(3), dtype, rows, cols), dtype);
    }
  } finally {
    await kx.dispose();
    await kg.dispose();
  }
});

/**
 * A Q4_K (then Q6_K) model with a tied head (embedRows and the products read the same repacked bytes), read by the loader
 * straight into the backend (repacked in place): logits of a prefill and three decode steps bitwise those of
 * GGUF order, on one memory and spread over weight shards (shards.ts).
 */
test("q4_Kx4, q6_Kx4: a tied model's logits equal GGUF order's, one memory and sharded", { skip }, async () => {
  for (const { dtype, layout } of KX4) await assertTiedModelUnchanged(dtype, layout, "relaxed");
});
