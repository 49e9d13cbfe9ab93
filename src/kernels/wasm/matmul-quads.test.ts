// Prefill of the legacy 32-element types runs on weight rows repacked four at a time (wasm/matmul-legacy-quads.ts),
// two such quads and four tokens per pass; the last rows of a matrix (fewer than four) take the one-row tiles of
// wasm/matmul-legacy.ts. Both must give the same bits for the same row and token: the repacking moves bytes,
// it does not change a sum. So a matrix's product must equal, bit for bit, the products of its rows taken one
// at a time (a one-row matrix never forms a quad), on both builds, with an odd quad, a partial token tile and
// an odd token; and 1 and 2 threads must agree bitwise (the pool splits rows on multiples of 16).

import { test } from "node:test";
import assert from "node:assert/strict";
import type { DType } from "../../tensor/dtype.js";
import { DTYPES } from "../../tensor/dtype.js";
import { createRng, randomF32, randomWeights } from "../../../test/conformance/backends.js";
import { createWasmKernels as createNodeWasmKernels } from "./index.node.js";
import { createWasmKernels, type WasmKernels } from "./index.js";
import { enableRelaxedSimd } from "./host.node.js";

const LEGACY: readonly DType[] = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL"];

function product(k: WasmKernels, dtype: DType, rows: number, cols: number, bytes: Uint8Array, x: Float32Array, nTokens: number): Float32Array {
  const w = k.prepareWeight(dtype, rows, cols, bytes);
  const xs = k.allocF32(nTokens * cols);
  xs.set(x);
  const out = k.allocF32(nTokens * rows);
  k.matmul(out, w, xs, nTokens);
  return Float32Array.from(out);
}

function assertBits(got: Float32Array, want: Float32Array, what: string): void {
  const a = new Uint32Array(got.buffer), b = new Uint32Array(want.buffer);
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) assert.fail(`${what}: index ${i}: ${got[i]} vs ${want[i]}`);
}

test("repacked quads give the one-row tiles' bits, every legacy type, both builds", async () => {
  const builds: Array<"baseline" | "relaxed"> = enableRelaxedSimd() ? ["baseline", "relaxed"] : ["baseline"];
  for (const simd of builds) {
    const k = await createWasmKernels({ simd, threads: 1 });
    for (const dtype of LEGACY) {
      // 13 rows: a pair of quads, an odd quad and one tail row; 7 tokens: a full tile and a partial one of three
      for (const [rows, cols, nTokens] of [[13, 96, 7], [8, 64, 2]] as const) {
        const rng = createRng(DTYPES[dtype].ggmlId * 31 + rows);
        const bytes = randomWeights(rng, dtype, rows, cols);
        const x = randomF32(rng, nTokens * cols);
        const all = product(k, dtype, rows, cols, bytes, x, nTokens);
        const rowBytes = bytes.length / rows;
        for (let r = 0; r < rows; r++) {
          const one = product(k, dtype, 1, cols, bytes.subarray(r * rowBytes, (r + 1) * rowBytes), x, nTokens);
          const col = Float32Array.from({ length: nTokens }, (_, t) => all[t * rows + r] as number);
          assertBits(col, one, `${simd} ${dtype} ${rows}x${cols}, ${nTokens} tokens, row ${r}`);
        }
      }
    }
    await k.dispose();
  }
});

test("repacked quads: 1 and 2 threads give the same bits", async () => {
  const k1 = await createNodeWasmKernels({ threads: 1 }), k2 = await createNodeWasmKernels({ threads: 2 });
  try {
    // the worker takes chunks only when it wakes in time (a loaded machine may leave them all to the caller):
    // repeat, a bounded number of times, until it has taken part
    for (let pass = 0; pass < 20 && (pass === 0 || k2.workerChunks() === 0); pass++) {
      for (const dtype of LEGACY) {
        const rows = 72, cols = 256, nTokens = 9; // 165888 multiply-adds: split across the pool in 16-row chunks
        const rng = createRng(DTYPES[dtype].ggmlId);
        const bytes = randomWeights(rng, dtype, rows, cols);
        const x = randomF32(rng, nTokens * cols);
        assertBits(product(k2, dtype, rows, cols, bytes, x, nTokens), product(k1, dtype, rows, cols, bytes, x, nTokens), `${dtype}, 2 threads vs 1`);
      }
    }
    assert.ok(k2.workerChunks() > 0, "the 2-thread products ran on the pool");
  } finally {
    await k1.dispose();
    await k2.dispose();
  }
});

