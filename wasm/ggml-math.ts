/**
 * llama.cpp's CPU math with its own roundings, as src/kernels/ts/ggml-math.ts and ggml-f16-dot.ts compute it, so
 * that these kernels give the reference's numbers to the last bit: an f32 fused multiply-add, ggml_v_expf (the
 * AVX-512 exponential of its softmax and SiLU), ggml_v_silu, _mm512_reduce_add_ps's 16-lane tree, and the two
 * orders in which it sums f16 products (ggml_vec_dot_f16: 64 lanes; tinyBLAS: 16 lanes).
 * Lane layout: an f32x4 "vector v" of a 16-lane (or 64-lane) accumulator holds lanes 4v..4v+3.
 * Pure register math: nothing here writes memory.
 */

/**
 * round_f32(a · b + c) with one rounding (the reference's fmaF32, operation for operation): a · b is exact in
 * f64, the f64 sum may round, and that differs from one rounding only when the f64 sum is an f32 midpoint;
 * then TwoSum's error term says which way the exact value lies.
 */
export function fmaF32(a: f32, b: f32, c: f32): f32 {
  const p = <f64>a * <f64>b;
  const s = p + <f64>c;
  const r = <f32>s;
  const rd = <f64>r;
  if (rd == s || !isFinite(s)) return r;
  const other = <f32>(s + (s - rd)); // the f32 on the other side of s, if s is a midpoint
  const od = <f64>other;
  if (s - rd != od - s) return r;
  const bb = s - p, err = (p - (s - bb)) + (<f64>c - bb); // p + c = s + err exactly
  if (err == 0) return r;
  return (err > 0) == (od > rd) ? other : r;
}

// ggml_v_expf's constants (vec.h), as f32 bit patterns
const R: f32 = reinterpret<f32>(0x4b400000); // 0x1.8p23: adding it rounds to an integer
const LOG2E: f32 = reinterpret<f32>(0x3fb8aa3b);
const LN2_HI: f32 = reinterpret<f32>(0x3f317200);
const LN2_LO: f32 = reinterpret<f32>(0x35bfbe8e);
const C5: f32 = reinterpret<f32>(0x3c072010);
const C4: f32 = reinterpret<f32>(0x3d2b9f17);
const C3: f32 = reinterpret<f32>(0x3e2aaf33);
const C2: f32 = reinterpret<f32>(0x3efffedb);
const C1: f32 = reinterpret<f32>(0x3f7ffff6);

/** e^x as ggml_v_expf computes it on AVX-512 (one lane; the reference's expfVec). */
export function expfGgml(x: f32): f32 {
  const z = fmaF32(x, LOG2E, R);
  const n = z - R;
  const b = fmaF32(-n, LN2_LO, fmaF32(-n, LN2_HI, x));
  if (Mathf.abs(n) > 192) return n <= 0 ? 0 : Infinity;
  const u = b * b;
  const j = fmaF32(fmaF32(fmaF32(C5, b, C4), u, fmaF32(C3, b, C2)), u, fmaF32(C1, b, 1));
  // _mm512_scalef_ps: j · 2^n rounded once (|n| ≤ 192, so 2^n and the f64 product are exact)
  return <f32>(<f64>j * reinterpret<f64>(<i64>(1023 + <i32>n) << 52));
}

/**
 * c + a · b per lane with one rounding: relaxed SIMD's madd in the relaxed build (a true FMA on CPUs with FMA,
 * i.e. every x86-64 since 2013 and every ARMv8, and so bitwise fmaF32); in the baseline build a · b exact in f64,
 * + c, rounded to f32, which is the FMA but where that f64 sum falls exactly halfway between two f32 values.
 */
