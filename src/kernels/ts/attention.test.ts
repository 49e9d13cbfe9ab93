// Attention against a naive float64 implementation written here (MHA, GQA, MQA; F32 and F16 caches),
// causal masking, and the probs tap. Tolerances: F32 cache 1e-5 absolute (outputs are O(1)); F16 cache
// 2e-3 absolute against the same float64 reference fed the f16-rounded keys and values, because the kernel
// also rounds q and the softmax weights to f16 (relative error 2^-11 ≈ 4.9e-4 each) as llama.cpp does.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { AttentionShape, KvBuffer, KvDType } from "../kernels.js";
import { f16ToF32 } from "../../tensor/f16.js";
import { attention, storeKv } from "./attention.js";

function values(n: number, seed: number): Float32Array {
  return new Float32Array(n).map((_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 1.5);
}

function kvBuf(dtype: KvDType, seqLen: number, kvDim: number): KvBuffer {
  const data = dtype === "F16" ? new Uint16Array(seqLen * kvDim) : new Float32Array(seqLen * kvDim);
  return { dtype, data, seqLen, kvDim };
}

function readKv(b: KvBuffer): Float64Array {
  return Float64Array.from(b.data, (v) => (b.dtype === "F16" ? f16ToF32(v) : v));
}

/** out (nTokens, nHeads, headDim) in float64, from cache contents read back as numbers. */
function naiveAttention(q: Float32Array, k: Float64Array, v: Float64Array, startPos: number, nTokens: number, s: AttentionShape): Float64Array {
  const { nHeads, nKvHeads, headDim, scale } = s;
  const kvDim = nKvHeads * headDim;
  const out = new Float64Array(nTokens * nHeads * headDim);
  for (let t = 0; t < nTokens; t++) {
    const n = startPos + t + 1;
    for (let h = 0; h < nHeads; h++) {
      const kh = Math.floor((h * nKvHeads) / nHeads);
      const sc: number[] = [];
      for (let j = 0; j < n; j++) {
        let d = 0;
        for (let i = 0; i < headDim; i++) d += (q[(t * nHeads + h) * headDim + i] as number) * (k[j * kvDim + kh * headDim + i] as number);
        sc.push(d * scale);
      }
      const m = Math.max(...sc);
      const e = sc.map((x) => Math.exp(x - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let i = 0; i < headDim; i++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += ((e[j] as number) / z) * (v[j * kvDim + kh * headDim + i] as number);
        out[(t * nHeads + h) * headDim + i] = acc;
      }
    }
  }
  return out;
}

interface Run { out: Float32Array; probs: Float32Array; k: KvBuffer; v: KvBuffer; q: Float32Array }

/** Fills cache rows 0..startPos+nTokens-1 (earlier rows as if from a previous call), then attends. */
function run(dtype: KvDType, shape: AttentionShape, startPos: number, nTokens: number, kSrc: Float32Array, vSrc: Float32Array): Run {
  const kvDim = shape.nKvHeads * shape.headDim;
  const total = startPos + nTokens;
  const k = kvBuf(dtype, total + 2, kvDim), v = kvBuf(dtype, total + 2, kvDim);
  storeKv(k, kSrc, 0, startPos);
  storeKv(v, vSrc, 0, startPos);
  storeKv(k, kSrc.subarray(startPos * kvDim), startPos, nTokens);
  storeKv(v, vSrc.subarray(startPos * kvDim), startPos, nTokens);
  const q = values(nTokens * shape.nHeads * shape.headDim, 3);
  const out = new Float32Array(nTokens * shape.nHeads * shape.headDim);
  const probs = new Float32Array(nTokens * shape.nHeads * total);
  attention(out, q, k, v, startPos, nTokens, shape, new Float32Array(total), probs);
  return { out, probs, k, v, q };
}

const CASES = [["MHA", 4, 4], ["GQA", 4, 2], ["MQA", 4, 1]] as const;

for (const [label, nHeads, nKvHeads] of CASES) {
  for (const dtype of ["F32", "F16"] as const) {
    test(`attention ${label} (nHeads ${nHeads}, nKvHeads ${nKvHeads}), ${dtype} cache, equals float64 reference`, () => {
      const headDim = 8;
      const shape: AttentionShape = { nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
      const startPos = 2, nTokens = 3, kvDim = nKvHeads * headDim;
      const kSrc = values((startPos + nTokens) * kvDim, 1), vSrc = values((startPos + nTokens) * kvDim, 2);
      const r = run(dtype, shape, startPos, nTokens, kSrc, vSrc);
      const want = naiveAttention(r.q, readKv(r.k), readKv(r.v), startPos, nTokens, shape);
      const tol = dtype === "F32" ? 1e-5 : 2e-3;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((r.out[i] as number) - (want[i] as number)));
      assert.ok(worst <= tol, `max abs error ${worst} > ${tol}`);
      if (dtype === "F16") {
        // the F16 cache is what the kernel stores: exact f16 of the inputs
        assert.equal(readKv(r.k)[5], f16ToF32(r.k.data[5] as number));
      }
    });
  }
}

test("attention: GQA query heads 0,1 share kv head 0 and 2,3 share kv head 1", () => {
  // with the same query in every head, heads of one group give identical outputs
  const headDim = 4, shape: AttentionShape = { nHeads: 4, nKvHeads: 2, headDim, scale: 0.5 };
  const kvDim = 8, n = 3;
  const k = kvBuf("F32", n, kvDim), v = kvBuf("F32", n, kvDim);
  storeKv(k, values(n * kvDim, 5), 0, n);
  storeKv(v, values(n * kvDim, 6), 0, n);
  const q1 = values(headDim, 7);
  const q = new Float32Array(n * 4 * headDim);
  for (let t = 0; t < n; t++) for (let h = 0; h < 4; h++) q.set(q1, (t * 4 + h) * headDim);
  const out = new Float32Array(q.length);
  attention(out, q, k, v, 0, n, shape, new Float32Array(n));
  const head = (t: number, h: number) => [...out.subarray((t * 4 + h) * headDim, (t * 4 + h + 1) * headDim)];
  assert.deepEqual(head(2, 0), head(2, 1));
  assert.deepEqual(head(2, 2), head(2, 3));
  assert.notDeepEqual(head(2, 0), head(2, 2));
});

test("attention is causal: changing row t+1 of K and V leaves the outputs of tokens ≤ t unchanged", () => {
  const headDim = 8, shape: AttentionShape = { nHeads: 4, nKvHeads: 2, headDim, scale: 1 / Math.sqrt(headDim) };
  const kvDim = 16, nTokens = 4;
  const kSrc = values(nTokens * kvDim, 1), vSrc = values(nTokens * kvDim, 2);
  const a = run("F32", shape, 0, nTokens, kSrc, vSrc);
  const k2 = kSrc.slice(), v2 = vSrc.slice();
  for (let i = 2 * kvDim; i < 3 * kvDim; i++) { k2[i] = (k2[i] as number) + 5; v2[i] = -(v2[i] as number) * 3; } // row 2
  const b = run("F32", shape, 0, nTokens, k2, v2);
  const row = nHeadsTimesHeadDim(shape);
  assert.deepEqual([...b.out.subarray(0, 2 * row)], [...a.out.subarray(0, 2 * row)], "tokens 0 and 1 must not see row 2");
  assert.notDeepEqual([...b.out.subarray(2 * row, 3 * row)], [...a.out.subarray(2 * row, 3 * row)], "token 2 sees its own row");
  assert.notDeepEqual([...b.out.subarray(3 * row)], [...a.out.subarray(3 * row)], "token 3 sees row 2");
});

function nHeadsTimesHeadDim(s: AttentionShape): number {
  return s.nHeads * s.headDim;
}

test("attention probs tap: rows sum to 1 and are 0 above the diagonal", () => {
  const headDim = 8, shape: AttentionShape = { nHeads: 2, nKvHeads: 1, headDim, scale: 1 / Math.sqrt(headDim) };
  const startPos = 3, nTokens = 4, total = startPos + nTokens;
  const r = run("F16", shape, startPos, nTokens, values(total * 8, 1), values(total * 8, 2));
  for (let t = 0; t < nTokens; t++) {
    for (let h = 0; h < 2; h++) {
      const p = r.probs.subarray((t * 2 + h) * total, (t * 2 + h + 1) * total);
      const sum = p.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-6, `row (${t}, ${h}) sums to ${sum}`);
      for (let j = 0; j < total; j++) {
        if (j > startPos + t) assert.equal(p[j], 0, `(${t}, ${h}, ${j}) above the diagonal`);
        else assert.ok((p[j] as number) > 0);
      }
    }
  }
});

test("attention: a single position attends only to itself (output = its value row)", () => {
  const shape: AttentionShape = { nHeads: 2, nKvHeads: 2, headDim: 4, scale: 0.5 };
  const vRow = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const r = run("F32", shape, 0, 1, values(8, 1), vRow);
  assert.deepEqual([...r.out], [...vRow]);
  assert.deepEqual([...r.probs], [1, 1]);
});
