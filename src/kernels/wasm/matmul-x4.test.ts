// Q4_0 and Q8_0 weights repacked at prepareWeight into the x4 layouts (four rows interleaved block by block;
// wasm/matmul-legacy-x4.ts, layout-x4.ts) must change nothing a caller sees: the one-token kernels keep the
// one-row kernels' f32 order lane for lane, prefill reads the same quads, embedding rows come back in GGUF
// order. So products and lookups must equal, bit for bit, those of the same backend with repackWeights: false
// (GGUF order, the one-row kernels rowDotNarrow / rowDot) — with a tail of nb mod 4 blocks, 1 and 2 threads,
// alone and through matmulShared, on both builds for Q8_0 — and no reader may take the repacked bytes for GGUF rows.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, randomF32, randomWeights } from "../../../test/conformance/backends.js";
import { PeelError } from "../../util/errors.js";
import type { WeightLayout, WeightMatrix } from "../kernels.js";
import type { DType } from "../../tensor/dtype.js";
import { createTsKernels } from "../ts/index.js";
import { createWasmKernels as createNodeWasmKernels } from "./index.node.js";
import { createWasmKernels } from "./index.js";
import { enableRelaxedSimd } from "./host.node.js";
import { assertBits, assertRowsBack, assertTiedModelUnchanged, product } from "../../../test/fixtures/x4-checks.js";

const relaxed = enableRelaxedSimd();
const skip = relaxed ? false : "the q4_0x4 layout exists only in the relaxed-SIMD build, which this runtime lacks";

const X4: ReadonlyArray<{ dtype: DType; layout: WeightLayout; simd: "baseline" | "relaxed" }> = [
  ...(relaxed ? [{ dtype: "Q4_0", layout: "q4_0x4", simd: "relaxed" } as const, { dtype: "Q8_0", layout: "q8_0x4", simd: "relaxed" } as const] : []),
  { dtype: "Q8_0", layout: "q8_0x4", simd: "baseline" },
];

test("x4 layouts: products equal GGUF order's bit for bit (decode and prefill, block tails, both builds)", async () => {
  for (const { dtype, layout, simd } of X4) {
    const kx = await createWasmKernels({ simd, threads: 1 });
    const kg = await createWasmKernels({ simd, threads: 1, repackWeights: false });
    try {
      // nb = 3 (tail only), 5 (one group of four and a tail), 8 (no tail)
      for (const [rows, cols] of [[12, 96], [8, 160], [20, 256]] as const) {
        const rng = createRng(rows * 1000 + cols);
        const bytes = randomWeights(rng, dtype, rows, cols);
        const wx = kx.prepareWeight(dtype, rows, cols, bytes), wg = kg.prepareWeight(dtype, rows, cols, bytes);
        assert.equal(wx.layout, layout);
        assert.equal(wg.layout, undefined);
        for (const nTokens of [1, 5]) {
          const x = randomF32(rng, nTokens * cols);
          assertBits(product(kx, wx, x, nTokens), product(kg, wg, x, nTokens), `${simd} ${dtype} ${rows}x${cols}, ${nTokens} tokens`);
        }
      }
      // rows not a multiple of 4 keep GGUF order
      assert.equal(kx.prepareWeight(dtype, 6, 64, randomWeights(createRng(6), dtype, 6, 64)).layout, undefined);
    } finally {
      await kx.dispose();
      await kg.dispose();
    }
  }
});

/**
 * The decode kernels convert a block's four scales as the one-row kernels do (f16Lo over groups of four blocks,
 * exactly in the last nb mod 4): with f16-subnormal scales, and with every f16 pattern as a scale (row h's five
 * blocks all have scale h: zeros, subnormals, normals, ±inf, NaNs, in the loop and in the tail), outputs must be
 * GGUF order's bits; NaN outputs only have to be NaN on both sides (which NaN payload an f32 operation passes
 * on is not a property of the kernels).
 */
