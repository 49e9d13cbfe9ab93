/**
 * Browser side of the WebGPU conformance suite: runs each kernel case on the webgpu backend and on the ts
 * reference (plain arrays, in the same page) and returns the worst error of each case; the Node test
 * (conformance.test.ts) holds the tolerances and asserts. Inputs are seeded random data, as in
 * test/conformance (whose helpers import node:, so the few needed are restated here).
 */

import type { AttentionShape, FlashVariant, Kernels, RopeSpec } from "../../src/kernels/kernels.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import type { WebGpuKernels } from "../../src/kernels/webgpu/index.js";
import { GPU_WEIGHT_TYPES } from "../../src/kernels/webgpu/shaders-matmul.js";
import { dequantize } from "../../src/formats/gguf/dequant/index.js";
import { quantize } from "../../src/formats/gguf/quant/index.js";
import { createRng, type Rng } from "../../src/sample/rng.js";
import { DTYPES, type DType } from "../../src/tensor/dtype.js";
import { f32ToF16 } from "../../src/tensor/f16.js";

export interface CaseResult {
  readonly kernel: string;
  readonly what: string;
  /** Worst error in the case's metric (see conformance.test.ts), Infinity for NaN. */
  readonly err: number;
}

const ref = createTsKernels();

function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
function randomF32(rng: Rng, n: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gaussian(rng) * std * (rng.next() < 0.02 ? 8 : 1);
  return out;
}
const K_SCALES: Partial<Record<DType, { d: number; dmin?: number }>> = { Q4_K: { d: 0, dmin: 2 }, Q5_K: { d: 0, dmin: 2 }, Q6_K: { d: 208 } };
function randomWeights(rng: Rng, dtype: DType, rows: number, cols: number): Uint8Array {
  const k = K_SCALES[dtype];
  if (k === undefined) {
    const x = randomF32(rng, rows * cols, 1 / Math.sqrt(cols));
    return dtype === "F32" ? new Uint8Array(x.buffer) : quantize(dtype, x);
  }
  const bb = DTYPES[dtype].blockBytes;
  const bytes = new Uint8Array((rows * cols / 256) * bb);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng.next() * 256);
  for (let o = 0; o < bytes.length; o += bb) {
    const d = f32ToF16((0.5 + rng.next()) * 0.002), m = f32ToF16((0.5 + rng.next()) * 0.004);
    bytes[o + k.d] = d & 255; bytes[o + k.d + 1] = d >> 8;
    if (k.dmin !== undefined) { bytes[o + k.dmin] = m & 255; bytes[o + k.dmin + 1] = m >> 8; }
  }
  return bytes;
}

/** max |got − want| / scale, where scale is per element (an array) or one number. */
function worst(got: Float32Array, want: ArrayLike<number>, scale: ArrayLike<number> | number = 1): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) {
    const s = typeof scale === "number" ? scale : Math.max(scale[i] as number, 1e-30);
    const d = Math.abs((got[i] as number) - (want[i] as number)) / s;
    if (Number.isNaN(d)) return Infinity;
    e = Math.max(e, d);
  }
  return e;
}

/** An array on the GPU holding `src`. */
function upload(k: WebGpuKernels, src: Float32Array): Float32Array {
  const a = k.allocF32(src.length);
  a.set(src);
  k.write(a);
  return a;
}

async function matmulCases(k: WebGpuKernels, out: CaseResult[]): Promise<void> {
  for (const dtype of GPU_WEIGHT_TYPES) {
    const rng = createRng(100 + GPU_WEIGHT_TYPES.indexOf(dtype));
    const block = DTYPES[dtype].blockElems;
    const cols = block === 256 ? 512 : block === 32 ? 96 : 100, rows = 37;
    const bytes = randomWeights(rng, dtype, rows, cols);
    const wf = new Float32Array(rows * cols);
    dequantize(dtype, bytes, wf, rows * cols);
    const w = k.prepareWeight(dtype, rows, cols, bytes);
    for (const nTokens of [1, 11]) {
      const x = randomF32(rng, nTokens * cols);
      x.fill(0, 0, 32);
      const want = new Float32Array(nTokens * rows);
      ref.matmul(want, ref.prepareWeight(dtype, rows, cols, bytes), x, nTokens);
      const mass = new Float64Array(nTokens * rows);
      for (let t = 0; t < nTokens; t++) for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let i = 0; i < cols; i++) s += Math.abs((wf[r * cols + i] as number) * (x[t * cols + i] as number));
        mass[t * rows + r] = s;
      }
      const got = k.allocF32(nTokens * rows);
      k.matmul(got, w, upload(k, x), nTokens);
      await k.readback([got]);
      out.push({ kernel: "matmul", what: `${dtype} x${nTokens}`, err: worst(got, want, mass) });
    }
    const erows = 9, ecols = block === 256 ? 256 : 64;
    const eb = randomWeights(createRng(7), dtype, erows, ecols);
    const ids = [3, 0, 8, 3];
    const ew = new Float32Array(ids.length * ecols);
    ref.embedRows(ew, ref.prepareWeight(dtype, erows, ecols, eb), ids, ids.length);
    const eg = k.allocF32(ids.length * ecols);
    k.embedRows(eg, k.prepareWeight(dtype, erows, ecols, eb), ids, ids.length);
    await k.readback([eg]);
    out.push({ kernel: "embedRows", what: dtype, err: worst(eg, ew, ew.map((v) => Math.abs(v) + 1e-30)) });
  }
}

