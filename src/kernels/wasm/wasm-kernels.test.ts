// What only the wasm backend has: its memory. Views stay valid when the memory grows; a model larger than
// the memory limit fails with UNSUPPORTED naming the sizes and the limit; matmuls split by row ranges give
// the same result as one call (what the thread pool will rely on). The kernels themselves are covered by
// test/conformance/kernels.test.ts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { PeelError } from "../../util/errors.js";
import { quantize } from "../../formats/gguf/quant/index.js";
import { bytesSource } from "../../formats/byte-source.js";
import { loadModelFromSource } from "../../model/load.js";
import { randomLlamaGguf } from "../../../test/fixtures/random-llama.js";
import { createRng, RELAXED_SIMD, randomWeights } from "../../../test/conformance/backends.js";
import { createWasmKernels } from "./index.js";
import { prepareMatmul, runMatmulRows } from "./matmul.js";
import { createScratchSlots } from "./heap.js";
import { f16ToF32, roundToF16 } from "../../tensor/f16.js";

test("views from allocF32 stay valid after the memory grows", async () => {
  const k = await createWasmKernels();
  const a = k.allocF32(8).fill(1.5);
  const before = k.heap.memory.buffer.byteLength;
  const big = k.allocF32(16 << 20); // 64 MiB forces a grow
  assert.ok(k.heap.memory.buffer.byteLength > before);
  big[big.length - 1] = 3;
  assert.deepEqual([...a], new Array(8).fill(1.5));
  k.addInPlace(a, k.allocF32(8).fill(1), 8);
  assert.deepEqual([...a], new Array(8).fill(2.5));
});

