// Q2_K prefill in the relaxed build runs on 8-bit dots (wasm/matmul-q2k-quads.ts: unscaled 2-bit weights, i16
// sums per 16-element sub-block, then the scale), the baseline build on i16 dots over weights pre-multiplied by
// their scales (wasm/matmul-lowbit-quads.ts). Both must form the same exact integers S and M and run the same
// f32 steps (q2Step), so their outputs must agree bit for bit: for odd and partial quads (37 rows: row chunks of
// 16, 16 and 5), whole and partial token tiles (14 tokens: past wideQuadMinTokens, three tiles and two tokens),
// and weights and activations at the ends of their ranges (every q = 3 and scale 15, activations quantized to
// ±127: the i16 sums at their largest). The baseline's fused multiply-add is emulated in f64 and differs from a
// real one in about one case in 2^29 (wasm/matmul-lowbit.ts); with these fixed seeds none occurs, so equality holds.
// llama.cpp's own outputs are compared at 37 tokens in test/parity/kquant-dots-parity.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, randomF32, randomWeights } from "../../../test/conformance/backends.js";
import { createWasmKernels, type WasmKernels } from "./index.js";
import { enableRelaxedSimd } from "./host.node.js";

function product(k: WasmKernels, rows: number, cols: number, bytes: Uint8Array, x: Float32Array, nTokens: number): Uint32Array {
  const w = k.prepareWeight("Q2_K", rows, cols, bytes);
  const xs = k.allocF32(nTokens * cols);
  xs.set(x);
  const out = k.allocF32(nTokens * rows);
  k.matmul(out, w, xs, nTokens);
  return new Uint32Array(Float32Array.from(out).buffer);
}

/** Q2_K blocks with every scale and min 15 and every q = 3 (d, dmin = 1/64 as f16). */
function extremeWeights(rows: number, cols: number): Uint8Array {
  const bytes = new Uint8Array((rows * cols / 256) * 84);
  for (let b = 0; b < bytes.length; b += 84) {
    bytes.fill(0xff, b, b + 80);
    bytes[b + 81] = 0x24; bytes[b + 83] = 0x24; // 0x2400: 2^-6
  }
  return bytes;
}

test("Q2_K prefill: the relaxed build's 8-bit quads give the baseline's i16 quads' bits", { skip: !enableRelaxedSimd() }, async () => {
  const relaxed = await createWasmKernels({ simd: "relaxed", threads: 1 });
  const baseline = await createWasmKernels({ simd: "baseline", threads: 1 });
  const rows = 37, cols = 512, nTokens = 14;
  const rng = createRng(17);
  const cases: Array<[string, Uint8Array, Float32Array]> = [
    ["random", randomWeights(rng, "Q2_K", rows, cols), randomF32(rng, nTokens * cols)],
    // one large value per 16 elements with the same sign: every quant ±127 or near it, the block sums large
    ["extreme", extremeWeights(rows, cols), Float32Array.from({ length: nTokens * cols }, (_, i) => ((i >> 9) & 1 ? -1 : 1) * (i % 16 === 0 ? 4 : 3.99))],
  ];
  for (const [what, bytes, x] of cases) {
    const got = product(relaxed, rows, cols, bytes, x, nTokens), want = product(baseline, rows, cols, bytes, x, nTokens);
    let nonzero = 0;
    for (let i = 0; i < want.length; i++) {
      if (got[i] !== want[i]) assert.fail(`${what}: token ${Math.floor(i / rows)} row ${i % rows}: bits ${got[i]?.toString(16)} vs ${want[i]?.toString(16)}`);
      if ((want[i] as number) << 1 !== 0) nonzero++;
    }
    assert.ok(nonzero > want.length / 2, `${what}: mostly zero outputs (${nonzero} of ${want.length}), the check would be vacuous`);
  }
  await relaxed.dispose?.();
  await baseline.dispose?.();
});
