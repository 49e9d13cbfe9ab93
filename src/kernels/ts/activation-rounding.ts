/**
 * What llama.cpp's CPU backend does to an activation row before a dot product with a weight row: it converts
 * the row to the weight type's "vec_dot_type" (F16 for F16 weights, Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1,
 * Q8_K for K-quants) and then takes an integer or f16 dot product. Multiplying a dequantized weight by the
 * activation as it is after that conversion gives llama.cpp's result up to summation order, so Peel's
 * logits can be compared with a tight tolerance. This file produces the converted row as f32 values.
 * It mirrors the x86 SIMD quantizers (scale 127/amax, round half to even), which the prebuilt binary runs.
 * It does not produce the packed bytes (formats/gguf/quant does that for files).
 */

import type { DType } from "../../tensor/dtype.js";
import { roundToF16, bf16ToF32, f32ToBf16 } from "../../tensor/f16.js";

/** The activation type llama.cpp's CPU backend pairs with each weight type. */
export type ActivationRounding = "none" | "f16" | "bf16" | "q8_0" | "q8_1" | "q8_k";

export function activationRoundingFor(dtype: DType): ActivationRounding {
  switch (dtype) {
    case "F32": return "none";
    case "F16": return "f16";
    case "BF16": return "bf16";
    case "Q4_0": case "Q5_0": case "Q8_0": return "q8_0";
    case "Q4_1": case "Q5_1": return "q8_1";
    case "IQ4_NL": return "q8_0"; // ggml pairs IQ4_NL with Q8_0 and IQ4_XS with Q8_K, like the types of their block size
    case "Q2_K": case "Q3_K": case "Q4_K": case "Q5_K": case "Q6_K": case "IQ4_XS": return "q8_k";
    case "Q8_1": case "Q8_K": return "none"; // activation formats themselves; never weights in practice
  }
}

/** Round half to even, as _mm256_round_ps(.., _MM_ROUND_NEAREST) and the K-quant float trick do. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Q8_0 / Q8_1 rounding of one 32-block: d = amax/127 stored as f16, q = round(x·127/amax).
 * Returns the Q8_1 "s" correction: llama.cpp multiplies a Q4_1/Q5_1 block minimum by s = f16(d·Σq)
 * rather than by the sum of the rounded values (f16(d)·Σq); the difference is returned so the matmul can
 * add min · (s − f16(d)·Σq) per block.
 */
function roundQ8Block32(out: Float32Array, x: Float32Array, start: number): number {
  let amax = 0;
  for (let i = start; i < start + 32; i++) amax = Math.max(amax, Math.abs(x[i] as number));
  const d = Math.fround(amax / 127);
  const id = amax !== 0 ? Math.fround(127 / amax) : 0;
  const dh = roundToF16(d);
  let sum = 0;
  for (let i = start; i < start + 32; i++) {
    const q = roundEven(Math.fround((x[i] as number) * id));
    sum += q;
    out[i] = dh * q;
  }
  return roundToF16(Math.fround(d * sum)) - dh * sum;
}

/** Q8_K rounding of one 256-block: iscale = −127/max (max signed), q = min(127, round(iscale·x)), d = 1/iscale in f32. */
function roundQ8KBlock(out: Float32Array, x: Float32Array, start: number): void {
  let max = 0;
  let amax = 0;
  for (let i = start; i < start + 256; i++) {
    const v = x[i] as number;
    if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
  }
  if (amax === 0) { out.fill(0, start, start + 256); return; }
  const iscale = Math.fround(-127 / max);
  const d = Math.fround(1 / iscale);
  for (let i = start; i < start + 256; i++) {
    const q = Math.min(127, roundEven(Math.fround(iscale * (x[i] as number))));
    out[i] = Math.fround(d * q);
  }
}

/**
 * out (n) = x (n) as llama.cpp sees it after converting to the vec_dot type. n is a multiple of the block.
 * For "q8_1", sCorr (n/32) receives each block's s correction (see roundQ8Block32).
 */
export function roundActivations(mode: ActivationRounding, out: Float32Array, x: Float32Array, n: number, sCorr?: Float32Array): void {
  switch (mode) {
    case "none": out.set(x.subarray(0, n)); return;
    case "f16": for (let i = 0; i < n; i++) out[i] = roundToF16(x[i] as number); return;
    case "bf16": for (let i = 0; i < n; i++) out[i] = bf16ToF32(f32ToBf16(x[i] as number)); return;
    case "q8_0": for (let b = 0; b < n; b += 32) roundQ8Block32(out, x, b); return;
    case "q8_1": for (let b = 0; b < n; b += 32) {
      const c = roundQ8Block32(out, x, b);
      if (sCorr) sCorr[b / 32] = c;
    }
      return;
    case "q8_k": for (let b = 0; b < n; b += 256) roundQ8KBlock(out, x, b); return;
  }
}