test("a weight beyond the memory limit is UNSUPPORTED, naming the sizes and the limit", async () => {
  const k = await createWasmKernels({ maxMemoryBytes: 8 << 20 });
  const small = new Uint8Array(1024 * 1024 * 4);
  k.prepareWeight("F32", 1024, 1024, small); // 4 MiB fits
  assert.throws(() => k.prepareWeight("F32", 1024, 1024, small), (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" &&
    /does not fit in WebAssembly memory/.test(e.message) && /8\.0 MiB/.test(e.message) && /4 GiB/.test(e.message));
});

test("loading a model larger than the memory limit fails with the clear error", async () => {
  const gguf = randomLlamaGguf({ dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 4, nKvHeads: 4, vocabSize: 32000, weightType: "F32", tied: false, seed: 1 });
  const kernels = await createWasmKernels({ maxMemoryBytes: 12 << 20 }); // the two 32000×64 F32 tables need 15.6 MiB
  await assert.rejects(loadModelFromSource(bytesSource(gguf), { kernels }),
    (e: unknown) => e instanceof PeelError && e.code === "UNSUPPORTED" &&
      /has 15\.\d MiB of weights, more than WebAssembly memory can hold: the limit is 12\.0 MiB/.test(e.message));
});

test("bad memory limits are INVALID_ARGUMENT", async () => {
  await assert.rejects(createWasmKernels({ maxMemoryBytes: 0 }), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT");
  await assert.rejects(createWasmKernels({ maxMemoryBytes: 2 ** 33 }), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT");
  // below what the kernels themselves need (static data and the f16 table): said so, not "out of memory"
  await assert.rejects(createWasmKernels({ maxMemoryBytes: 65536 }), (e: unknown) => e instanceof PeelError && e.code === "INVALID_ARGUMENT" &&
    /kernels themselves use/.test(e.message) && /maxMemoryBytes/.test(e.message));
});

test("a matmul split into row ranges equals the whole product (Q4_0, Q3_K, F16)", async () => {
  const k = await createWasmKernels();
  const scratch = createScratchSlots(k.heap);
  for (const dtype of ["Q4_0", "Q3_K", "F16"] as const) {
    const rows = 21, cols = 256, nTokens = 3;
    const wf = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 0.37));
    const bytes = dtype === "Q3_K" ? randomWeights(createRng(3), dtype, rows, cols) : quantize(dtype, wf);
    const w = k.prepareWeight(dtype, rows, cols, bytes);
    const x = k.allocF32(nTokens * cols);
    for (let i = 0; i < x.length; i++) x[i] = Math.cos(i * 0.11);
    const whole = k.allocF32(nTokens * rows), parts = k.allocF32(nTokens * rows);
    k.matmul(whole, w, x, nTokens);
    const off = (a: Float32Array) => k.heap.offsetOf(a);
    const call = prepareMatmul(k.exports, scratch, dtype, off(parts), k.heap.offsetOf(w.data), off(x), rows, cols, nTokens);
    for (const [a, b] of [[0, 5], [5, 6], [6, 21]] as const) runMatmulRows(k.exports, call, a, b);
    assert.deepEqual([...parts], [...whole], dtype);
  }
});

test("K-quant super-block scales convert exactly for every f16 pattern (the f16 table), in both builds where the runtime has relaxed SIMD", async () => {
  // row h of a one-super-block Q4_K matrix: d = dmin = h; sub-block 0 has scale 2, min 1 and quants 1; the rest 0
  // (S ≠ M, so a wrong d or dmin cannot cancel out)
  const rows = 65536, cols = 256, data = new Uint8Array(rows * 144);
  for (let h = 0; h < rows; h++) {
    const o = h * 144;
    data[o] = h & 255; data[o + 1] = h >> 8; data[o + 2] = h & 255; data[o + 3] = h >> 8;
    data[o + 4] = 2; data[o + 8] = 1; // scale and min of sub-block 0
    data.fill(1, o + 16, o + 48); // its 32 quants (low nibbles)
  }
  const x = new Float32Array(cols).fill(0);
  x.fill(127, 0, 32); // q8_k: d_x = -1, quants -127, so S = 2·32·(-127) and M = 32·(-127)
  const fr = Math.fround, S = -8128, M = -4064, dx = -1;
  for (const simd of RELAXED_SIMD ? (["baseline", "relaxed"] as const) : (["baseline"] as const)) {
    const k = await createWasmKernels({ simd });
    const w = k.prepareWeight("Q4_K", rows, cols, data);
    const out = k.allocF32(rows), xv = k.allocF32(cols);
    xv.set(x);
    k.matmul(out, w, xv, 1);
    for (let h = 0; h < rows; h++) {
      const d = f16ToF32(h);
      const want = fr(fr(0 + fr(S * fr(d * dx))) - fr(M * fr(d * dx)));
      if (!Object.is(out[h], want)) assert.fail(`${k.simd}: d = dmin = f16 0x${h.toString(16)}: got ${out[h]}, want ${want}`);
    }
    await k.dispose();
  }
});

/**
 * The SIMD f16 rounding (simd.ts roundF16x4, behind roundRowsF16, the F16 matmul's activations, q and the flash
 * kernel's f16 sum) against the TS reference, bit for bit, on the values where rounding can go wrong: every
 * f16 value below 65504 of both signs, the midpoints between neighbours (ties to even), and one f32 step either
 * side of each midpoint, subnormals and zeros included. Both builds.
 */
test("roundRowsF16 equals the reference f16 rounding on every f16, every tie and its f32 neighbours (both builds)", async () => {
  const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
  const next = (x: number, d: number) => { f32[0] = x; u32[0] = (u32[0] as number) + (x >= 0 ? d : -d); return f32[0] as number; };
  const values: number[] = [];
  for (let h = 0; h < 0x7bff; h++) { // up to the largest finite f16 below 65504
    const a = f16ToF32(h), b = f16ToF32(h + 1), mid = Math.fround((a + b) / 2);
    for (const s of [1, -1]) values.push(s * a, s * mid, s * next(mid, 1), s * next(mid, -1));
  }
  const x = Float32Array.from(values);
  const want = x.map((v) => roundToF16(v));
  for (const simd of RELAXED_SIMD ? ["baseline", "relaxed"] as const : ["baseline"] as const) {
    const k = await createWasmKernels({ simd });
    const xp = k.heap.alloc(x.length * 4, "x"), op = k.heap.alloc(x.length * 4, "out");
    k.heap.f32(xp, x.length).set(x);
    k.exports.roundRowsF16(xp, op, x.length);
    const got = k.heap.f32(op, x.length).map((v) => v / 2 ** 112); // roundRowsF16 scales by 2^112 for the F16 matmul
    let bad = 0;
    for (let i = 0; i < x.length; i++) if (!Object.is(got[i], want[i]) && !(got[i] === 0 && want[i] === 0)) bad++;
    assert.equal(bad, 0, `${simd}: ${bad} of ${x.length} values rounded differently`);
  }
});
