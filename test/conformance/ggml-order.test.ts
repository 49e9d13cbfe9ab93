// The wasm kernels sum in llama.cpp's order exactly as the ts reference does (ts/ggml-f16-dot.ts, ggml-math.ts):
// F16 matmul (ggml_vec_dot_f16's 64 lanes for one token or shapes tinyBLAS refuses, tinyBLAS's 16 lanes for
// batches), the standard attention path over an f16 cache, both flash kernels (one-row and tiled), SwiGLU and GeGLU. The reference
// was checked tensor by tensor against llama.cpp (bitwise, flash off), so the tolerance here is zero: every
// output bit must match, on both builds (baseline, relaxed SIMD) and with 1 and 2 threads (the pool splits rows
// and heads, which must not change any sum). Shapes cover head 16/64/128, n_kv not a multiple of 64 or 16, a
// window, a cache from kvStart, and matmul rows/cols that tinyBLAS refuses. The tiled flash kernel's fused
// multiply-adds are true FMAs in the relaxed build and f64 sums in the baseline one, which differ only at f64
// midpoints: with these fixed seeds none occurs (the data never changes, so this cannot flicker).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { AttentionShape, Kernels, KvBuffer } from "../../src/kernels/kernels.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { createWasmKernels } from "../../src/kernels/wasm/index.node.js";
import { f32ToF16 } from "../../src/tensor/f16.js";
import { quantize } from "../../src/formats/gguf/quant/index.js";
import { createRng, onBackend, randomF32, RELAXED_SIMD } from "./backends.js";

const ref = createTsKernels();
const rng = createRng(1234);

