/**
 * llama.cpp's CPU math functions with their own roundings, for the reference kernels that must give its numbers
 * to the last bit: an f32 fused multiply-add, ggml_v_expf (the AVX-512 exponential that its softmax and SiLU use,
 * a polynomial with about 1.5 ulp of error, not the correctly rounded exp) and ggml_v_silu, and the 16-lane sum
 * of _mm512_reduce_add_ps. Facts from ggml-cpu's vec.h (the constants are its polynomial's); the code is Peel's.
 */

const f32 = Math.fround;

/**
 * round_f32(a · b + c) with one rounding, for f32 a, b, c. a · b is exact in f64 (48 bits); the f64 sum may round,
 * and rounding that to f32 differs from the true single rounding only when the f64 sum lands exactly halfway
 * between two f32 values: then the sign of the f64 sum's error (TwoSum) says which way the exact value lies.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f32(s);
  if (r === s || !Number.isFinite(s)) return r;
  // is s an f32 midpoint? the two f32 neighbours around s are r and the next one away from s
  const other = f32(s + (s - r)); // the f32 on the other side of s (s − r = ± half an ulp at a midpoint)
  if (s - r !== other - s) return r; // not a midpoint: double rounding cannot cross one
  const bb = s - p, err = (p - (s - bb)) + (c - bb); // TwoSum: p + c = s + err exactly
  if (err === 0) return r; // a true tie: f32 rounding (to even) decides, as the hardware would
  return (err > 0) === (other > r) ? other : r;
}

/** An f32 from C's hexadecimal float notation ("0x1.715476p+0"), so the constants read as in vec.h. */
function hexF32(h: string): number {
  const m = /^0x1\.([0-9a-f]+)p([+-]?\d+)$/.exec(h);
  if (m === null) throw new Error(`bad hex float ${h}`);
  const digits = m[1] as string;
  return f32((1 + parseInt(digits, 16) / 16 ** digits.length) * 2 ** Number(m[2]));
}

const R = hexF32("0x1.8p23"); // adding it rounds to an integer
const LOG2E = hexF32("0x1.715476p+0");
const LN2_HI = hexF32("0x1.62e4p-1");
const LN2_LO = hexF32("0x1.7f7d1cp-20");
const C5 = hexF32("0x1.0e4020p-7");
const C4 = hexF32("0x1.573e2ep-5");
const C3 = hexF32("0x1.555e66p-3");
const C2 = hexF32("0x1.fffdb6p-2");
const C1 = hexF32("0x1.ffffecp-1");

/** e^x as ggml_v_expf computes it on AVX-512 (one lane). */
export function expfVec(x: number): number {
  const z = fmaF32(x, LOG2E, R);
  const n = f32(z - R);
  const b = fmaF32(-n, LN2_LO, fmaF32(-n, LN2_HI, x));
  if (Math.abs(n) > 192) return n <= 0 ? 0 : Infinity;
  const u = f32(b * b);
  const j = fmaF32(fmaF32(fmaF32(C5, b, C4), u, fmaF32(C3, b, C2)), u, fmaF32(C1, b, 1));
  return f32(j * 2 ** n); // _mm512_scalef_ps: j · 2^n, rounded once
}

/** x / (1 + e^−x) as ggml_v_silu computes it (vector lanes of ggml_vec_swiglu_f32). */
export function siluVec(x: number): number {
  return f32(x / f32(1 + expfVec(f32(0 - x))));
}

/** x / (1 + e^−x) as ggml_silu_f32 computes it (the scalar tail): libm expf, then f32 steps. */
export function siluScalar(x: number): number {
  return f32(x / f32(1 + f32(Math.exp(-x))));
}

/** _mm512_reduce_add_ps over v[o..o+16): halves of 8, then of 4, then (0 + 2) + (1 + 3), each sum in f32. */
export function reduceAdd16(v: ArrayLike<number>, o: number): number {
  const t = reduceScratch;
  for (let l = 0; l < 8; l++) t[l] = f32((v[o + l] as number) + (v[o + l + 8] as number));
  for (let l = 0; l < 4; l++) t[l] = f32((t[l] as number) + (t[l + 4] as number));
  return f32(f32((t[0] as number) + (t[2] as number)) + f32((t[1] as number) + (t[3] as number)));
}
const reduceScratch = new Float32Array(8);