/**
 * Blocks whose quants all sit at one end of their range (0, or 15/31), against activations all ±1 (quantized
 * to ±127): the repacked quads' i16 sums then reach their bound (Q5_0 with q = 0: a lane ends at
 * −16·16·127 = −32512, one step from overflow; see quadOffset in wasm/activation-tiles.ts). The quads must
 * still give the one-row tiles' bits (those sum in i32), and both must be near Σ (q − offset)·x·d_w·d_x
 * (0.1%: the f32 sums of 2 blocks, each d_x rounded through f16).
 */
test("repacked quads: quants at the ends of their range stay exact", async () => {
  const k = await createWasmKernels({ simd: enableRelaxedSimd() ? "relaxed" : "baseline", threads: 1 });
  // byte layout of one block: [d f16][m f16 (Q4_1/Q5_1)][qh u32 (Q5)][16 bytes of nibbles]; d = m = 1.0
  const LAYOUT: Record<string, { min: boolean; q5: boolean; offset: number }> = {
    Q4_0: { min: false, q5: false, offset: 8 }, Q4_1: { min: true, q5: false, offset: 0 },
    Q5_0: { min: false, q5: true, offset: 16 }, Q5_1: { min: true, q5: true, offset: 0 },
  };
  const rows = 8, cols = 64, nTokens = 4;
  try {
    for (const [dtype, { min, q5, offset }] of Object.entries(LAYOUT) as Array<[DType, (typeof LAYOUT)[string]]>) {
      for (const high of [false, true]) {
        const bb = DTYPES[dtype].blockBytes, bytes = new Uint8Array((rows * cols / 32) * bb);
        for (let o = 0; o < bytes.length; o += bb) {
          bytes[o + 1] = 0x3c; // d = 1.0
          if (min) bytes[o + 3] = 0x3c; // m = 1.0
          if (high) bytes.fill(0xff, o + (min ? 4 : 2), o + bb);
        }
        const q = high ? (q5 ? 31 : 15) : 0;
        // an infinite activation: its block's quants are 0 on every path (activation-rounding.ts), so the
        // quads' i16 sums cannot leave their bound, and the token's outputs are NaN on both paths alike
        const inf = new Float32Array(nTokens * cols).fill(-1);
        inf[cols + 5] = Infinity;
        const allInf = product(k, dtype, rows, cols, bytes, inf, nTokens);
        assertBits(Float32Array.from({ length: nTokens }, (_, t) => allInf[t * rows] as number),
          product(k, dtype, 1, cols, bytes.subarray(0, bytes.length / rows), inf, nTokens), `${dtype} quants ${q}, an infinite activation`);
        assert.ok(Number.isNaN(allInf[rows]), `${dtype} quants ${q}: the token with an infinite activation gives NaN`);
        for (const sign of [1, -1]) {
          const x = new Float32Array(nTokens * cols).fill(sign);
          const all = product(k, dtype, rows, cols, bytes, x, nTokens);
          const one = product(k, dtype, 1, cols, bytes.subarray(0, bytes.length / rows), x, nTokens);
          const want = cols * ((q - offset) * sign + (min ? sign : 0)); // d_x = 1/127 · 127; s_x = d_x·Σq = ±cols/32 per block
          for (let r = 0; r < rows; r++) {
            const col = Float32Array.from({ length: nTokens }, (_, t) => all[t * rows + r] as number);
            assertBits(col, one, `${dtype} quants ${q}, activations ${sign}, row ${r}`);
            for (const v of col) assert.ok(Math.abs(v - want) <= 1e-3 * Math.abs(want) + 1e-3, `${dtype} quants ${q}, activations ${sign}: ${v} vs ${want}`);
          }
        }
      }
    }
  } finally {
    await k.dispose();
  }
});