/** Bitwise equality; on failure names the first differing index. */
function assertBits(got: Float32Array, want: Float32Array, what: string): void {
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length), b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < b.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${what}: index ${i} of ${b.length}: wasm ${got[i]} vs ts ${want[i]}`);
  }
}

function f16Kv(k: Kernels, seqLen: number, kvDim: number, src: Float32Array): KvBuffer {
  const buf = k.allocKv("F16", seqLen, kvDim);
  const data = buf.data as Uint16Array;
  for (let i = 0; i < src.length; i++) data[i] = f32ToF16(src[i] as number);
  return buf;
}

async function matmulCases(k: Kernels, what: string): Promise<void> {
  // (rows, cols, nTokens): decode with a tail past 64; tinyBLAS batches (with and without the 4-token tiles and
  // the widened-row scratch); shapes it refuses (rows % 4, cols % 16), which take the 64-lane order per token
  for (const [rows, cols, nTokens] of [[40, 200, 1], [64, 768, 1], [32, 256, 2], [36, 256, 7], [128, 1024, 9], [30, 256, 6], [32, 72, 5]] as const) {
    const bytes = quantize("F16", randomF32(rng, rows * cols, 1 / Math.sqrt(cols)));
    const x = randomF32(rng, nTokens * cols);
    const want = new Float32Array(nTokens * rows);
    ref.matmul(want, ref.prepareWeight("F16", rows, cols, bytes), x, nTokens);
    const out = k.allocF32(nTokens * rows);
    k.matmul(out, k.prepareWeight("F16", rows, cols, bytes), onBackend(k, x), nTokens);
    assertBits(out, want, `${what}: matmul F16 ${rows}x${cols}, ${nTokens} tokens`);
  }
}

async function attentionCases(k: Kernels, what: string): Promise<void> {
  const seqLen = 300;
  for (const [nHeads, nKvHeads, headDim] of [[8, 2, 64], [4, 1, 128], [8, 8, 16]] as const) {
    const kvDim = nKvHeads * headDim;
    const keys = randomF32(rng, seqLen * kvDim), values = randomF32(rng, seqLen * kvDim);
    const kr = f16Kv(ref, seqLen, kvDim, keys), vr = f16Kv(ref, seqLen, kvDim, values);
    const kb = f16Kv(k, seqLen, kvDim, keys), vb = f16Kv(k, seqLen, kvDim, values);
    // (startPos, nTokens, extra): decode at n_kv 1, 71 (not a multiple of 16 or 64) and 250; batches; a window
    // whose first row is not group-aligned; the one-row flash kernel on the same shapes
    const base: AttentionShape = { nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
    const cases: [number, number, Partial<AttentionShape>][] = [[0, 1, {}], [70, 1, {}], [249, 1, {}], [0, 5, {}], [100, 3, {}],
      [200, 1, { window: 37 }], [120, 4, { window: 53 }], [70, 1, { flash: "vec" }], [249, 1, { flash: "vec" }], [100, 3, { flash: "vec" }],
      [70, 1, { softcap: 30 }], [70, 2, { flash: "vec", softcap: 30 }],
      [0, 70, { flash: "tiled" }], [100, 66, { flash: "tiled" }], [150, 20, { flash: "tiled", window: 90 }], [30, 9, { flash: "tiled", softcap: 30 }]];
    for (const [startPos, nTokens, extra] of cases) {
      const shape = { ...base, ...extra };
      const q = randomF32(rng, nTokens * nHeads * headDim, 2);
      const want = new Float32Array(q.length);
      ref.attention(want, q, kr, vr, startPos, nTokens, shape, new Float32Array(seqLen));
      const out = k.allocF32(q.length);
      k.attention(out, onBackend(k, q), kb, vb, startPos, nTokens, shape, k.allocF32(seqLen));
      assertBits(out, want, `${what}: attention ${nHeads}/${nKvHeads}x${headDim} at ${startPos}+${nTokens} ${JSON.stringify(extra)}`);
    }
    // the one-row flash kernel's f16 running sum at its edges: values from 1e-6 (f16 subnormals) to ~3e4 (finite in f16, as a cache must be; sums past
    // 65504 become infinite), and peaked scores whose weights fall below 2^-40, beside its common lanes
    const scales = [1e-6, 1, 3e-3, 1e3, 1];
    const wide = values.map((x, i) => x * (scales[Math.floor(i / kvDim) % scales.length] as number));
    const wr = f16Kv(ref, seqLen, kvDim, wide), wb = f16Kv(k, seqLen, kvDim, wide);
    for (const qScale of [1, 60]) {
      const shape: AttentionShape = { ...base, flash: "vec" };
      const q = randomF32(rng, nHeads * headDim, qScale);
      const want = new Float32Array(q.length), out = k.allocF32(q.length);
      ref.attention(want, q, kr, wr, 260, 1, shape, new Float32Array(seqLen));
      k.attention(out, onBackend(k, q), kb, wb, 260, 1, shape, k.allocF32(seqLen));
      assertBits(out, want, `${what}: flash vec ${nHeads}/${nKvHeads}x${headDim}, values of mixed scales, q × ${qScale}`);
    }
    // a cache holding positions from kvStart on (sliding-window layers): groups and lanes follow the cache row
    const kvStart = 21, w = 60;
    const shape: AttentionShape = { ...base, window: w, kvStart };
    const q = randomF32(rng, 2 * nHeads * headDim, 2);
    const want = new Float32Array(q.length), out = k.allocF32(q.length);
    ref.attention(want, q, kr, vr, kvStart + 150, 2, shape, new Float32Array(seqLen + kvStart));
    k.attention(out, onBackend(k, q), kb, vb, kvStart + 150, 2, shape, k.allocF32(seqLen + kvStart));
    assertBits(out, want, `${what}: attention ${nHeads}/${nKvHeads}x${headDim} from kvStart ${kvStart}`);
  }
}

/** A gated activation of n random values (gate spread by gateStd) on the backend, bit for bit the reference's; returns the gate. */
function gatedCase(k: Kernels, what: string, op: "swiglu" | "geglu", n: number, gateStd: number, edges: readonly number[] = []): Float32Array {
  const gate = randomF32(rng, n, gateStd), up = randomF32(rng, n);
  edges.forEach((e, i) => { gate[(i * 7) % n] = e; }); // scattered, so most groups of four hold one
  const want = new Float32Array(n);
  ref[op](want, gate, up, n);
  const out = k.allocF32(n);
  k[op](out, onBackend(k, gate), onBackend(k, up), n);
  assertBits(out, want, `${what}: ${op} n=${n}`);
  return gate;
}

async function swigluCases(k: Kernels, what: string): Promise<void> {
  for (const n of [7, 64, 3000 + 9, 40000]) gatedCase(k, what, "swiglu", n, 3); // scalar only, whole groups, groups and a tail, split across threads
}

/** GeGLU (Gemma) through the shared f16 GELU table, and soft caps: small and split across threads (40000 ≥ the pool's threshold). */
async function gegluCases(k: Kernels, what: string): Promise<void> {
  // where the kernel's four-lane table path must hand lanes to the scalar one: the table's ends (±10), zeros,
  // values below f16's normal range, f16 rounding ties (1 + 2^-11 and kin), NaN and infinities
  const edges = [10, -10, 9.999999, -9.999999, 10.000001, 0, -0, 1e-7, -3e-5, 1.5 * 2 ** -15, 2 ** -14, -(2 ** -14) * 0.999, 1 + 2 ** -11, -(1 + 3 * 2 ** -11),
    2 ** -13 * (1 + 2 ** -11), 65519, NaN, Infinity, -Infinity];
  gatedCase(k, what, "geglu", 400, 2, edges);
  for (const n of [7, 40000]) {
    const gate = gatedCase(k, what, "geglu", n, 12);
    // Gemma 2's final-logit soft cap on the same sizes (a vocabulary's worth is split across threads)
    const capWant = gate.slice(), capGot = onBackend(k, gate);
    ref.softcap(capWant, 30, n);
    k.softcap(capGot, 30, n);
    assertBits(capGot, capWant, `${what}: softcap n=${n}`);
  }
}

/**
 * storeKv into an f16 cache: every f32 rounds to the reference's f16 bits, on the kernel's eight-lane path and
 * lane by lane. Values spread over f16's whole range and past it (subnormals, ties, 65504..65520 and above, zeros
 * of both signs, infinities, NaN), mixed into most groups of eight, and a run of plain values.
 */
async function storeKvCases(k: Kernels, what: string): Promise<void> {
  const edges = [0, -0, 2 ** -25, 2 ** -24, 3 * 2 ** -25, 2 ** -14, -(2 ** -14) * (1 - 2 ** -11), 1 + 2 ** -11, 1 + 3 * 2 ** -11,
    65504, 65519.99, 65520, -70000, Infinity, -Infinity, NaN];
  for (const n of [37, 40000]) {
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = i % 97 === 0 ? (edges[(i / 97) % edges.length] as number) : (rng.next() < 0.5 ? -1 : 1) * 2 ** (rng.next() * 50 - 30) * (1 + rng.next());
    }
    // the vector path's own cases: every edge and tie beside normal values in a group of eight (i % 8 = 0 at 97·8·j),
    // f16 halfway points (ties to even, both parities) at exponents across f16's normal range, then a run of plain values
    for (let j = 0; (j + 1) * 776 <= n; j++) {
      for (let i = j * 776; i < j * 776 + 8; i++) x[i] = 0.75 + i / n;
      x[j * 776 + (j % 8)] = edges[j % edges.length] as number;
    }
    for (let i = 8, e = -14; i + 8 <= Math.min(n, 400); i += 8, e = e >= 15 ? -14 : e + 1) {
      for (let l = 0; l < 8; l++) x[i + l] = (l % 2 === 0 ? 1 : -1) * (1 + (2 * l + 1) * 2 ** -11) * 2 ** e;
    }
    for (let i = n - 24; i < n; i++) x[i] = 1 + i / n; // whole vectors and a tail
    const want = ref.allocKv("F16", 1, n), got = k.allocKv("F16", 1, n);
    ref.storeKv(want, x, 0, 1);
    k.storeKv(got, onBackend(k, x), 0, 1);
    assert.deepEqual([...got.data], [...want.data], `${what}: storeKv F16 n=${n}`);
  }
}

const backends: { name: string; create: () => Promise<Kernels> }[] = [];
for (const threads of [1, 2]) {
  backends.push({ name: `wasm ${threads}t`, create: () => createWasmKernels({ simd: "baseline", threads }) });
  if (RELAXED_SIMD) backends.push({ name: `wasm-relaxed ${threads}t`, create: () => createWasmKernels({ simd: "relaxed", threads }) });
}
const made: Kernels[] = [];
after(async () => { for (const k of made) await k.dispose?.(); });

for (const b of backends) {
  test(`${b.name}: F16 matmul, f16-cache attention (standard and both flash kernels), SwiGLU and GeGLU equal the ts kernels bit for bit`, async () => {
    const k = await b.create();
    made.push(k);
    await matmulCases(k, b.name);
    await attentionCases(k, b.name);
    await swigluCases(k, b.name);
    await gegluCases(k, b.name);
    await storeKvCases(k, b.name);
  });
}