test("x4 layouts: f16-subnormal scales, and every f16 pattern as a scale, give GGUF order's bits (both builds)", async () => {
  for (const { dtype, layout, simd } of X4) {
    const kx = await createWasmKernels({ simd, threads: 1 });
    const kg = await createWasmKernels({ simd, threads: 1, repackWeights: false });
    try {
      for (const [rows, cols] of [[12, 96], [20, 256]] as const) { // nb = 3 (tail only), 8 (no tail)
        const rng = createRng(rows + cols);
        const bytes = randomWeights(rng, dtype, rows, cols, true);
        assert.equal((bytes[1] as number) & 0x7c, 0, "the first block's scale is an f16 subnormal");
        const wx = kx.prepareWeight(dtype, rows, cols, bytes), wg = kg.prepareWeight(dtype, rows, cols, bytes);
        assert.equal(wx.layout, layout);
        for (const nTokens of [1, 5]) {
          const x = randomF32(rng, nTokens * cols);
          assertBits(product(kx, wx, x, nTokens), product(kg, wg, x, nTokens), `${simd} ${dtype} subnormal scales ${rows}x${cols}, ${nTokens} tokens`);
        }
      }
      const rows = 65536, cols = 160, bb = dtype === "Q8_0" ? 34 : 18, rowBytes = 5 * bb, bytes = new Uint8Array(rows * rowBytes);
      const row = Uint8Array.from({ length: rowBytes }, (_, i) => (i * 37 + 5) & 255); // the same nonzero quants in every row
      for (let h = 0; h < rows; h++) {
        bytes.set(row, h * rowBytes);
        for (let o = h * rowBytes; o < (h + 1) * rowBytes; o += bb) { bytes[o] = h & 255; bytes[o + 1] = h >> 8; }
      }
      const x = randomF32(createRng(9), cols);
      const got = product(kx, kx.prepareWeight(dtype, rows, cols, bytes), x, 1), want = product(kg, kg.prepareWeight(dtype, rows, cols, bytes), x, 1);
      const gb = new Uint32Array(got.buffer), wb = new Uint32Array(want.buffer);
      for (let h = 0; h < rows; h++) {
        if (gb[h] !== wb[h] && !(Number.isNaN(got[h]) && Number.isNaN(want[h]))) assert.fail(`${simd} ${dtype} scale 0x${h.toString(16)}: ${got[h]} vs ${want[h]}`);
      }
    } finally {
      await kx.dispose();
      await kg.dispose();
    }
  }
});

test("q4_0x4: 2 threads and matmulShared give 1 thread's bits", { skip }, async () => {
  const k1 = await createWasmKernels({ simd: "relaxed", threads: 1, repackWeights: false });
  const k2 = await createNodeWasmKernels({ simd: "relaxed", threads: 2 });
  try {
    const rows = 512, cols = 256; // 131072 multiply-adds a token: the pool splits them in 16-row chunks
    const rng = createRng(7);
    const x = randomF32(rng, 3 * cols);
    for (const dtype of ["Q4_0", "Q8_0"] as const) {
      const a = randomWeights(rng, dtype, rows, cols), b = randomWeights(rng, dtype, rows, cols);
      const [a1, b1] = [k1.prepareWeight(dtype, rows, cols, a), k1.prepareWeight(dtype, rows, cols, b)];
      const [a2, b2] = [k2.prepareWeight(dtype, rows, cols, a), k2.prepareWeight(dtype, rows, cols, b)];
      assert.notEqual(a2.layout, undefined);
      // the worker takes chunks only when it wakes in time: repeat, a bounded number of times, until it has
      for (let pass = 0; pass < 20 && (pass === 0 || k2.workerChunks() === 0); pass++) {
        for (const nTokens of [1, 3]) {
          const xs = x.subarray(0, nTokens * cols);
          assertBits(product(k2, a2, xs, nTokens), product(k1, a1, xs, nTokens), `2 threads, ${nTokens} tokens`);
          const outs = [k2.allocF32(nTokens * rows), k2.allocF32(nTokens * rows)], xin = k2.allocF32(nTokens * cols);
          xin.set(xs);
          k2.matmulShared(outs, [a2, b2], xin, nTokens);
          assertBits(outs[0] as Float32Array, product(k1, a1, xs, nTokens), `matmulShared first, ${nTokens} tokens`);
          assertBits(outs[1] as Float32Array, product(k1, b1, xs, nTokens), `matmulShared second, ${nTokens} tokens`);
        }
      }
    }
    assert.ok(k2.workerChunks() > 0, "the 2-thread products ran on the pool");
  } finally {
    await k1.dispose();
    await k2.dispose();
  }
});

