/**
 * Shared helpers for the WebAssembly kernels: f16 ⇄ f32 conversions (scalar and four lanes at a time),
 * horizontal sums, the signed 8-bit dot product of sixteen lanes, and a four-lane exp.
 * Pure register math: nothing here touches memory except through the pointers it is given.
 */

/**
 * f16 bits → f32, exact for every pattern. Normal values re-bias the exponent with an integer add, and
 * subnormals come from a subtraction of two normal floats: no arithmetic ever sees an f32 subnormal, which
 * costs this CPU a microcode assist per operation (scales stored as f16 subnormals made whole K-quant
 * products twice as slow when this multiplied the subnormal f32 pattern by 2^112).
 */
@inline export function f16ToF32(h: u32): f32 {
  const mag = (h & 0x7fff) << 13;
  const e = h & 0x7c00;
  let bits = mag + 0x38000000; // exponent 15 → 127 bias
  if (e == 0x7c00) bits = mag | 0x7f800000; // inf, NaN
  else if (e == 0) bits = reinterpret<u32>(reinterpret<f32>(mag + 0x38800000) - reinterpret<f32>(0x38800000)); // m·2^-24 = (2^-14 + m·2^-24) − 2^-14
  return reinterpret<f32>(bits | ((h & 0x8000) << 16));
}

/** f32 → f16 bits, round to nearest even (the same rule as tensor/f16.ts). */
export function f32ToF16(v: f32): u32 {
  const x = reinterpret<u32>(v);
  const sign = (x >> 16) & 0x8000;
  const a = x & 0x7fffffff;
  if (a >= 0x7f800000) return sign | (a > 0x7f800000 ? 0x7e00 : 0x7c00);
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 rounds to infinity
  if (a < 0x38800000) { // below 2^-14: an f16 subnormal, i.e. a multiple of 2^-24
    return sign | <u32>nearest<f32>(reinterpret<f32>(a) * 16777216.0);
  }
  const b = a - 0x38000000; // re-bias 127 → 15
  return sign | ((b + 0x0fff + ((b >> 13) & 1)) >> 13);
}

@inline export function roundF16(v: f32): f32 {
  return f16ToF32(f32ToF16(v));
}

/**
 * v rounded to f16 precision (as f32), four lanes, for |v| < 65504 (finite, no overflow): the same value as
 * roundF16 on each lane. An f16's spacing near v is q = 2^(e − 10), e the exponent of max(|v|, 2^-14) (below
 * 2^-14, the subnormals, q stays 2^-24). Adding M = 1.5 · 2^23 · q puts v + M in the binade where an f32's
 * spacing is q, so that sum rounds v to a multiple of q, nearest even (M / q is even), and subtracting M is
 * exact. M comes from v's exponent bits: seven operations, with no separate subnormal path.
 */
@inline export function roundF16x4(v: v128): v128 {
  const e = v128.and(f32x4.max(f32x4.abs(v), f32x4.splat(reinterpret<f32>(0x38800000))), i32x4.splat(0x7f800000));
  const m = v128.or(i32x4.add(e, i32x4.splat(13 << 23)), i32x4.splat(0x400000)); // 1.5 · 2^(e + 13)
  return f32x4.sub(f32x4.add(v, m), m);
}

/**
 * out[i] ← roundF16(x[i])·scale for n values: four lanes at a time while they are in roundF16x4's range,
 * lane by lane otherwise (values ≥ 65504, infinities, NaN). scale is a power of two (exact).
 */
@inline export function roundRowF16(x: usize, out: usize, n: i32, scale: f32): void {
  const sv = f32x4.splat(scale), big = f32x4.splat(65504);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    if (i32x4.all_true(f32x4.lt(f32x4.abs(v), big))) {
      v128.store(out + (<usize>i << 2), f32x4.mul(roundF16x4(v), sv));
      continue;
    }
    for (let j = i; j < i + 4; j++) store<f32>(out + (<usize>j << 2), roundF16(load<f32>(x + (<usize>j << 2))) * scale);
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), roundF16(load<f32>(x + (<usize>i << 2))) * scale);
}