@inline export function fma4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b)), f64x2.promote_low_f32x4(c));
  const a2 = v128.shuffle<f32>(a, a, 2, 3, 0, 1), b2 = v128.shuffle<f32>(b, b, 2, 3, 0, 1), c2 = v128.shuffle<f32>(c, c, 2, 3, 0, 1);
  const hi = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(a2), f64x2.promote_low_f32x4(b2)), f64x2.promote_low_f32x4(c2));
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * expfGgml on four lanes (fma4's fused multiply-adds). Where some lane's 2^n is not a normal f32 (|n| > 126:
 * results that overflow, or underflow towards 0), all four take the scalar path, which rounds j · 2^n once.
 */
export function expf4Ggml(x: v128): v128 {
  const z = fma4(x, f32x4.splat(LOG2E), f32x4.splat(R));
  const n = f32x4.sub(z, f32x4.splat(R));
  if (v128.any_true(f32x4.gt(f32x4.abs(n), f32x4.splat(126)))) return expf4Scalar(x);
  return expf4Normal(x, n);
}

/** expfGgml lane by lane. */
function expf4Scalar(x: v128): v128 {
  return f32x4(expfGgml(f32x4.extract_lane(x, 0)), expfGgml(f32x4.extract_lane(x, 1)),
    expfGgml(f32x4.extract_lane(x, 2)), expfGgml(f32x4.extract_lane(x, 3)));
}

/**
 * expf4Ggml where masked slots hold −∞ (the tiled flash kernel's tiles): lanes with n < −192, whose e^x is +0 on
 * the scalar path too (expfGgml's first exit), stay on the vector path and come out as +0, so a vector with a
 * masked key is not sent lane by lane through expfGgml.
 */
export function expf4GgmlMasked(x: v128): v128 {
  const z = fma4(x, f32x4.splat(LOG2E), f32x4.splat(R));
  const n = f32x4.sub(z, f32x4.splat(R));
  const zero = f32x4.lt(n, f32x4.splat(-192));
  if (v128.any_true(v128.andnot(f32x4.gt(f32x4.abs(n), f32x4.splat(126)), zero))) return expf4Scalar(x);
  return v128.andnot(expf4Normal(x, n), zero);
}

/** The vector path of expf4Ggml: every lane's 2^n a normal f32 (n = round(x · log2 e), as computed there). */
@inline function expf4Normal(x: v128, n: v128): v128 {
  const nn = f32x4.neg(n);
  const b = fma4(nn, f32x4.splat(LN2_LO), fma4(nn, f32x4.splat(LN2_HI), x));
  const u = f32x4.mul(b, b);
  const j = fma4(fma4(fma4(f32x4.splat(C5), b, f32x4.splat(C4)), u, fma4(f32x4.splat(C3), b, f32x4.splat(C2))), u,
    fma4(f32x4.splat(C1), b, f32x4.splat(1)));
  // 2^n from the bits of n + (2^23 + 127): its low mantissa bits are n + 127, shifted into the exponent field
  const pow2n = i32x4.shl(f32x4.add(n, f32x4.splat(8388735.0)), 23);
  return f32x4.mul(j, pow2n);
}

/** siluGgml on four lanes. */
@inline export function silu4Ggml(x: v128): v128 {
  return f32x4.div(x, f32x4.add(f32x4.splat(1), expf4Ggml(f32x4.sub(f32x4.splat(0), x))));
}

/** x / (1 + e^−x) as ggml_v_silu computes it (the vector lanes of ggml_vec_swiglu_f32). */
@inline export function siluGgml(x: f32): f32 {
  return x / (<f32>1 + expfGgml(<f32>0 - x));
}

/** x / (1 + e^−x) as ggml_silu_f32 (the scalar tail): e^x correctly rounded from f64, then f32 steps. */
@inline export function siluScalar(x: f32): f32 {
  return x / (<f32>1 + <f32>Math.exp(-<f64>x));
}

/**
 * _mm512_reduce_add_ps over a 16-lane accumulator held as four vectors (v holds lanes 4v..4v+3): lanes i + i+8
 * (a0 + a2, a1 + a3), then i + i+4 (the two), then (0 + 2) + (1 + 3); each sum rounded to f32.
 */
@inline export function reduce16(a0: v128, a1: v128, a2: v128, a3: v128): f32 {
  const c = f32x4.add(f32x4.add(a0, a2), f32x4.add(a1, a3));
  return (f32x4.extract_lane(c, 0) + f32x4.extract_lane(c, 2)) + (f32x4.extract_lane(c, 1) + f32x4.extract_lane(c, 3));
}

/** Four f16 values at p widened to their f32 values (exact; ±inf/NaN not kept, as simd.ts f16Lo). */
@inline export function f16x4At(p: usize): v128 {
  return f32x4.mul(v128.and(i32x4.shl(v128.load16x4_s(p), 13), i32x4.splat(0x8fffe000)), f32x4.splat(reinterpret<f32>(0x77800000)));
}

/** Four f16 weights at p as matmul-float.ts's ldw reads them: w · 2^-112 (the activations carry 2^112). */
@inline export function f16x4Scaled(p: usize): v128 {
  return v128.and(i32x4.shl(v128.load16x4_s(p), 13), i32x4.splat(0x8fffe000));
}

/** One f16 at p, as f16x4At (scaled: as f16x4Scaled). */
@inline export function f16At(p: usize, scaled: bool): f64 {
  const h = <u32>load<u16>(p);
  const v = <f64>reinterpret<f32>(((h & 0x7fff) << 13) | ((h & 0x8000) << 16));
  return scaled ? v : v * 5192296858534827628530496329220096.0; // 2^112
}

/** Four f16 values at element i of w (f16 bits), widened (scaled: as f16x4Scaled). */
@inline function ld4(w: usize, i: i32, scaled: bool): v128 {
  const p = w + (<usize>i << 1);
  return scaled ? f16x4Scaled(p) : f16x4At(p);
}

/**
 * acc + w·x for products that are exact in f32 (f16 × f16), so a fused multiply-add (relaxed build) and a
 * product then a sum round the same: one rounding, of the sum.
 */
@inline export function maddExact(acc: v128, w: v128, x: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(w, x, acc);
  return f32x4.add(acc, f32x4.mul(w, x));
}

@inline function mac(acc: v128, w: usize, x: usize, i: i32, scaled: bool): v128 {
  return maddExact(acc, ld4(w, i, scaled), v128.load(x + (<usize>i << 2)));
}

/**
 * Σ w[i]·x[i] (w f16 bits, x f32 holding f16 values; scaled: w read as w · 2^-112 and x carrying 2^112) in
 * ggml_vec_dot_f16's order on AVX-512: 64 lanes, element i of each 64-element chunk added to lane i in f32 (the
 * products are exact in f32, so mul + add is ggml's FMA); the four 16-lane accumulators combined as
 * (0 + 2) + (1 + 3), then reduce16; the elements past the last whole chunk added one at a time in f64, and the
 * result rounded to f32. The lanes are independent, so they are summed in two passes over the row (lanes 0–15 and
 * 32–47, then 16–31 and 48–63) to keep eight accumulators in registers instead of sixteen.
 */
@inline function vec64(w: usize, x: usize, n: i32, scaled: bool): f32 {
  const np = n & ~63;
  let s: f64 = 0;
  if (np > 0) {
    const q0 = lanes16(w, x, np, 0, scaled), q1 = lanes16(w, x, np, 4, scaled), q2 = lanes16(w, x, np, 8, scaled), q3 = lanes16(w, x, np, 12, scaled);
    s = <f64>reduce16(q0, q1, q2, q3);
  }
  for (let i = np; i < n; i++) s += f16At(w + (<usize>i << 1), scaled) * <f64>load<f32>(x + (<usize>i << 2));
  return <f32>s;
}

/**
 * Vector v of ggml_vec_dot_f16's first 16-lane accumulator combined with the other three, as GGML_F32Cx16_REDUCE
 * combines them: (acc0 + acc2) + (acc1 + acc3), where accumulator k's vector v sums elements 16k + 4v..16k + 4v + 3
 * of every 64. Four single-vector passes over the row (the first streams it from memory, the rest find it in
 * cache): sixteen accumulators in one pass spill out of the registers (measured: decode 45% slower).
 */
@inline function lanes16(w: usize, x: usize, np: i32, o: i32, scaled: bool): v128 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let i = o; i < np; i += 64) {
    a0 = mac(a0, w, x, i, scaled); a1 = mac(a1, w, x, i + 16, scaled);
    a2 = mac(a2, w, x, i + 32, scaled); a3 = mac(a3, w, x, i + 48, scaled);
  }
  return f32x4.add(f32x4.add(a0, a2), f32x4.add(a1, a3));
}