test("x4 layouts: embedding rows and ggufRowOfX4 give the GGUF rows back", async () => {
  for (const { dtype, simd } of X4) {
    const kx = await createWasmKernels({ simd, threads: 1 });
    const kg = await createWasmKernels({ simd, threads: 1, repackWeights: false });
    try {
      const rows = 8, cols = 96, rowBytes = (cols / 32) * (dtype === "Q8_0" ? 34 : 18);
      assertRowsBack(kx, kg, dtype, rows, cols, rowBytes, randomWeights(createRng(3), dtype, rows, cols), `${simd} ${dtype}`);
    } finally {
      await kx.dispose();
      await kg.dispose();
    }
  }
});

test("q4_0x4: bytes read into the backend are repacked in place once, never under another weight", { skip }, async () => {
  const k = await createWasmKernels({ simd: "relaxed", threads: 1 });
  const kg = await createWasmKernels({ simd: "relaxed", threads: 1, repackWeights: false });
  try {
    const rows = 8, cols = 64, rowBytes = 36;
    const rng = createRng(11);
    const bytes = randomWeights(rng, "Q4_0", rows, cols), x = randomF32(rng, cols);
    const want = product(kg, kg.prepareWeight("Q4_0", rows, cols, bytes), x, 1);
    const file = k.allocWeightBytes(bytes.length, "a test tensor");
    file.set(bytes);
    const w = k.prepareWeight("Q4_0", rows, cols, file);
    assert.equal(w.data.byteOffset, file.byteOffset, "adopted where it is");
    assert.equal(w.layout, "q4_0x4");
    const again = k.prepareWeight("Q4_0", rows, cols, file); // the same tensor bound twice (shared embeddings)
    assertBits(product(k, again, x, 1), want, "prepared twice: repacked once");
    assertBits(product(k, w, x, 1), want, "first weight");
    assert.throws(() => k.prepareWeight("Q4_0", 4, cols, file.subarray(0, 4 * rowBytes)),
      (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" && /repacked in place/.test(e.message));
    // bytes that a GGUF-order weight reads (6 rows: not repacked) are repacked in a copy for a 4-row slice
    const file2 = k.allocWeightBytes(6 * rowBytes, "a second test tensor");
    file2.set(bytes.subarray(0, 6 * rowBytes));
    const six = k.prepareWeight("Q4_0", 6, cols, file2);
    const four = k.prepareWeight("Q4_0", 4, cols, file2.subarray(0, 4 * rowBytes));
    assert.equal(four.layout, "q4_0x4");
    assert.notEqual(four.data.byteOffset, file2.byteOffset, "repacked in a copy");
    assertBits(product(k, six, x, 1), want.subarray(0, 6), "the GGUF-order weight still reads its rows");
    assertBits(product(k, four, x, 1), want.subarray(0, 4), "the slice");
  } finally {
    await k.dispose();
    await kg.dispose();
  }
});

test("x4 layouts: GGUF-row readers refuse them; the baseline build keeps Q4_0 in GGUF order", async () => {
  const w: WeightMatrix = { dtype: "Q4_0", rows: 4, cols: 32, data: new Uint8Array(72), layout: "q4_0x4" };
  const ts = createTsKernels();
  assert.throws(() => ts.matmul(new Float32Array(4), w, new Float32Array(32), 1), (e: unknown) => e instanceof PeelError && /q4_0x4/.test(e.message));
  assert.throws(() => ts.embedRows(new Float32Array(32), w, [0], 1), (e: unknown) => e instanceof PeelError && /GGUF row order/.test(e.message));
  const kb = await createWasmKernels({ simd: "baseline", threads: 1 });
  try {
    assert.equal(kb.prepareWeight("Q4_0", 8, 64, randomWeights(createRng(2), "Q4_0", 8, 64)).layout, undefined);
    assert.equal(kb.prepareWeight("Q8_0", 8, 64, randomWeights(createRng(2), "Q8_0", 8, 64)).layout, "q8_0x4");
  } finally {
    await kb.dispose();
  }
});

/**
 * A Q4_0 model with a tied head (the embedding table is also the LM head: embedRows and the products read the
 * same repacked bytes), read by the loader straight into the backend (repacked in place): logits of a prefill
 * and three decode steps bitwise those of GGUF order, on one memory and spread over weight shards (shards.ts).
 */
test("x4 layouts: a tied model's logits equal GGUF order's, one memory and sharded", async () => {
  for (const { dtype, layout, simd } of X4.filter((c) => c.simd === (relaxed ? "relaxed" : "baseline"))) await assertTiedModelUnchanged(dtype, layout, simd);
});
