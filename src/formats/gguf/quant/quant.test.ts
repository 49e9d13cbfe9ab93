// Quantizers against gguf-py's reference `quantize` outputs (shared/testdata/ggml-quant-tables/quant-vectors.json),
// round trips through the dequantizers, f16/bf16 edge cases and the activation quantizers' own rules.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { isDType } from "../../../tensor/dtype.js";
import { bf16ToF32, f16ToF32 } from "../../../tensor/f16.js";
import { dequantize } from "../dequant/index.js";
import { quantize, quantizeQ8_0, quantizeQ8_1, quantizeQ8_K, roundHalfAway, roundHalfEven } from "./index.js";

const VECTORS = resolve(process.cwd(), "../shared/testdata/ggml-quant-tables/quant-vectors.json");

interface QuantCase { type_id: number; input_f32_b64: string; expected_blocks_b64: string }

function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "base64"));
}

test("quantizers reproduce gguf-py's bytes exactly", (t) => {
  if (!existsSync(VECTORS)) return t.skip(`../shared absent: ${VECTORS}`);
  const json = JSON.parse(readFileSync(VECTORS, "utf8")) as { quant: Record<string, QuantCase> };
  const checked: string[] = [];
  for (const [name, c] of Object.entries(json.quant)) {
    if (!isDType(name)) continue; // TQ1_0, TQ2_0
    const input = new Float32Array(b64(c.input_f32_b64).slice().buffer);
    const expected = b64(c.expected_blocks_b64);
    const got = quantize(name, input);
    assert.equal(got.length, expected.length, name);
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== expected[i]) assert.fail(`${name}: byte ${i} is ${got[i]}, gguf-py wrote ${expected[i]}`);
    }
    checked.push(name);
  }
  assert.deepEqual(checked.sort(), ["BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"]);
});

function ramp(n: number, seed = 1): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = ((s >>> 8) / 2 ** 24 - 0.5) * 4;
  }
  return x;
}

test("quantize → dequantize round trips stay within each type's step", () => {
  const x = ramp(512);
  const bounds: Record<string, number> = { F32: 0, F16: 2e-3, BF16: 2e-2, Q8_0: 0.02, Q8_1: 0.02, Q8_K: 0.02, Q5_0: 0.13, Q5_1: 0.07, Q4_0: 0.26, Q4_1: 0.14 };
  for (const [name, bound] of Object.entries(bounds)) {
    if (!isDType(name)) throw new Error(name);
    const out = new Float32Array(x.length);
    dequantize(name, quantize(name, x), out, x.length);
    let err = 0;
    for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs((out[i] as number) - (x[i] as number)));
    assert.ok(err <= bound, `${name}: max error ${err} > ${bound}`);
  }
});

test("f16 and bf16 edge cases survive a round trip", () => {
  const cases = [0, -0, 1, -1, 65504, -65504, 6.103515625e-5, 5.960464477539063e-8, Infinity, -Infinity, 0.1, 1e-10, 1e6];
  const x = Float32Array.from(cases);
  const h = quantize("F16", x);
  const back = Array.from({ length: cases.length }, (_, i) => f16ToF32((h[2 * i] as number) | ((h[2 * i + 1] as number) << 8)));
  assert.deepEqual(back, [0, -0, 1, -1, 65504, -65504, 6.103515625e-5, 5.960464477539063e-8, Infinity, -Infinity, 0.0999755859375, 0, Infinity]);
  const b = quantize("BF16", Float32Array.from([1, -2, 3.140625, NaN, Infinity, 1.00390625, 1.01171875]));
  const bb = Array.from({ length: 7 }, (_, i) => bf16ToF32((b[2 * i] as number) | ((b[2 * i + 1] as number) << 8)));
  assert.deepEqual(bb.slice(0, 3), [1, -2, 3.140625]);
  assert.ok(Number.isNaN(bb[3]));
  assert.equal(bb[4], Infinity);
  assert.equal(bb[5], 1); // tie rounds to even (down)
  assert.equal(bb[6], 1.015625); // tie rounds to even (up)
  const nanH = quantize("F16", Float32Array.from([NaN]));
  assert.ok(Number.isNaN(f16ToF32((nanH[0] as number) | ((nanH[1] as number) << 8))));
});

test("rounding helpers", () => {
  assert.deepEqual([2.5, -2.5, 0.5, -0.5, 1.4].map(roundHalfAway), [3, -3, 1, -1, 1]);
  assert.deepEqual([2.5, -2.5, 0.5, -0.5, 1.5, 3.7].map(roundHalfEven), [2, -2, 0, -0, 2, 4]);
});

test("activation quantizers write into the caller's buffer at offsets", () => {
  const x = new Float32Array(64);
  for (let i = 0; i < 32; i++) x[32 + i] = i - 16; // second block: -16..15, amax 16
  const out = new Uint8Array(3 + 34 * 2);
  quantizeQ8_0(out, x, 64, 0, 3);
  assert.ok(out.subarray(3, 3 + 34).every((v) => v === 0)); // all-zero block → d = 0, q = 0
  const d = f16ToF32((out[3 + 34] as number) | ((out[3 + 35] as number) << 8));
  assert.ok(Math.abs(d - 16 / 127) < 1e-4);
  assert.equal((out[3 + 36] as number) << 24 >> 24, -127); // -16 · 127/16
  const q81 = new Uint8Array(36);
  quantizeQ8_1(q81, x, 32, 32);
  const s = f16ToF32((q81[2] as number) | ((q81[3] as number) << 8));
  let sum = 0;
  for (let j = 0; j < 32; j++) sum += ((q81[4 + j] as number) << 24) >> 24;
  assert.ok(Math.abs(s - sum * (16 / 127)) < 0.01);
  const big = ramp(256, 7);
  const q8k = new Uint8Array(292);
  quantizeQ8_K(q8k, big, 256);
  const dv = new DataView(q8k.buffer);
  for (let g = 0; g < 16; g++) {
    let gs = 0;
    for (let j = 0; j < 16; j++) gs += dv.getInt8(4 + 16 * g + j);
    assert.equal(dv.getInt16(260 + 2 * g, true), gs);
  }
  const back = new Float32Array(256);
  dequantize("Q8_K", q8k, back, 256);
  for (let i = 0; i < 256; i++) assert.ok(Math.abs((back[i] as number) - (big[i] as number)) < 0.01);
});

test("unsupported target types are refused with the list of supported ones", () => {
  assert.throws(() => quantize("Q4_K", new Float32Array(256)), /cannot produce Q4_K; it can produce F32, F16, BF16, Q4_0/);
  assert.throws(() => quantize("Q8_0", new Float32Array(33)), /multiple of the block size/);
});
