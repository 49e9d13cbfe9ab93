/**
 * Kernel-level parity with llama.cpp for the low-bit K-quants: Peel's wasm products of Q2_K, Q3_K and IQ4_XS
 * weights must give, bit for bit, the f32 outputs llama.cpp's own CPU kernels give on the same inputs
 * (test/fixtures/kquant-dots.json, made by `npm run refs:kquants` from llama.cpp's source at the commit
 * node-llama-cpp bundles; the inputs come from test/fixtures/kquant-dots.ts). No tolerance: with these types a
 * last-bit difference in a product flips later 8-bit roundings (wasm/matmul-lowbit.ts), so equality is the
 * property that keeps whole-model parity. What each Peel call is compared with is what llama.cpp runs for it on
 * an AVX2/AVX-512 CPU: one token (decode) → Q2_K's repacked gemv, else vec_dot; a batch → Q2_K's gemm for whole
 * groups of four tokens and gemv for the rest, vec_dot for the others. Every wasm build (relaxed SIMD and the
 * baseline, whose fused multiply-add is emulated in f64) and 1 and 2 threads.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createWasmKernels } from "../../src/kernels/wasm/index.node.js";
import { kquantDotInputs, type LowBitType } from "../fixtures/kquant-dots.js";

interface Case {
  readonly type: LowBitType; readonly seed: number; readonly rows: number; readonly cols: number; readonly tokens: number;
  readonly gemv?: readonly string[]; readonly gemm?: readonly string[]; readonly vecDot?: readonly string[];
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/kquant-dots.json", import.meta.url), "utf8")) as { cases: Case[] };

const bits = new Uint32Array(1), f32 = new Float32Array(bits.buffer);
function hex(v: number): string {
  f32[0] = v;
  return (bits[0] as number).toString(16).padStart(8, "0");
}

/** llama.cpp's output for token t, row r: in a batch (decode = false) or alone (decode = true). */
function expected(c: Case, t: number, r: number, decode: boolean): string {
  const i = t * c.rows + r;
  if (c.type !== "Q2_K") return c.vecDot![i]!;
  const inGemm = !decode && t < c.tokens - (c.tokens % 4);
  return (inGemm ? c.gemm![i] : c.gemv![i])!;
}

for (const simd of ["relaxed", "baseline"] as const) {
  for (const threads of [1, 2]) {
    test(`Q2_K / Q3_K / IQ4_XS products equal llama.cpp's bit for bit (${simd}, ${threads} thread${threads > 1 ? "s" : ""})`, async () => {
      const k = await createWasmKernels({ threads, simd });
      try {
        for (const c of fixture.cases) {
          const { weights, x } = kquantDotInputs(c.type, c.seed, c.rows, c.cols, c.tokens);
          const w = k.prepareWeight(c.type, c.rows, c.cols, weights);
          const xs = k.allocF32(x.length);
          xs.set(x);
          const batch = k.allocF32(c.tokens * c.rows), one = k.allocF32(c.rows);
          k.matmul(batch, w, xs, c.tokens);
          for (let t = 0; t < c.tokens; t++) {
            k.matmul(one, w, xs.subarray(t * c.cols, (t + 1) * c.cols), 1);
            for (let r = 0; r < c.rows; r++) {
              assert.equal(hex(one[r] as number), expected(c, t, r, true), `${c.type} seed ${c.seed} decode token ${t} row ${r}`);
              assert.equal(hex(batch[t * c.rows + r] as number), expected(c, t, r, false), `${c.type} seed ${c.seed} batch token ${t} row ${r}`);
            }
          }
        }
      } finally {
        await k.dispose?.();
      }
    });
  }
}
