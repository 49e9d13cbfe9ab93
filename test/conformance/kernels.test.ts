// Kernel conformance: the same cases on every backend (ts, wasm), each result compared with the plain-TS
// reference kernels run on ordinary arrays. Random data is seeded; buffers come from the backend (allocF32,
// allocKv, prepareWeight) as the model uses them, plus one case with plain arrays for every kernel.
// Tolerances, per kernel:
//  - matmul, every weight type: |Δ| ≤ 1e-6 · Σ|w·x| per output (both backends round activations the same way,
//    so only the f32 summation order differs; measured worst 1.2e-7 with 2048 columns);
//  - embedRows, storeKv, addInPlace, rope: exact (same arithmetic);
//  - rmsNorm, layerNorm, softmax, swiglu: 1e-6 relative (exp is a polynomial in wasm; the norms' f64 sums
//    are taken in a different order);
//  - addBias, geluRounded, geglu, scale: exact (same arithmetic; the same f16 GELU table);
//  - softcap: exact (wasm's f64 tanh, wasm/exp-f64.ts, rounds to Math.tanh's f32 on all 7.3M arguments tried;
//    a value within ~1e-15 of an f32 halfway point could differ, none of this test's do);
//  - attention (values ~N(0,1), |v| < 4): F32 cache 4e-5 absolute (f32 vs double sums, polynomial exp; measured
//    1e-5); F16 cache 2e-3 absolute: both round the normalized weights to f16, and a weight whose f32 value
//    differs in the last bit can round to the neighbouring f16 (one f16 ulp of p ≤ 2^-11, times |v| < 4;
//    measured 7e-4); the probs tap equals the reference exactly. The same bounds with a sliding window, with
//    soft-capped scores, bidirectional (encoder) attention, cross-attention over a fixed number of keys and a
//    relative-position bias (T5: wasm has its own kernel for it, same bounds; measured worst printed) (each
//    also checked to change the output).
//  - flash attention (llama.cpp's "vec" and "tiled" kernels), the same cases: "tiled" (f32 throughout) F32 and
//    F16 caches 4e-5; "vec" F32 cache 4e-5, F16 cache 4e-3: its running value sum is rounded to f16 after every
//    key, and a weight e^(s − M) one f32 ulp apart (wasm's polynomial exp) can round that sum to the next f16
//    (an f16 ulp of the unnormalized sum, divided by S; measured worst below). A cache that starts at position
//    kvStart (a sliding layer's rows) gives exactly the output of a full cache.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { AttentionShape, FlashVariant, Kernels, KvDType, RopeSpec } from "../../src/kernels/kernels.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { DTYPES, type DType } from "../../src/tensor/dtype.js";
import { dequantize } from "../../src/formats/gguf/dequant/index.js";
import { PeelError } from "../../src/util/errors.js";
import { BACKENDS, createRng, onBackend, randomF32, randomWeights, worstError } from "./backends.js";

const ref = createTsKernels();
const WEIGHT_TYPES: DType[] = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"];

function massOf(wf: Float32Array, rows: number, cols: number, x: Float32Array, nTokens: number): Float64Array {
  const m = new Float64Array(nTokens * rows);
  for (let t = 0; t < nTokens; t++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let i = 0; i < cols; i++) s += Math.abs((wf[r * cols + i] as number) * (x[t * cols + i] as number));
      m[t * rows + r] = s;
    }
  }
  return m;
}

function assertWithin(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string, scale?: ArrayLike<number>): void {
  const { err, at } = worstError(got, want, scale);
  assert.ok(err <= tol, `${what}: error ${err.toExponential(2)} > ${tol} at [${at}] (got ${got[at]}, want ${want[at]})`);
}

