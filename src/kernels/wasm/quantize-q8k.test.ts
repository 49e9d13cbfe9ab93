// The wasm q8_k activation quantizer (what K-quant and IQ4_XS products multiply) against a scalar transcription
// of ggml's quantize_row_q8_K written here: vmax the first value of largest magnitude, iscale = −127/vmax,
// q = min(127, nearest-even(iscale·x)), d = 1/iscale, sums of each 16 quants. Bit for bit, quants, scales and
// sums, in both builds and both layouts (i16 and narrow i8), on blocks chosen for the kernel's shortcuts: the
// largest magnitude twice with both signs (the first must give the sign), at the first or the last element,
// rounding ties, all zeros, subnormals among tiny values, NaN (a NaN never counts as the largest; its quant is 0, as the
// saturating conversion gives) and infinities.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, RELAXED_SIMD } from "../../../test/conformance/backends.js";
import { createWasmKernels } from "./index.js";

const N = 256;

/** nearest, ties to even, of an f32 value; NaN and ±∞ as the wasm saturating conversion treats them. */
function nearestEvenI32(v: number): number {
  if (Number.isNaN(v)) return 0;
  if (v >= 2147483647) return 2147483647;
  if (v <= -2147483648) return -2147483648;
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** One block as ggml's quantize_row_q8_K. */
function expectBlock(x: Float32Array): { q: Int32Array; d: number; sums: Int32Array } {
  let amax = 0, vmax = 0;
  for (const v of x) if (Math.abs(v) > amax) { amax = Math.abs(v); vmax = v; }
  const q = new Int32Array(N), sums = new Int32Array(16);
  if (amax === 0) return { q, d: 0, sums };
  const iscale = Math.fround(-127 / vmax);
  for (let i = 0; i < N; i++) {
    q[i] = Math.min(127, nearestEvenI32(Math.fround(iscale * (x[i] as number))));
    sums[i >> 4] = (sums[i >> 4] as number) + (q[i] as number);
  }
  return { q, d: Math.fround(1 / iscale), sums };
}

function blocks(): Float32Array[] {
  const rng = createRng(77);
  const plain = () => Float32Array.from({ length: N }, () => (rng.next() - 0.5) * 6);
  const out: Float32Array[] = [];
  const tie = plain(); tie[10] = -7; tie[200] = 7; out.push(tie); // same magnitude, the negative first
  const tie2 = plain(); tie2[10] = 7; tie2[200] = -7; out.push(tie2);
  const first = plain(); first[0] = -9; out.push(first);
  const lanes = plain(); lanes[20] = 8; lanes[21] = -8; out.push(lanes); // a tie inside one four-lane vector
  const lanes2 = plain(); lanes2[20] = -8; lanes2[23] = 8; out.push(lanes2);
  const last = plain(); last[N - 1] = 9.5; out.push(last);
  // rounding ties: vmax = −127 gives iscale = 1, so k + 0.5 rounds to even
  const halves = Float32Array.from({ length: N }, (_, i) => ((i % 50) - 25) + 0.5); halves[3] = -127; out.push(halves);
  out.push(new Float32Array(N)); // all zeros
  const minus0 = new Float32Array(N).fill(-0); out.push(minus0);
  out.push(Float32Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 1 : -1) * (i % 3 === 0 ? 2 ** -140 * (i + 1) : 2 ** -120 * (i + 1)))); // tiny: subnormals among small normals
  const nan = plain(); nan[5] = NaN; nan[130] = NaN; out.push(nan);
  const allNan = new Float32Array(N).fill(NaN); out.push(allNan);
  const inf = plain(); inf[40] = -Infinity; out.push(inf);
  const infNan = plain(); infNan[40] = Infinity; infNan[41] = NaN; out.push(infNan);
  for (let i = 0; i < 6; i++) out.push(plain());
  return out;
}

for (const simd of RELAXED_SIMD ? (["baseline", "relaxed"] as const) : (["baseline"] as const)) {
  test(`wasm quantizeQ8K equals ggml's quantize_row_q8_K bit for bit (${simd} build)`, async () => {
    const k = await createWasmKernels({ simd });
    const bs = blocks(), nTokens = 2, n = (bs.length / nTokens) * N; // two token rows of several blocks each
    const x = new Float32Array(nTokens * n);
    bs.forEach((b, i) => x.set(b, i * N));
    const xp = k.heap.alloc(x.length * 4, "x");
    k.heap.f32(xp, x.length).set(x);
    for (const narrow of [0, 1]) {
      const rowBytes = (narrow ? n : 2 * n) + (n >> 8) * 4 + (n >> 4) * 2;
      const op = k.heap.alloc(nTokens * rowBytes, "out");
      k.exports.quantizeQ8K(xp, op, n, nTokens, narrow);
      const view = new DataView(k.heap.f32(0, 1).buffer);
      for (let i = 0; i < bs.length; i++) {
        const t = Math.floor(i / (bs.length / nTokens)), b = i % (bs.length / nTokens);
        const row = op + t * rowBytes, want = expectBlock(bs[i] as Float32Array);
        const what = `${simd}, ${narrow ? "narrow" : "i16"}, block ${i}`;
        for (let j = 0; j < N; j++) {
          const e = b * N + j;
          const got = narrow ? view.getInt8(row + e) : view.getInt16(row + 2 * e, true);
          if (got !== want.q[j]) assert.fail(`${what}: quant ${j} is ${got}, ggml's ${want.q[j]} (x = ${bs[i]?.[j]})`);
        }
        const d = view.getFloat32(row + (narrow ? n : 2 * n) + 4 * b, true);
        assert.ok(Object.is(d, want.d), `${what}: d is ${d}, ggml's ${want.d}`);
        for (let g = 0; g < 16; g++) {
          const s = view.getInt16(row + (narrow ? n : 2 * n) + (n >> 8) * 4 + 2 * (b * 16 + g), true);
          assert.equal(s, want.sums[g], `${what}: sum of group ${g}`);
        }
      }
    }
  });
}