/** Training's plain f32 product, operands as given and transposed, against f64 sums. */
async function matmulF32Cases(k: WebGpuKernels, out: CaseResult[]): Promise<void> {
  const rng = createRng(77);
  for (const [rows, cols, nTokens] of [[37, 100, 1], [33, 7, 9]] as const) {
    const w = randomF32(rng, rows * cols), x = randomF32(rng, nTokens * cols);
    const want = new Float64Array(nTokens * rows), mass = new Float64Array(nTokens * rows);
    for (let t = 0; t < nTokens; t++) for (let r = 0; r < rows; r++) {
      for (let i = 0; i < cols; i++) {
        const p = (w[r * cols + i] as number) * (x[t * cols + i] as number);
        want[t * rows + r] = (want[t * rows + r] as number) + p;
        mass[t * rows + r] = (mass[t * rows + r] as number) + Math.abs(p);
      }
    }
    const wT = new Float32Array(w.length), xT = new Float32Array(x.length);
    for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) wT[i * rows + r] = w[r * cols + i] as number;
    for (let t = 0; t < nTokens; t++) for (let i = 0; i < cols; i++) xT[i * nTokens + t] = x[t * cols + i] as number;
    for (const [wIn, xIn, layout] of [[w, x, {}], [wT, xT, { wTransposed: true, xTransposed: true }]] as const) {
      const got = k.allocF32(nTokens * rows);
      k.matmulF32(got, upload(k, wIn), upload(k, xIn), rows, cols, nTokens, layout);
      await k.readback([got]);
      out.push({ kernel: "matmulF32", what: `${rows}x${cols} x${nTokens} ${JSON.stringify(layout)}`, err: worst(got, want, mass) });
    }
  }
}

async function rowCases(k: WebGpuKernels, out: CaseResult[]): Promise<void> {
  const rng = createRng(5);
  const nTokens = 3, dim = 300;
  const x = randomF32(rng, nTokens * dim), wt = randomF32(rng, dim), b = randomF32(rng, dim);
  const cases: [string, (kk: Kernels, o: Float32Array, xx: Float32Array) => void][] = [
    ["rmsNorm", (kk, o, xx) => kk.rmsNorm(o, xx, wt, 1e-5, nTokens, dim)],
    ["layerNorm", (kk, o, xx) => kk.layerNorm(o, xx, wt, b, 1e-5, nTokens, dim)],
  ];
  for (const [name, f] of cases) {
    const want = new Float32Array(x.length);
    f(ref, want, x);
    const got = k.allocF32(x.length);
    f(k, got, upload(k, x));
    await k.readback([got]);
    out.push({ kernel: name, what: `${nTokens}x${dim}`, err: worst(got, want, want.map((v) => Math.abs(v) + 1e-6)) });
  }
  // element-wise, on values spanning GELU's table range and beyond
  const n = 1001;
  const a = randomF32(rng, n, 4), c = randomF32(rng, n);
  // in place: o starts as a copy of a (on both sides)
  const ew: [string, boolean, (kk: Kernels, o: Float32Array, aa: Float32Array, cc: Float32Array) => void][] = [
    ["relu", false, (kk, o, aa) => kk.relu(o, aa, n)],
    ["swiglu", false, (kk, o, aa, cc) => kk.swiglu(o, aa, cc, n)],
    ["geglu", false, (kk, o, aa, cc) => kk.geglu(o, aa, cc, n)],
    ["geluRounded", false, (kk, o, aa) => kk.geluRounded(o, aa, n)],
    ["gelu", false, (kk, o, aa) => kk.gelu(o, aa, n)],
    ["scale", true, (kk, o) => kk.scale(o, 0.37, n)],
    ["softcap", true, (kk, o) => kk.softcap(o, 3.5, n)],
    ["addInPlace", true, (kk, o, _aa, cc) => kk.addInPlace(o, cc, n)],
    ["addBias", true, (kk, o, _aa, cc) => kk.addBias(o, cc, 7, 143)],
    ["softmax", true, (kk, o) => kk.softmax(o, n)],
  ];
  for (const [name, inPlace, f] of ew) {
    const want = inPlace ? a.slice() : new Float32Array(n);
    f(ref, want, a, c);
    const got = inPlace ? upload(k, a) : k.allocF32(n);
    f(k, got, upload(k, a), upload(k, c));
    await k.readback([got]);
    // softmax: relative (its outputs are probabilities, most of them tiny)
    const scale = name === "softmax" ? want.map((v) => Math.abs(v) + 1e-30) : want.map((v) => Math.max(Math.abs(v), 1));
    out.push({ kernel: name, what: `n=${n}`, err: worst(got, want, scale) });
  }
  for (const [style, nRot] of [["normal", 16], ["neox", 16], ["neox", 8]] as const) {
    const nH = 3, hd = 16, nt = 5;
    const invFreq = Float32Array.from({ length: nRot / 2 }, (_, i) => Math.pow(10000, -2 * i / nRot));
    const spec: RopeSpec = { style, nRot, invFreq };
    const pos = Int32Array.from([0, 1, 7, 300, 4095]);
    const xr = randomF32(rng, nt * nH * hd);
    const want = xr.slice();
    ref.rope(want, pos, nt, nH, hd, spec);
    const got = upload(k, xr);
    k.rope(got, pos, nt, nH, hd, spec);
    await k.readback([got]);
    out.push({ kernel: "rope", what: `${style} nRot ${nRot}`, err: worst(got, want, want.map((v) => Math.abs(v) + 1e-6)) });
  }
}