/**
 * Eight f16 lanes (u16x8) → the low / high four as f32x4 in four operations, exact for finite values
 * (subnormals included); infinities and NaNs are NOT preserved (they come out as ±2^16·(1+m)), which is
 * acceptable for weights, scales and cached keys/values, never for arbitrary data. The sign lands on bit 28
 * after the shift and sign-extension fills 28..31; the mask keeps bit 31 only, and 2^112 re-biases.
 */
@inline export function f16Lo(h8: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(h8), 13), i32x4.splat(0x8fffe000)), f32x4.splat(reinterpret<f32>(0x77800000)));
}
@inline export function f16Hi(h8: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shl(i32x4.extend_high_i16x8_s(h8), 13), i32x4.splat(0x8fffe000)), f32x4.splat(reinterpret<f32>(0x77800000)));
}

/**
 * Four f16 bit patterns (sign-extended to i32 lanes, as i32x4.extend_*_i16x8_s gives them) → f32x4, exact for
 * every pattern, as f16ToF32 does it: normal values re-biased with an integer add, subnormals from a subtraction
 * of two normal floats (no f32 subnormal ever meets an arithmetic operation: f16Lo's multiply does, and with
 * f16-subnormal scales a microcode assist per product made a Q6_K model's decode slower than GGUF order), an
 * exponent of 31 (infinities, NaNs) to 255. The K-quant x4 kernels convert their d and dmin with it, so that
 * every scale gives what f16Lookup gives the row kernels (and the Q4_0/Q8_0 x4 kernels their last blocks' d, as
 * f16ToF32; per 32-element block it costs too much: matmul-legacy-x4.ts quadScales).
 */
@inline export function f16x4Exact(e: v128): v128 {
  const mag = i32x4.shl(v128.and(e, i32x4.splat(0x7fff)), 13), exp = v128.and(e, i32x4.splat(0x7c00));
  const sub = f32x4.sub(i32x4.add(mag, i32x4.splat(0x38800000)), i32x4.splat(0x38800000)); // m·2^-24 = (2^-14 + m·2^-24) − 2^-14
  let v = v128.bitselect(v128.or(mag, i32x4.splat(0x7f800000)), i32x4.add(mag, i32x4.splat(0x38000000)), i32x4.eq(exp, i32x4.splat(0x7c00)));
  v = v128.bitselect(sub, v, i32x4.eq(exp, i32x4.splat(0)));
  return v128.or(v, v128.and(e, i32x4.splat(0x80000000))); // the sign: bit 31 of the sign-extended pattern
}

/**
 * Stores the first n lanes of v (one per token) at out[(t + j)·rows + r]: a product's outputs for weight row r
 * and tokens t..t+n-1 of an (nTokens, rows) result.
 */
