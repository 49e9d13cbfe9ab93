/**
 * e^x, e^x − 1 and tanh for two f64 lanes, accurate to a few f64 ulps: after rounding to f32 they give what
 * Math.exp / Math.tanh rounded to f32 give (the ts reference's values), but where the true value lies within
 * ~1e-15 (relative) of an f32 halfway point, which a few billion random arguments would meet once. Vectors in
 * place of the scalar libm calls of the flash kernel's weights, attention soft caps and the logit soft cap.
 * The range reduction: x = n·ln 2 + r, |r| ≤ ln2/2, ln 2 in fdlibm's two parts (n·ln2hi exact); e^r by its
 * Taylor series to r^13 (truncation below 2e-17), 2^n from n's bits.
 */

const SHIFT: f64 = 6755399441055744.0; // 1.5·2^52: x·log2(e) + SHIFT rounds to an integer n held in the low bits
const LN2_HI: f64 = 6.93147180369123816490e-01, LN2_LO: f64 = 1.90821492927058770002e-10;

/** (e^r − 1) / r on two lanes, |r| ≤ ln2/2: the Taylor series' terms after the first, by Horner. */
@inline function expm1OverR(r: v128): v128 {
  let y = f64x2.splat(1.0 / 87178291200.0); // 1/14!
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 6227020800.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 479001600.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 39916800.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 3628800.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 362880.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 40320.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 5040.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 720.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 120.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 24.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0 / 6.0));
  y = f64x2.add(f64x2.mul(y, r), f64x2.splat(0.5));
  return f64x2.add(f64x2.mul(y, r), f64x2.splat(1.0));
}

/**
 * e^x (minusOne: e^x − 1) on two lanes, x ≤ 0; below −110, where the f32 is 0 anyway, x is taken as −110 (−∞ gives
 * 0 too). Both as 2^n·(e^r − 1) + 2^n (− 1), so for e^x − 1 with n = 0 the series itself: small arguments keep their
 * relative precision. For e^x that sum is 2^n·f64(1 + (e^r − 1)) exactly (2^n a normal f64 here).
 */
@inline function expOrExpm1(x: v128, minusOne: bool): v128 {
  const xc = f64x2.max(x, f64x2.splat(-110));
  const t = f64x2.add(f64x2.mul(xc, f64x2.splat(1.4426950408889634)), f64x2.splat(SHIFT));
  const n = f64x2.sub(t, f64x2.splat(SHIFT));
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(n, f64x2.splat(LN2_HI))), f64x2.mul(n, f64x2.splat(LN2_LO)));
  const p2 = i64x2.shl(i64x2.add(t, i64x2.splat(1023)), 52); // t's low bits hold n (two's complement)
  return f64x2.add(f64x2.mul(p2, f64x2.mul(expm1OverR(r), r)), minusOne ? f64x2.sub(p2, f64x2.splat(1.0)) : p2);
}

/** e^x on two lanes, x ≤ 0 (expOrExpm1). */
@inline export function expF64x2(x: v128): v128 {
  return expOrExpm1(x, false);
}

/** e^x − 1 on two lanes, x ≤ 0 (expOrExpm1). */
@inline export function expm1F64x2(x: v128): v128 {
  return expOrExpm1(x, true);
}

/** tanh on two lanes: −e / (2 + e) with e = e^(−2|x|) − 1, the sign of x put back (±0 stays ±0). */
@inline export function tanhF64x2(x: v128): v128 {
  const e = expm1F64x2(f64x2.mul(f64x2.abs(x), f64x2.splat(-2)));
  const th = f64x2.div(f64x2.neg(e), f64x2.add(e, f64x2.splat(2)));
  return v128.or(th, v128.and(x, i64x2.splat(0x8000000000000000)));
}

/** tanh on four f32 lanes, each computed in f64 and rounded once to f32. */
@inline export function tanhF32x4(x: v128): v128 {
  const lo = f32x4.demote_f64x2_zero(tanhF64x2(f64x2.promote_low_f32x4(x)));
  const hi = f32x4.demote_f64x2_zero(tanhF64x2(f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1))));
  return v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
}