async function attentionCases(k: WebGpuKernels, out: CaseResult[]): Promise<void> {
  // GQA on an F32 cache and MQA on an F16 one: SwiftShader runs each workgroup's threads on the CPU, so every
  // head layout on both cache types would take most of the test budget
  for (const [kvType, nHeads, nKvHeads] of [["F32", 4, 2], ["F16", 4, 1]] as const) {
    {
      const rng = createRng(30 + nHeads * 10 + nKvHeads + (kvType === "F16" ? 1 : 0));
      const headDim = 32, kvDim = nKvHeads * headDim, seqLen = 70;
      const keys = randomF32(rng, seqLen * kvDim), vals = randomF32(rng, seqLen * kvDim);
      const kr = ref.allocKv(kvType, seqLen, kvDim), vr = ref.allocKv(kvType, seqLen, kvDim);
      ref.storeKv(kr, keys, 0, seqLen); ref.storeKv(vr, vals, 0, seqLen);
      const kb = k.allocKv(kvType, seqLen, kvDim), vb = k.allocKv(kvType, seqLen, kvDim);
      const gk = upload(k, keys), gv = upload(k, vals);
      k.storeKv(kb, gk, 0, seqLen); k.storeKv(vb, gv, 0, seqLen);
      const positionBias = { table: randomF32(rng, nHeads * 9), span: 4 };
      for (const [startPos, nTokens] of [[0, 5], [64, 1], [3, 66]] as const) {
        const q = randomF32(rng, nTokens * nHeads * headDim);
        const gq = upload(k, q);
        const base: AttentionShape = { nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
        const extras: [string, Partial<AttentionShape>][] = [["plain", {}], ["window 9", { window: 9 }], ["softcap", { softcap: 1.5 }],
          ["bidirectional", { causal: false, keys: 50 }], ["position bias", { positionBias }]];
        const flashes: (FlashVariant | undefined)[] = [undefined, "vec", "tiled"];
        const pending: { got: Float32Array; want: Float32Array; kernel: string; what: string }[] = [];
        for (const flash of flashes) {
          for (const [name, extra] of extras) {
            if (flash !== undefined && extra.positionBias !== undefined) continue; // no flash kernel with a score bias
            const shape: AttentionShape = { ...base, ...extra, ...(flash !== undefined ? { flash } : {}) };
            const want = new Float32Array(q.length);
            ref.attention(want, q, kr, vr, startPos, nTokens, shape, new Float32Array(seqLen));
            const got = k.allocF32(q.length);
            k.attention(got, gq, kb, vb, startPos, nTokens, shape, k.allocF32(0));
            pending.push({ got, want, kernel: `attention ${flash ?? "standard"} ${kvType}`, what: `${nHeads}/${nKvHeads} at ${startPos}+${nTokens} ${name}` });
          }
        }
        await k.readback(pending.map((p) => p.got)); // one sync point for the whole batch of cases
        for (const p of pending) out.push({ kernel: p.kernel, what: p.what, err: worst(p.got, p.want) });
        const total = startPos + nTokens;
        const pw = new Float32Array(nTokens * nHeads * total);
        ref.attention(new Float32Array(q.length), q, kr, vr, startPos, nTokens, base, new Float32Array(seqLen), pw);
        const pg = new Float32Array(pw.length); // a foreign output: filled by the next readback
        k.attention(k.allocF32(q.length), gq, kb, vb, startPos, nTokens, { ...base, flash: "vec" }, k.allocF32(0), pg);
        await k.readback([]);
        out.push({ kernel: `attention probs ${kvType}`, what: `${nHeads}/${nKvHeads} at ${startPos}+${nTokens}`, err: worst(pg, pw) });
      }
    }
  }
}

export async function runConformance(k: WebGpuKernels): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  await matmulCases(k, out);
  await matmulF32Cases(k, out);
  await rowCases(k, out);
  await attentionCases(k, out);
  return out;
}