@inline export function storeLanes(out: usize, v: v128, rows: i32, r: i32, t: i32, n: i32): void {
  const o = out + ((<usize>t * <usize>rows + <usize>r) << 2), step = <usize>rows << 2;
  store<f32>(o, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(o + step, f32x4.extract_lane(v, 1));
  if (n > 2) store<f32>(o + 2 * step, f32x4.extract_lane(v, 2));
  if (n > 3) store<f32>(o + 3 * step, f32x4.extract_lane(v, 3));
}

/** Rows r..r + n − 1 (n ≤ 4) of token t's outputs (out[t·rows + r..]) from the four lanes of v: rows in lanes. */
@inline export function storeRowLanes(out: usize, v: v128, rows: i32, r: i32, t: i32, n: i32): void {
  const o = out + ((<usize>t * <usize>rows + <usize>r) << 2);
  if (n == 4) { v128.store(o, v); return; }
  store<f32>(o, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(o, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(o, f32x4.extract_lane(v, 2), 8);
}

@inline export function hsumF32(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline export function hsumI32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

@inline export function hmaxF32(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/**
 * Σ w·x over sixteen signed bytes, as four i32 partial sums. Each i16 lane adds two products, so it needs
 * |w·x| ≤ 16383 per product: true for every weight type (|w| ≤ 128) against 8-bit activations (|x| ≤ 127).
 */
@inline export function dot16(w: v128, x: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.extmul_low_i8x16_s(w, x), i16x8.extmul_high_i8x16_s(w, x)));
}

/** e^x on four lanes (Cephes-style: 2^n · polynomial(r), |r| ≤ ln2/2), within ~2 ulp; underflows to ~1e-38, not 0. */
@inline export function exp4(x: v128): v128 {
  // pmin/pmax (one instruction each; wasm's min/max take V8 several) give the same lanes here: the bounds are
  // not zero, and a NaN lane passes through both as x
  const xc = f32x4.pmax(f32x4.pmin(x, f32x4.splat(88.0)), f32x4.splat(-87.33654));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.44269504)));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(y, r), r), r), f32x4.splat(1));
  // 2^n from the bits of n + (2^23 + 127): n is an integer in -126..127, so the sum is exact and its low
  // mantissa bits are n + 127, which the shift moves into the exponent field (one add where
  // trunc_sat_f32x4_s would take V8 about eight instructions)
  const pow2n = i32x4.shl(f32x4.add(n, f32x4.splat(8388735.0)), 23);
  return f32x4.mul(y, pow2n);
}

@inline export function expF32(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** [Σs0, Σs1, Σs2, Σs3] of four i32x4 vectors: four horizontal sums at once (a 4×4 transpose-add; exact integers). */
@inline export function reduce4I32(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const a = i32x4.add(i32x4.shuffle(s0, s1, 0, 1, 4, 5), i32x4.shuffle(s0, s1, 2, 3, 6, 7));
  const b = i32x4.add(i32x4.shuffle(s2, s3, 0, 1, 4, 5), i32x4.shuffle(s2, s3, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
}

/** The sum of v's four i32 lanes in every lane (exact integers). */
@inline export function hsumAllI32(v: v128): v128 {
  const h = i32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return i32x4.add(h, i32x4.shuffle(h, h, 1, 0, 3, 2));
}

/**
 * K-quant minimums against activation sums: Σ a·(the eight i16 at p) + b·(the eight at p + 16), as four i32 lanes
 * (a, b hold sub-blocks' minimums or scales as i16, p a super-block's per-16 activation sums).
 */
@inline export function minSum(a: v128, b: v128, p: usize): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(a, v128.load(p)), i32x4.dot_i16x8_s(b, v128.load(p, 16)));
}

/**
 * A 4×4 transpose of 32-bit lanes: [a_i, b_i, c_i, d_i] (lane i of each) stored at out + i·stride, i = 0..3
 * (stride a constant after inlining).
 */
@inline export function storeTransposedI32(a: v128, b: v128, c: v128, d: v128, out: usize, stride: usize): void {
  storeTransposedAt(a, b, c, d, out, stride, 2 * stride, 3 * stride);
}

/** storeTransposedI32 with the four output vectors at out, out + o1, out + o2, out + o3. */
@inline export function storeTransposedAt(a: v128, b: v128, c: v128, d: v128, out: usize, o1: usize, o2: usize, o3: usize): void {
  const abLo = i32x4.shuffle(a, b, 0, 4, 1, 5), cdLo = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const abHi = i32x4.shuffle(a, b, 2, 6, 3, 7), cdHi = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(out, i32x4.shuffle(abLo, cdLo, 0, 1, 4, 5));
  v128.store(out + o1, i32x4.shuffle(abLo, cdLo, 2, 3, 6, 7));
  v128.store(out + o2, i32x4.shuffle(abHi, cdHi, 0, 1, 4, 5));
  v128.store(out + o3, i32x4.shuffle(abHi, cdHi, 2, 3, 6, 7));
}