for (const backend of BACKENDS) {
  const kernels: Promise<Kernels> = backend.create();
  const b = backend.name;

  for (const dtype of WEIGHT_TYPES) {
    test(`${b}: matmul ${dtype} matches the reference within 1e-6 of Σ|w·x|`, async () => {
      const k = await kernels;
      const rng = createRng(100 + WEIGHT_TYPES.indexOf(dtype));
      const block = DTYPES[dtype].blockElems;
      const cols = block === 256 ? 512 : block === 32 ? 96 : 100;
      const rows = 37;
      const bytes = randomWeights(rng, dtype, rows, cols);
      const wf = new Float32Array(rows * cols);
      dequantize(dtype, bytes, wf, rows * cols);
      for (const nTokens of [1, 4]) {
        const x = randomF32(rng, nTokens * cols);
        x.fill(0, 0, 32); // an all-zero block (amax = 0) must quantize to zeros, not NaN
        const want = new Float32Array(nTokens * rows);
        ref.matmul(want, ref.prepareWeight(dtype, rows, cols, bytes), x, nTokens);
        const w = k.prepareWeight(dtype, rows, cols, bytes);
        const out = k.allocF32(nTokens * rows);
        k.matmul(out, w, onBackend(k, x), nTokens);
        assertWithin(out, want, 1e-6, `${dtype} x${nTokens}`, massOf(wf, rows, cols, x, nTokens));
        const plain = new Float32Array(nTokens * rows); // inputs and output outside the backend's memory
        k.matmul(plain, w, x, nTokens);
        assertWithin(plain, out, 0, `${dtype} plain arrays`);
      }
    });

    if (DTYPES[dtype].blockElems === 256) {
      test(`${b}: matmul ${dtype} with f16-subnormal block scales matches the reference within 1e-6 of Σ|w·x|`, async () => {
        const k = await kernels;
        const rng = createRng(200 + WEIGHT_TYPES.indexOf(dtype));
        const rows = 21, cols = 512;
        const bytes = randomWeights(rng, dtype, rows, cols, true);
        const wf = new Float32Array(rows * cols);
        dequantize(dtype, bytes, wf, rows * cols);
        for (const nTokens of [1, 4]) {
          const x = randomF32(rng, nTokens * cols);
          const want = new Float32Array(nTokens * rows);
          ref.matmul(want, ref.prepareWeight(dtype, rows, cols, bytes), x, nTokens);
          const out = new Float32Array(nTokens * rows);
          k.matmul(out, k.prepareWeight(dtype, rows, cols, bytes), x, nTokens);
          assertWithin(out, want, 1e-6, `${dtype} subnormal scales x${nTokens}`, massOf(wf, rows, cols, x, nTokens));
        }
      });
    }

    test(`${b}: embedRows ${dtype} equals the dequantized rows`, async () => {
      const k = await kernels;
      const rows = 9, cols = DTYPES[dtype].blockElems === 256 ? 256 : 64;
      const bytes = randomWeights(createRng(7), dtype, rows, cols);
      const ids = [3, 0, 8, 3];
      const want = new Float32Array(ids.length * cols);
      ref.embedRows(want, ref.prepareWeight(dtype, rows, cols, bytes), ids, ids.length);
      const out = k.allocF32(ids.length * cols);
      k.embedRows(out, k.prepareWeight(dtype, rows, cols, bytes), ids, ids.length);
      assert.deepEqual([...out], [...want]);
    });
  }

  test(`${b}: matmulF32 on plain arrays matches float64 products within 1e-6 of Σ|w·x|, odd sizes included`, async () => {
    const k = await kernels;
    const rng = createRng(77);
    for (const [rows, cols, nTokens] of [[37, 100, 1], [33, 7, 9], [64, 130, 35], [5, 3, 2]] as const) {
      const w = randomF32(rng, rows * cols), x = randomF32(rng, nTokens * cols);
      const want = new Float64Array(nTokens * rows);
      for (let t = 0; t < nTokens; t++) for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let i = 0; i < cols; i++) s += (w[r * cols + i] as number) * (x[t * cols + i] as number);
        want[t * rows + r] = s;
      }
      const out = new Float32Array(nTokens * rows);
      k.matmulF32(out, w, x, rows, cols, nTokens);
      assertWithin(out, want, 1e-6, `matmulF32 ${nTokens}x${cols}·(${rows}x${cols})ᵀ`, massOf(w, rows, cols, x, nTokens));
      const wT = new Float32Array(w.length), xT = new Float32Array(x.length); // the same operands held transposed
      for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) wT[i * rows + r] = w[r * cols + i] as number;
      for (let t = 0; t < nTokens; t++) for (let i = 0; i < cols; i++) xT[i * nTokens + t] = x[t * cols + i] as number;
      for (const [wIn, xIn, layout] of [[wT, x, { wTransposed: true }], [w, xT, { xTransposed: true }], [wT, xT, { wTransposed: true, xTransposed: true }]] as const) {
        const o2 = new Float32Array(nTokens * rows);
        k.matmulF32(o2, wIn, xIn, rows, cols, nTokens, layout);
        assertWithin(o2, out, 0, `matmulF32 with ${JSON.stringify(layout)}`);
      }
    }
  });

  test(`${b}: training element-wise kernels within 1e-6 (gelu) and 1e-5 (backwards: f32 with cancellation) relative, odd lengths`, async () => {
    const k = await kernels;
    const rng = createRng(78);
    for (const n of [1, 7, 64, 1001]) {
      const x = randomF32(rng, n).map((v) => v * 3), dy = randomF32(rng, n), up = randomF32(rng, n), seed = randomF32(rng, n);
      const want = new Float32Array(n), got = new Float32Array(n);
      ref.gelu(want, x, n);
      k.gelu(got, x, n);
      assertWithin(got, want, 1e-6, `gelu n=${n}`, Float32Array.from(want, (v) => Math.max(1, Math.abs(v))));
      const wantDx = seed.slice(), gotDx = seed.slice(); // backward kernels add into their outputs
      ref.geluBackward(wantDx, x, dy, n);
      k.geluBackward(gotDx, x, dy, n);
      assertWithin(gotDx, wantDx, 1e-5, `geluBackward n=${n}`, Float32Array.from(wantDx, (v) => Math.max(1, Math.abs(v))));
      const wg = seed.slice(), wu = dy.slice(), gg = seed.slice(), gu = dy.slice();
      ref.swigluBackward(wg, wu, x, up, dy, n);
      k.swigluBackward(gg, gu, x, up, dy, n);
      assertWithin(gg, wg, 1e-5, `swigluBackward dGate n=${n}`, Float32Array.from(wg, (v) => Math.max(1, Math.abs(v))));
      assertWithin(gu, wu, 1e-5, `swigluBackward dUp n=${n}`, Float32Array.from(wu, (v) => Math.max(1, Math.abs(v))));
    }
  });

  test(`${b}: rmsNorm within 1e-6`, async () => {
    const k = await kernels;
    const rng = createRng(1);
    const dim = 67, nTokens = 3;
    const x = randomF32(rng, nTokens * dim, 3), w = randomF32(rng, dim);
    const want = new Float32Array(nTokens * dim);
    ref.rmsNorm(want, x, w, 1e-5, nTokens, dim);
    const out = k.allocF32(nTokens * dim);
    k.rmsNorm(out, onBackend(k, x), w, 1e-5, nTokens, dim);
    assertWithin(out, want, 1e-6, "rmsNorm", want.map((v) => Math.max(Math.abs(v), 1e-3)));
  });

  test(`${b}: layerNorm within 1e-6 (odd and SIMD-wide rows, a large common offset)`, async () => {
    const k = await kernels;
    const rng = createRng(11);
    for (const [dim, nTokens] of [[67, 3], [128, 2], [5, 1]] as const) {
      // an offset of 20 makes the mean matter: a kernel that skipped centring would be far off
      const x = randomF32(rng, nTokens * dim, 3).map((v) => v + 20), w = randomF32(rng, dim), bias = randomF32(rng, dim);
      const want = new Float32Array(nTokens * dim);
      ref.layerNorm(want, x, w, bias, 1e-5, nTokens, dim);
      const out = k.allocF32(nTokens * dim);
      k.layerNorm(out, onBackend(k, x), onBackend(k, w), onBackend(k, bias), 1e-5, nTokens, dim);
      assertWithin(out, want, 1e-6, `layerNorm ${nTokens}x${dim}`, want.map((v) => Math.max(Math.abs(v), 1e-3)));
      const plain = new Float32Array(nTokens * dim);
      k.layerNorm(plain, x, w, bias, 1e-5, nTokens, dim);
      assertWithin(plain, out, 0, `layerNorm ${nTokens}x${dim} plain arrays`);
    }
  });

  test(`${b}: addBias and geluRounded exact, on backend buffers and plain arrays`, async () => {
    const k = await kernels;
    const rng = createRng(12);
    const nTokens = 3, dim = 37;
    const x = randomF32(rng, nTokens * dim, 4), bias = randomF32(rng, dim);
    x[0] = -10; x[1] = 10; x[2] = -12; x[3] = 15; x[4] = 9.999; x[5] = 0; x[6] = -0.5; // the table's edges
    const want = x.slice();
    ref.addBias(want, bias, nTokens, dim);
    const got = onBackend(k, x);
    k.addBias(got, onBackend(k, bias), nTokens, dim);
    assertWithin(got, want, 0, "addBias");
    const plain = x.slice();
    k.addBias(plain, bias, nTokens, dim);
    assertWithin(plain, want, 0, "addBias plain");
    const n = nTokens * dim;
    const gWant = new Float32Array(n);
    ref.geluRounded(gWant, x, n);
    const gGot = k.allocF32(n);
    k.geluRounded(gGot, onBackend(k, x), n);
    assertWithin(gGot, gWant, 0, "geluRounded");
    const gPlain = new Float32Array(n);
    k.geluRounded(gPlain, x, n);
    assertWithin(gPlain, gWant, 0, "geluRounded plain");
  });

  test(`${b}: geglu, scale and softcap exact (Gemma's kernels)`, async () => {
    const k = await kernels;
    const rng = createRng(13);
    const n = 101;
    const g = randomF32(rng, n, 4), u = randomF32(rng, n, 2);
    g[0] = -10; g[1] = 10; g[2] = -12; g[3] = 15; g[4] = 9.999; // the table's edges
    const want = new Float32Array(n);
    ref.geglu(want, g, u, n);
    const got = k.allocF32(n);
    k.geglu(got, onBackend(k, g), onBackend(k, u), n);
    assertWithin(got, want, 0, "geglu");
    const sWant = g.slice();
    ref.scale(sWant, 0.0883883461356163, n);
    const sGot = onBackend(k, g);
    k.scale(sGot, 0.0883883461356163, n);
    assertWithin(sGot, sWant, 0, "scale");
    const x = new Float32Array(1000 + 3); // 3 past a multiple of four: the vector loop and its scalar tail
    for (let i = 0; i < x.length; i++) x[i] = (rng.next() - 0.5) * 2 * [1e-4, 0.3, 5, 40, 300][i % 5]!;
    const cWant = x.slice();
    ref.softcap(cWant, 30, x.length);
    assert.ok(cWant.every((v) => Math.abs(v) <= 30), "softcap bounds by the cap");
    const cGot = onBackend(k, x);
    k.softcap(cGot, 30, x.length);
    assertWithin(cGot, cWant, 0, "softcap");
  });

  for (const style of ["normal", "neox"] as const) {
    test(`${b}: rope ${style} (partial rotation) equals the reference`, async () => {
      const k = await kernels;
      const nHeads = 3, headDim = 16, nTokens = 4;
      const spec: RopeSpec = { style, nRot: 12, invFreq: new Float32Array(6).map((_, i) => Math.pow(10000, -2 * i / 12)) };
      const positions = new Int32Array([0, 5, 6, 300]);
      const x = randomF32(createRng(2), nTokens * nHeads * headDim);
      const want = x.slice();
      ref.rope(want, positions, nTokens, nHeads, headDim, spec);
      const got = onBackend(k, x);
      k.rope(got, positions, nTokens, nHeads, headDim, spec);
      assertWithin(got, want, 0, `rope ${style}`);
      const plain = x.slice();
      k.rope(plain, positions, nTokens, nHeads, headDim, spec);
      assertWithin(plain, want, 0, `rope ${style} plain`);
      positions[3] = 301; // the same array, one position moved: a backend that keeps its angle table must notice
      const moved = x.slice(), movedWant = x.slice();
      ref.rope(movedWant, positions, nTokens, nHeads, headDim, spec);
      k.rope(moved, positions, nTokens, nHeads, headDim, spec);
      assertWithin(moved, movedWant, 0, `rope ${style} after a position changed`);
    });
  }

  test(`${b}: softmax, swiglu within 1e-6 relative; addInPlace exact`, async () => {
    const k = await kernels;
    const rng = createRng(3);
    const n = 103;
    const x = randomF32(rng, n, 4), y = randomF32(rng, n, 2);
    const sm = x.slice();
    ref.softmax(sm, n);
    const smGot = onBackend(k, x);
    k.softmax(smGot, n);
    assertWithin(smGot, sm, 1e-6, "softmax", sm.map((v) => Math.max(v, 1e-6)));
    const sw = new Float32Array(n);
    ref.swiglu(sw, x, y, n);
    const swGot = k.allocF32(n);
    k.swiglu(swGot, onBackend(k, x), onBackend(k, y), n);
    assertWithin(swGot, sw, 1e-6, "swiglu", sw.map((v) => Math.max(Math.abs(v), 1e-3)));
    const reluGot = k.allocF32(n);
    k.relu(reluGot, onBackend(k, x), n);
    assertWithin(reluGot, x.map((v) => Math.max(v, 0)), 0, "relu (T5)");
    const acc = x.slice();
    ref.addInPlace(acc, y, n);
    const accGot = onBackend(k, x);
    k.addInPlace(accGot, onBackend(k, y), n);
    assertWithin(accGot, acc, 0, "addInPlace");
  });

  for (const kvType of ["F32", "F16"] as const) {
    test(`${b}: storeKv ${kvType} exact, attention within the ${kvType} tolerance (MHA, GQA, MQA; prefill and decode)`, async () => {
      const k = await kernels;
      await attentionCases(k, kvType);
    });
    for (const flash of ["vec", "tiled"] as const) {
      test(`${b}: flash attention "${flash}" ${kvType} within its tolerance (MHA, GQA, MQA; windows, soft caps, a cache from kvStart)`, async () => {
        const k = await kernels;
        await flashCases(k, kvType, flash);
      });
    }
  }

  test(`${b}: prepareWeight rejects unsupported weight types with UNSUPPORTED listing the supported ones`, async () => {
    const k = await kernels;
    assert.throws(() => k.prepareWeight("Q8_K", 1, 256, new Uint8Array(292)),
      (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" && /Q8_K/.test(e.message) && /Q4_0/.test(e.message));
    assert.throws(() => k.prepareWeight("Q8_0", 2, 32, new Uint8Array(34)), (e: unknown) => e instanceof PeelError && e.code === "CONFIG");
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/**
 * The reference's window against its definition: a decode step at position p with window w equals full
 * attention over a cache holding only rows p − w + 1..p.
 */
test("ts: a sliding window equals attention over only the window's rows", () => {
  const rng = createRng(8);
  const headDim = 16, nHeads = 2, nKvHeads = 1, kvDim = 16, p = 40, w = 9;
  const kr = ref.allocKv("F32", p + 1, kvDim), vr = ref.allocKv("F32", p + 1, kvDim);
  const keys = randomF32(rng, (p + 1) * kvDim), values = randomF32(rng, (p + 1) * kvDim);
  ref.storeKv(kr, keys, 0, p + 1); ref.storeKv(vr, values, 0, p + 1);
  const ks = ref.allocKv("F32", w, kvDim), vs = ref.allocKv("F32", w, kvDim);
  ref.storeKv(ks, keys.subarray((p + 1 - w) * kvDim), 0, w); ref.storeKv(vs, values.subarray((p + 1 - w) * kvDim), 0, w);
  const q = randomF32(rng, nHeads * headDim);
  const shape: AttentionShape = { nHeads, nKvHeads, headDim, scale: 0.25 };
  const windowed = new Float32Array(q.length), short = new Float32Array(q.length);
  ref.attention(windowed, q, kr, vr, p, 1, { ...shape, window: w }, new Float32Array(p + 1));
  ref.attention(short, q, ks, vs, w - 1, 1, shape, new Float32Array(w));
  assertWithin(windowed, short, 0, "windowed vs truncated cache");
});

async function attentionCases(k: Kernels, kvType: KvDType): Promise<void> {
  const rng = createRng(kvType === "F16" ? 5 : 4);
  const headDim = 32, seqLen = 160;
  const tol = kvType === "F16" ? 2e-3 : 4e-5;
  let worstBias = 0;
  for (const [nHeads, nKvHeads] of [[4, 4], [4, 2], [4, 1]] as const) {
    const kvDim = nKvHeads * headDim;
    const kr = ref.allocKv(kvType, seqLen, kvDim), vr = ref.allocKv(kvType, seqLen, kvDim);
    const kb = k.allocKv(kvType, seqLen, kvDim), vb = k.allocKv(kvType, seqLen, kvDim);
    // a prefill of 70 positions (more than one 64-position chunk), then decode steps and a 2-token chunk
    for (const [startPos, nTokens] of [[0, 70], [70, 1], [71, 2], [73, 80]] as const) {
      const kn = randomF32(rng, nTokens * kvDim), vn = randomF32(rng, nTokens * kvDim);
      ref.storeKv(kr, kn, startPos, nTokens); ref.storeKv(vr, vn, startPos, nTokens);
      k.storeKv(kb, onBackend(k, kn), startPos, nTokens); k.storeKv(vb, vn, startPos, nTokens);
      assert.deepEqual([...kb.data.subarray(0, (startPos + nTokens) * kvDim)], [...kr.data.subarray(0, (startPos + nTokens) * kvDim)], "storeKv");
      const shape: AttentionShape = { nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
      const q = randomF32(rng, nTokens * nHeads * headDim, 2);
      const want = new Float32Array(q.length);
      ref.attention(want, q, kr, vr, startPos, nTokens, shape, new Float32Array(seqLen));
      const out = k.allocF32(q.length);
      k.attention(out, onBackend(k, q), kb, vb, startPos, nTokens, shape, k.allocF32(seqLen));
      assertWithin(out, want, tol, `attention ${kvType} ${nHeads}/${nKvHeads} at ${startPos}+${nTokens}`);
      const positionBias = { table: randomF32(rng, nHeads * 17, 1), span: 8 }; // T5: a bias by clamped key − query
      const extras: Array<Partial<AttentionShape>> = [{ window: 24 }, { softcap: 1.5 }, { window: 100, softcap: 2 }, { causal: false },
        { causal: false, keys: 50 }, { positionBias }, { causal: false, positionBias }]; // Gemma 2's choices; encoders; T5's cross- and self-attention
      for (const extra of extras) {
        const wShape = { ...shape, ...extra };
        const wWant = new Float32Array(q.length);
        ref.attention(wWant, q, kr, vr, startPos, nTokens, wShape, new Float32Array(seqLen));
        const wOut = k.allocF32(q.length);
        k.attention(wOut, onBackend(k, q), kb, vb, startPos, nTokens, wShape, k.allocF32(seqLen));
        assertWithin(wOut, wWant, tol, `attention ${kvType} ${nHeads}/${nKvHeads} at ${startPos}+${nTokens} ${JSON.stringify(extra)}`);
        if (extra.positionBias !== undefined) worstBias = Math.max(worstBias, maxDiff(wOut, wWant));
        // one query sees every row either way; two differ by one row
        const unchanged = extra.keys !== undefined || extra.positionBias !== undefined ? false
          : extra.causal === false ? nTokens <= 2 : startPos + nTokens <= (extra.window ?? 0);
        assert.ok(maxDiff(wWant, want) > 1e-4 || unchanged, `${JSON.stringify(extra)} should change the output`);
      }
      if (startPos === 70) { // the probability tap
        const probsWant = new Float32Array(nTokens * nHeads * (startPos + nTokens));
        ref.attention(new Float32Array(q.length), q, kr, vr, startPos, nTokens, shape, new Float32Array(seqLen), probsWant);
        const probs = new Float32Array(probsWant.length);
        const out2 = new Float32Array(q.length);
        k.attention(out2, q, kb, vb, startPos, nTokens, shape, k.allocF32(seqLen), probs);
        assertWithin(probs, probsWant, 0, "attention probs tap");
        assertWithin(out2, out, 0, "a tapped pass gives the same output");
      }
    }
  }
  console.log(`# ${k.name} attention ${kvType} with a position bias (T5): worst |Δ| against the reference ${worstBias.toExponential(2)}`);
}

/** Flash attention on a backend against the reference flash kernel; a cache from kvStart against a full one. */
async function flashCases(k: Kernels, kvType: KvDType, flash: FlashVariant): Promise<void> {
  const rng = createRng(kvType === "F16" ? 15 : 14);
  const headDim = 32, seqLen = 160;
  const tol = kvType === "F16" && flash === "vec" ? 4e-3 : 4e-5;
  let worst = 0;
  for (const [nHeads, nKvHeads] of [[4, 4], [4, 2], [4, 1]] as const) {
    const kvDim = nKvHeads * headDim;
    const kr = ref.allocKv(kvType, seqLen, kvDim), vr = ref.allocKv(kvType, seqLen, kvDim);
    const kb = k.allocKv(kvType, seqLen, kvDim), vb = k.allocKv(kvType, seqLen, kvDim);
    for (const [startPos, nTokens] of [[0, 70], [70, 1], [71, 2], [73, 80]] as const) {
      const kn = randomF32(rng, nTokens * kvDim), vn = randomF32(rng, nTokens * kvDim);
      ref.storeKv(kr, kn, startPos, nTokens); ref.storeKv(vr, vn, startPos, nTokens);
      k.storeKv(kb, onBackend(k, kn), startPos, nTokens); k.storeKv(vb, vn, startPos, nTokens);
      const q = randomF32(rng, nTokens * nHeads * headDim, 2);
      const base: AttentionShape = { nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim), flash };
      const standard = new Float32Array(q.length);
      ref.attention(standard, q, kr, vr, startPos, nTokens, { nHeads, nKvHeads, headDim, scale: base.scale }, new Float32Array(seqLen));
      for (const extra of [{}, { window: 24 }, { softcap: 1.5 }, { window: 100, softcap: 2 }, { causal: false }]) {
        const shape = { ...base, ...extra };
        const want = new Float32Array(q.length);
        ref.attention(want, q, kr, vr, startPos, nTokens, shape, new Float32Array(seqLen));
        const out = k.allocF32(q.length);
        k.attention(out, onBackend(k, q), kb, vb, startPos, nTokens, shape, k.allocF32(seqLen));
        const label = `flash ${flash} ${kvType} ${nHeads}/${nKvHeads} at ${startPos}+${nTokens} ${JSON.stringify(extra)}`;
        assertWithin(out, want, tol, label);
        worst = Math.max(worst, maxDiff(out, want));
        if (Object.keys(extra).length === 0) assert.ok(maxDiff(want, standard) < 2e-2, `${label}: far from the standard path`);
      }
      if (startPos === 73) { // the same rows in a cache that starts at position kvStart (a sliding layer's cache)
        const kvStart = 40, rows = seqLen - kvStart, window = startPos - kvStart + 1;
        const ks = k.allocKv(kvType, rows, kvDim), vs = k.allocKv(kvType, rows, kvDim);
        ks.data.set(kb.data.subarray(kvStart * kvDim)); vs.data.set(vb.data.subarray(kvStart * kvDim));
        const shape = { ...base, window };
        const want = k.allocF32(q.length), got = k.allocF32(q.length);
        k.attention(want, onBackend(k, q), kb, vb, startPos, nTokens, shape, k.allocF32(seqLen));
        k.attention(got, onBackend(k, q), ks, vs, startPos, nTokens, { ...shape, kvStart }, k.allocF32(seqLen));
        assertWithin(got, want, 0, `${flash} ${kvType}: a cache from position ${kvStart}`);
      }
    }
  }
  console.log(`# ${k.name} flash ${flash} ${kvType}: worst |Δ| against the reference ${worst.toExponential(2)}`);
}
