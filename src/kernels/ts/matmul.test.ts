// Matrix products: F32 equals a naive product; quantized weights equal dequantized weights times the
// activations rounded as activation-rounding.ts documents (Q8_0 → q8_0, Q4_K → q8_k, F16 → f16, Q4_1 → q8_1
// plus its block-minimum correction); embedRows equals the dequantized row. Also prepareWeight's checks.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { DType } from "../../tensor/dtype.js";
import { DTYPES } from "../../tensor/dtype.js";
import { f32ToF16, f16ToF32 } from "../../tensor/f16.js";
import { dequantize } from "../../formats/gguf/dequant/index.js";
import { quantize } from "../../formats/gguf/quant/index.js";
import { PeelError } from "../../util/errors.js";
import { activationRoundingFor, roundActivations } from "./activation-rounding.js";
import { createTsKernels } from "./index.js";

function values(n: number, seed: number): Float32Array {
  return new Float32Array(n).map((_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 2);
}

/** (rows, cols) float64 product of x (nTokens, cols) with wᵀ. */
function naive(w: Float32Array, rows: number, cols: number, x: Float32Array, nTokens: number): Float64Array {
  const out = new Float64Array(nTokens * rows);
  for (let t = 0; t < nTokens; t++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let i = 0; i < cols; i++) s += (w[r * cols + i] as number) * (x[t * cols + i] as number);
      out[t * rows + r] = s;
    }
  }
  return out;
}

function assertClose(got: Float32Array, want: Float64Array, relTol: number, what: string): void {
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as number;
    const tol = relTol * Math.max(1, Math.abs(w));
    assert.ok(Math.abs((got[i] as number) - w) <= tol, `${what}[${i}]: got ${got[i]}, want ${w}`);
  }
}

/** Random K-quant bytes with small f16 scales, so values stay O(1). */
function randomKQuantBytes(dtype: DType, n: number, seed: number): Uint8Array {
  const bytes = new Uint8Array((n / DTYPES[dtype].blockElems) * DTYPES[dtype].blockBytes);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.abs(Math.sin(seed + i * 1.618)) * 256) & 255;
  const d = f32ToF16(0.01), dmin = f32ToF16(0.02);
  for (let o = 0; o < bytes.length; o += DTYPES[dtype].blockBytes) { // Q4_K: d at 0, dmin at 2
    bytes[o] = d & 255; bytes[o + 1] = d >> 8; bytes[o + 2] = dmin & 255; bytes[o + 3] = dmin >> 8;
  }
  return bytes;
}

test("matmul F32 equals the naive product", () => {
  const k = createTsKernels();
  const rows = 5, cols = 48, nTokens = 3;
  const wf = values(rows * cols, 1);
  const x = values(nTokens * cols, 2);
  const w = k.prepareWeight("F32", rows, cols, new Uint8Array(wf.buffer));
  const out = new Float32Array(nTokens * rows);
  k.matmul(out, w, x, nTokens);
  assertClose(out, naive(wf, rows, cols, x, nTokens), 1e-6, "F32");
});

for (const [dtype, cols] of [["Q8_0", 64], ["Q4_K", 256], ["F16", 32], ["Q4_1", 64]] as const) {
  test(`matmul ${dtype} equals dequantized weights · activations rounded as ${activationRoundingFor(dtype)}`, () => {
    const k = createTsKernels();
    const rows = 4, nTokens = 2;
    const bytes = dtype === "Q4_K" ? randomKQuantBytes(dtype, rows * cols, 3) : quantize(dtype, values(rows * cols, 3));
    const wf = new Float32Array(rows * cols);
    dequantize(dtype, bytes, wf, rows * cols);
    const x = values(nTokens * cols, 4);
    const mode = activationRoundingFor(dtype);
    const xr = new Float32Array(nTokens * cols);
    const sCorr = new Float32Array(nTokens * cols / 32);
    for (let t = 0; t < nTokens; t++) {
      roundActivations(mode, xr.subarray(t * cols), x.subarray(t * cols), cols, sCorr.subarray(t * cols / 32));
    }
    assert.ok(xr.some((v, i) => v !== x[i]), "the rounding must change the activations, or this test shows nothing");
    const want = naive(wf, rows, cols, xr, nTokens);
    if (dtype === "Q4_1") { // + Σ_blocks m · s correction, m the block minimum (f16 at bytes 2-3 of each 20-byte block)
      for (let t = 0; t < nTokens; t++) {
        for (let r = 0; r < rows; r++) {
          for (let b = 0; b < cols / 32; b++) {
            const o = (r * cols / 32 + b) * 20;
            const m = f16ToF32((bytes[o + 2] as number) | ((bytes[o + 3] as number) << 8));
            want[t * rows + r] = (want[t * rows + r] as number) + m * (sCorr[t * cols / 32 + b] as number);
          }
        }
      }
    }
    const out = new Float32Array(nTokens * rows);
    k.matmul(out, k.prepareWeight(dtype, rows, cols, bytes), x, nTokens);
    assertClose(out, want, 1e-6, dtype);
    // and it stays close to the unrounded product: within 2% of Σ|w·x| (8-bit activations err by ≤ 1/254 of amax)
    const exact = naive(wf, rows, cols, x, nTokens);
    const mass = naive(wf.map(Math.abs), rows, cols, x.map(Math.abs), nTokens);
    for (let i = 0; i < exact.length; i++) {
      assert.ok(Math.abs((out[i] as number) - (exact[i] as number)) <= 0.02 * (mass[i] as number), `${dtype} vs unrounded [${i}]`);
    }
  });
}

test("embedRows equals the dequantized rows (Q8_0 and F16 tables)", () => {
  const k = createTsKernels();
  for (const dtype of ["Q8_0", "F16"] as const) {
    const rows = 4, cols = 64;
    const bytes = quantize(dtype, values(rows * cols, 5));
    const all = new Float32Array(rows * cols);
    dequantize(dtype, bytes, all, rows * cols);
    const ids = [2, 0, 2];
    const out = new Float32Array(ids.length * cols);
    k.embedRows(out, k.prepareWeight(dtype, rows, cols, bytes), ids, ids.length);
    for (let t = 0; t < ids.length; t++) {
      const id = ids[t] as number;
      assert.deepEqual([...out.subarray(t * cols, (t + 1) * cols)], [...all.subarray(id * cols, (id + 1) * cols)], `${dtype} token ${t}`);
    }
  }
});

test("prepareWeight rejects unsupported types (UNSUPPORTED) and short or misaligned data (CONFIG)", () => {
  const k = createTsKernels();
  assert.throws(() => k.prepareWeight("Q8_K", 1, 256, new Uint8Array(292)), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" && /Q8_K/.test(e.message));
  assert.throws(() => k.prepareWeight("Q8_0", 2, 32, new Uint8Array(34)), (e: unknown) => e instanceof PeelError && e.code === "CONFIG");
  assert.throws(() => k.prepareWeight("Q8_0", 1, 48, new Uint8Array(68)), (e: unknown) => e instanceof PeelError && e.code === "CONFIG");
});
