/**
 * The backends the conformance suite runs on, and its seeded random data. Every backend gets the same cases;
 * each result is compared with the plain-TS reference kernels run on ordinary arrays.
 */

import type { Kernels } from "../../src/kernels/kernels.js";
import { createTsKernels } from "../../src/kernels/ts/index.js";
import { createWasmKernels } from "../../src/kernels/wasm/index.js";
import { enableRelaxedSimd } from "../../src/kernels/wasm/host.node.js";
import type { DType } from "../../src/tensor/dtype.js";
import { DTYPES } from "../../src/tensor/dtype.js";
import { f32ToF16 } from "../../src/tensor/f16.js";
import { quantize } from "../../src/formats/gguf/quant/index.js";
import { createRng, type Rng } from "../../src/sample/rng.js";

export interface Backend {
  readonly name: string;
  create(): Promise<Kernels>;
}

/** Whether this Node runs the relaxed-SIMD build (Node 20: after switching V8's flag on, as Peel's Node entry does). */
export const RELAXED_SIMD = enableRelaxedSimd();
if (!RELAXED_SIMD) console.log("# conformance: this runtime has no relaxed SIMD; the wasm-relaxed backend is skipped");

export const BACKENDS: readonly Backend[] = [
  { name: "ts", create: async () => createTsKernels() },
  { name: "wasm", create: () => createWasmKernels({ simd: "baseline" }) },
  ...(RELAXED_SIMD ? [{ name: "wasm-relaxed", create: () => createWasmKernels({ simd: "relaxed" }) }] : []),
];

export function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** n Gaussian values of std `std`, with a few outliers (×8) so 8-bit block scales vary. */
export function randomF32(rng: Rng, n: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gaussian(rng) * std * (rng.next() < 0.02 ? 8 : 1);
  return out;
}

/** Byte offsets of the f16 scale fields in each K-quant block (d, and dmin where the type has minimums). */
const K_SCALES: Partial<Record<DType, { d: number; dmin?: number; size?: number }>> = {
  Q2_K: { d: 80, dmin: 82 }, Q3_K: { d: 108 }, Q4_K: { d: 0, dmin: 2 }, Q5_K: { d: 0, dmin: 2 }, Q6_K: { d: 208 },
  // IQ4 levels reach ±127 (× up to 32 for IQ4_XS's sub-block scales): smaller d keeps weights of order 1
  IQ4_NL: { d: 0, size: 4 }, IQ4_XS: { d: 0, size: 0.25 },
};

/** Legacy (32-element) block types (IQ4_NL has its own K_SCALES entry): d is each block's first two bytes. */
const LEGACY_D: ReadonlySet<DType> = new Set<DType>(["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"]);

/**
 * Weight bytes of a (rows, cols) matrix: quantized Gaussians, or random K-quant and IQ4 blocks with small scales
 * (subnormalScales: scales that are f16 subnormals, below 2^-14, which conversions must get exact; for the
 * legacy types, the quantized Gaussians with each block's d replaced by a random positive f16 subnormal).
 */
export function randomWeights(rng: Rng, dtype: DType, rows: number, cols: number, subnormalScales = false): Uint8Array {
  const n = rows * cols;
  const k = K_SCALES[dtype];
  if (k === undefined) {
    const x = randomF32(rng, n, 1 / Math.sqrt(cols));
    const bytes = dtype === "F32" ? new Uint8Array(x.buffer) : quantize(dtype, x);
    if (subnormalScales && LEGACY_D.has(dtype)) {
      for (let o = 0; o < bytes.length; o += DTYPES[dtype].blockBytes) {
        const d = 1 + Math.floor(rng.next() * 0x3ff); // f16 exponent 0, mantissa 1..1023
        bytes[o] = d & 255; bytes[o + 1] = d >> 8;
      }
    }
    return bytes;
  }
  const bb = DTYPES[dtype].blockBytes;
  const bytes = new Uint8Array((n / DTYPES[dtype].blockElems) * bb);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng.next() * 256);
  for (let o = 0; o < bytes.length; o += bb) {
    const scale = subnormalScales ? 2 ** -16 : 1;
    const d = f32ToF16((0.5 + rng.next()) * 0.002 * (k.size ?? 1) * scale), m = f32ToF16((0.5 + rng.next()) * 0.004 * scale);
    bytes[o + k.d] = d & 255; bytes[o + k.d + 1] = d >> 8;
    if (k.dmin !== undefined) { bytes[o + k.dmin] = m & 255; bytes[o + k.dmin + 1] = m >> 8; }
  }
  return bytes;
}

export { createRng };

/** Copies `src` into a buffer the backend computes in (its own memory for wasm). */
export function onBackend(k: Kernels, src: Float32Array): Float32Array {
  const a = k.allocF32(src.length);
  a.set(src);
  return a;
}

/** Largest |a − b| / (scale[i] or 1), for reporting. */
export function worstError(got: ArrayLike<number>, want: ArrayLike<number>, scale?: ArrayLike<number>): { err: number; at: number } {
  let err = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs((got[i] as number) - (want[i] as number)) / (scale ? Math.max(scale[i] as number, 1e-30) : 1);
    if (Number.isNaN(e)) return { err: Infinity, at: i };
    if (e > err) { err = e; at = i; }
  }
  return { err, at };
}
