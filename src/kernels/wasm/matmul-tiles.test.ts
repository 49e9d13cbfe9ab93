// The wasm matmuls compute prefill (several tokens) in tiles of four tokens, with a partial last tile, and
// decode (one token) one weight row at a time. A product over n tokens must agree with n one-token products
// for every weight type and for token and row counts that leave partial tiles: bit for bit for the K-quants and IQ4_XS
// (the same operations either way), within 1e-6 of Σ|w·x| for the others (f32 summation order differs), and for
// Q2_K's whole tiles of four tokens, which round as llama.cpp's batched Q2_K kernel does (one fused multiply-add
// per 128 elements instead of per 256: wasm/matmul-lowbit.ts); its partial tile is bitwise again.
// Closeness to the reference kernels is test/conformance's job.

import { test } from "node:test";
import assert from "node:assert/strict";
import { DTYPES, type DType } from "../../tensor/dtype.js";
import { dequantize } from "../../formats/gguf/dequant/index.js";
import { createRng, randomF32, randomWeights } from "../../../test/conformance/backends.js";
import { createWasmKernels } from "./index.js";
import { WASM_WEIGHT_TYPES } from "./matmul.js";

test("a prefill product agrees with one-token products, partial tiles included, every weight type", async () => {
  const k = await createWasmKernels();
  for (const dtype of WASM_WEIGHT_TYPES as readonly DType[]) {
    const rng = createRng(40);
    // float types: 134 columns, so rows widened for prefill (F16/BF16) and every tile end in a scalar tail
    const cols = DTYPES[dtype].blockElems === 256 ? 512 : DTYPES[dtype].blockElems === 32 ? 160 : 134;
    const rows = 37; // partial row chunks and quads
    const bytes = randomWeights(rng, dtype, rows, cols);
    // 7 tokens: one full and one partial token tile; 50: the same past the repacked quads' token thresholds
    for (const nTokens of [7, 50]) check(k, dtype, bytes, rows, cols, nTokens, rng);
  }
});

function check(k: Awaited<ReturnType<typeof createWasmKernels>>, dtype: DType, bytes: Uint8Array, rows: number, cols: number, nTokens: number,
  rng: ReturnType<typeof createRng>): void {
  const block = DTYPES[dtype].blockElems;
  const wf = new Float32Array(rows * cols);
  dequantize(dtype, bytes, wf, rows * cols);
  const w = k.prepareWeight(dtype, rows, cols, bytes);
  const x = k.allocF32(nTokens * cols);
  x.set(randomF32(rng, nTokens * cols));
  const all = k.allocF32(nTokens * rows);
  k.matmul(all, w, x, nTokens);
  const one = k.allocF32(rows);
  for (let t = 0; t < nTokens; t++) {
    const exact = block === 256 && !(dtype === "Q2_K" && t < nTokens - (nTokens % 4));
    k.matmul(one, w, x.subarray(t * cols, (t + 1) * cols), 1);
    for (let r = 0; r < rows; r++) {
      const got = all[t * rows + r] as number, want = one[r] as number;
      if (exact) { assert.equal(got, want, `${dtype} x${nTokens} token ${t} row ${r}`); continue; }
      let mass = 0;
      for (let i = 0; i < cols; i++) mass += Math.abs((wf[r * cols + i] as number) * (x[t * cols + i] as number));
      assert.ok(Math.abs(got - want) <= 1e-6 * mass, `${dtype} x${nTokens} token ${t} row ${r}: ${got} vs ${want} (Σ|w·x| ${mass})`);
    }
  }
}