/**
 * Σ w[i]·x[i] (as dotF16Vec64) in tinyBLAS's order on AVX-512: 16 lanes over the whole row (n a multiple of 16),
 * element i to lane i mod 16, then reduce16.
 */
@inline function tiled16(w: usize, x: usize, n: i32, scaled: bool): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let i = 0; i < n; i += 16) {
    a0 = mac(a0, w, x, i, scaled); a1 = mac(a1, w, x, i + 4, scaled);
    a2 = mac(a2, w, x, i + 8, scaled); a3 = mac(a3, w, x, i + 12, scaled);
  }
  return reduce16(a0, a1, a2, a3);
}

/** vec64 with `scaled` a constant in each copy (a runtime flag would cost a branch per load). */
function vec64Scaled(w: usize, x: usize, n: i32): f32 { return vec64(w, x, n, true); }
function vec64True(w: usize, x: usize, n: i32): f32 { return vec64(w, x, n, false); }
function tiled16Scaled(w: usize, x: usize, n: i32): f32 { return tiled16(w, x, n, true); }
function tiled16True(w: usize, x: usize, n: i32): f32 { return tiled16(w, x, n, false); }

/** Σ w·x in ggml_vec_dot_f16's order (vec64 above); scaled: matmul's w · 2^-112 weights, else true f16 values. */
@inline export function dotF16Vec64(w: usize, x: usize, n: i32, scaled: bool): f32 {
  return scaled ? vec64Scaled(w, x, n) : vec64True(w, x, n);
}

/** Σ w·x in tinyBLAS's order (tiled16 above). */
@inline export function dotF16Tiled16(w: usize, x: usize, n: i32, scaled: bool): f32 {
  return scaled ? tiled16Scaled(w, x, n) : tiled16True(w, x, n);
}
