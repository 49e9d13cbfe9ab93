/**
 * Activation quantizers: what llama.cpp's CPU backend turns an f32 activation row into before a dot product
 * with a weight row (see src/kernels/ts/activation-rounding.ts for the rules; the arithmetic here is the same
 * f32 arithmetic, so both backends produce identical 8-bit values and scales).
 * Packed layouts, one per token row of n values (n a multiple of the block). The baseline products use
 * i32x4.dot_i16x8_s, so their 8-bit quants are stored widened to i16 (the widening is paid once per row
 * rather than once per weight row it meets). With relaxed SIMD, the products of unsigned weight quants use
 * the 8-bit dot (relaxed_dot_i8x16_i7x16), which takes the quants as they are: "narrow" rows, i8, with each
 * 32-block's Σq for the types whose quants carry an offset (Q4_0: q − 8, Q5_0: q − 16).
 *   q8_0: qs i16[n], d f32[n/32]                    (d already rounded through f16)
 *   q8_1: qs i16[n], d f32[n/32], s f32[n/32]       (s = f16(d·Σq), the block-minimum multiplier)
 *   narrow q8_0 / q8_1: qs i8[n], d f32[n/32], (q8_1: s f32[n/32]), sq i32[n/32]  (sq = Σq, exact)
 *   q8_k: qs i16[n] (narrow: i8[n]), d f32[n/256], bsums i16[n/16]  (sums of each 16 quants, |Σ| ≤ 2032)
 *   f16 / bf16: f32[n] holding the rounded values (f16: times 2^112, see roundRowsF16)
 * It does not compute dot products (matmul-*.ts do).
 */

import { roundF16, roundRowF16 } from "./simd";

// ggml type ids (the JS side passes DTYPES[dtype].ggmlId)
const Q4_0: i32 = 2, Q4_1: i32 = 3, Q5_0: i32 = 6, Q5_1: i32 = 7, Q2_K: i32 = 10, Q3_K: i32 = 11, Q4_K: i32 = 12, Q5_K: i32 = 13, Q6_K: i32 = 14, IQ4_XS: i32 = 23;

/**
 * 1 when products with weights of ggml type `type` take narrow (i8) activation rows: in the relaxed-SIMD
 * build, for the types whose quants are unsigned, and for Q3_K and IQ4_XS, whose signed quants go in as |q| with
 * their signs moved onto the activations (matmul-lowbit.ts, as llama.cpp does; Q8_0 keeps the i16 path: its
 * sign transfer per vector would cost more than the widening saves).
 */
export function narrowActivations(type: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  return type == Q4_0 || type == Q4_1 || type == Q5_0 || type == Q5_1 || type == Q4_K || type == Q5_K || type == Q6_K
    || type == Q2_K || type == Q3_K || type == IQ4_XS ? 1 : 0;
}

export function q8RowBytes(n: i32, withSum: bool, narrow: bool): i32 {
  if (narrow) return n + (n >> 5) * (withSum ? 12 : 8);
  return 2 * n + (n >> 5) * (withSum ? 8 : 4);
}

export function q8kRowBytes(n: i32, narrow: bool): i32 {
  return (narrow ? n : 2 * n) + (n >> 8) * 4 + (n >> 4) * 2;
}

/** Four i32x4 of values in -127..127 → sixteen i8 (narrow) or two i16x8 (wide) at qs. */
@inline function storeQuants(qs: usize, a: v128, b: v128, c: v128, e: v128, narrow: bool): void {
  const lo = i16x8.narrow_i32x4_s(a, b), hi = i16x8.narrow_i32x4_s(c, e);
  if (narrow) {
    v128.store(qs, i8x16.narrow_i16x8_s(lo, hi));
  } else {
    v128.store(qs, lo);
    v128.store(qs, hi, 16);
  }
}

/**
 * nearest(v) as i32, ties to even, for |v| ≤ 2^22 (here |v| ≤ 127): adding 1.5·2^23 leaves the rounded integer
 * in the low mantissa bits, exactly as f32x4.nearest rounds; two integer-cheap operations instead of nearest
 * plus trunc_sat, whose saturating conversion V8 lowers to a long sequence on x86. Blocks with NaN or
 * infinite activations do not come here (quantizeBlock32 gives them zero quants).
 */
@inline function roundToInt(v: v128): v128 {
  return i32x4.sub(f32x4.add(v, f32x4.splat(12582912.0)), i32x4.splat(0x4b400000));
}

/**
 * One 32-block: amax → d = amax/127 (stored as f16), q = nearest(x·127/amax); sOut ≠ 0 also gets f16(d·Σq),
 * sqOut ≠ 0 the exact Σq. Quants go to qs as i16 (or i8 when narrow).
 */
@inline function quantizeBlock32(x: usize, qs: usize, dOut: usize, sOut: usize, sqOut: usize, narrow: bool): void {
  // pmax is one instruction where V8 lowers f32x4.max to about eight (NaN and ±0 rules); the values are
  // |x| (no −0) and a NaN is tracked on the side, so amax is what f32x4.max would give, NaN included
  let m = f32x4.splat(0), nan = m;
  for (let i = 0; i < 8; i++) {
    const v = v128.load(x + (<usize>i << 4));
    m = f32x4.pmax(m, f32x4.abs(v));
    nan = v128.or(nan, f32x4.ne(v, v));
  }
  let amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  if (v128.any_true(nan)) amax = NaN;
  const d: f32 = amax / 127;
  if (!isFinite(amax)) { // NaN or infinite activations: every product is NaN; quants 0 (as llama.cpp's for ±inf), so
    // that every path sees the same integers (the repacked quads' i16 sums are exact only for |q| ≤ 127)
    memory.fill(qs, 0, narrow ? 32 : 64);
    store<f32>(dOut, roundF16(d));
    if (sOut != 0) store<f32>(sOut, roundF16(d * 0));
    if (sqOut != 0) store<i32>(sqOut, 0);
    return;
  }
  const id = f32x4.splat(amax != 0 ? <f32>127 / amax : 0);
  let sum = i32x4.splat(0);
  for (let i = 0; i < 2; i++) {
    const p = x + (<usize>i << 6);
    const a = roundToInt(f32x4.mul(v128.load(p), id));
    const b = roundToInt(f32x4.mul(v128.load(p, 16), id));
    const c = roundToInt(f32x4.mul(v128.load(p, 32), id));
    const e = roundToInt(f32x4.mul(v128.load(p, 48), id));
    sum = i32x4.add(sum, i32x4.add(i32x4.add(a, b), i32x4.add(c, e)));
    storeQuants(qs + (<usize>i << (narrow ? 4 : 5)), a, b, c, e, narrow);
  }
  store<f32>(dOut, roundF16(d));
  const total = i32x4.extract_lane(sum, 0) + i32x4.extract_lane(sum, 1) + i32x4.extract_lane(sum, 2) + i32x4.extract_lane(sum, 3);
  if (sOut != 0) store<f32>(sOut, roundF16(d * <f32>total));
  if (sqOut != 0) store<i32>(sqOut, total);
}

@inline function quantizeRows(x: usize, out: usize, n: i32, nTokens: i32, withSum: bool, narrow: bool): void {
  const nb = n >> 5;
  const rowBytes = <usize>q8RowBytes(n, withSum, narrow);
  for (let t = 0; t < nTokens; t++) {
    const xr = x + <usize>t * <usize>n * 4;
    const qs = out + <usize>t * rowBytes;
    const ds = qs + (narrow ? <usize>n : <usize>n << 1);
    const ss = ds + (<usize>nb << 2);
    const sq = ss + (withSum ? <usize>nb << 2 : 0);
    for (let b = 0; b < nb; b++) {
      quantizeBlock32(xr + (<usize>b << 7), qs + (<usize>b << (narrow ? 5 : 6)), ds + (<usize>b << 2),
        withSum ? ss + (<usize>b << 2) : 0, narrow ? sq + (<usize>b << 2) : 0, narrow);
    }
  }
}

/**
 * x (nTokens, n) f32 → q8_0 rows (withSum = 0) or q8_1 rows (withSum = 1), packed as the header says
 * (narrow = 1: the i8 layout of narrowActivations).
 */
export function quantizeQ8(x: usize, out: usize, n: i32, nTokens: i32, withSum: i32, narrow: i32): void {
  if (narrow != 0) {
    if (withSum != 0) quantizeRows(x, out, n, nTokens, true, true);
    else quantizeRows(x, out, n, nTokens, false, true);
  } else if (withSum != 0) quantizeRows(x, out, n, nTokens, true, false);
  else quantizeRows(x, out, n, nTokens, false, false);
}

/** x (nTokens, n) f32 → q8_k rows: iscale = −127/max (max the signed value of largest magnitude); narrow = 1: i8 quants. */
export function quantizeQ8K(x: usize, out: usize, n: i32, nTokens: i32, narrow: i32): void {
  if (narrow != 0) quantizeQ8KRows(x, out, n, nTokens, true);
  else quantizeQ8KRows(x, out, n, nTokens, false);
}

@inline function quantizeQ8KRows(x: usize, out: usize, n: i32, nTokens: i32, narrow: bool): void {
  const nb = n >> 8;
  const rowBytes = <usize>q8kRowBytes(n, narrow);
  for (let t = 0; t < nTokens; t++) {
    const xr = x + <usize>t * <usize>n * 4;
    const qs = out + <usize>t * rowBytes;
    const ds = qs + (narrow ? <usize>n : <usize>n << 1);
    const bs = ds + (<usize>nb << 2);
    for (let b = 0; b < nb; b++) {
      quantizeBlock256(xr + (<usize>b << 10), qs + (<usize>b << (narrow ? 8 : 9)), ds + (<usize>b << 2), bs + (<usize>b << 5), narrow);
    }
  }
}

/**
 * One 256-block of q8_k as quantize_row_q8_K: vmax the first value of largest magnitude (NaN never counts),
 * iscale = −127/vmax, q = min(nearest(x·iscale), 127), d = 1/iscale, bsums per 16. The magnitude's maximum
 * comes four lanes at a time (pmax keeps the running value where the new one is NaN, as the scalar `>` does),
 * then the first lane holding it gives vmax's sign. Finite blocks round with roundToInt (|x·iscale| ≤ 127 and a
 * hair); a block with a NaN or an infinity, or so small that iscale overflows, takes nearest and the saturating
 * conversion as before (NaN quants 0).
 */
@inline function quantizeBlock256(xb: usize, qb: usize, dOut: usize, bsOut: usize, narrow: bool): void {
  let m0 = f32x4.splat(0), m1 = m0, odd = m0;
  for (let i: usize = 0; i < 1024; i += 32) {
    const u = v128.load(xb + i), w = v128.load(xb + i, 16);
    m0 = f32x4.pmax(m0, f32x4.abs(u));
    m1 = f32x4.pmax(m1, f32x4.abs(w));
    odd = v128.or(odd, v128.or(f32x4.ne(u, u), f32x4.ne(w, w)));
  }
  const m = f32x4.pmax(m0, m1);
  const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  if (amax == 0) {
    memory.fill(qb, 0, narrow ? 256 : 512);
    store<f32>(dOut, 0);
    memory.fill(bsOut, 0, 32);
    return;
  }
  const am = f32x4.splat(amax);
  let vmax: f32 = amax;
  for (let i: usize = 0; i < 1024; i += 16) {
    const v = v128.load(xb + i), hit = i32x4.bitmask(f32x4.eq(f32x4.abs(v), am));
    if (hit != 0) {
      vmax = load<f32>(xb + i + (<usize>ctz(hit) << 2));
      break;
    }
  }
  const iscale: f32 = <f32>-127 / vmax;
  const is = f32x4.splat(iscale);
  // the rounding chosen once per block, so each loop is built with its own (exact a constant after inlining)
  if (amax != Infinity && isFinite(iscale) && !v128.any_true(odd)) q8kGroups(xb, qb, bsOut, is, narrow, true); // iscale overflows when every value is tiny
  else q8kGroups(xb, qb, bsOut, is, narrow, false);
  store<f32>(dOut, <f32>1 / iscale);
}

/** The sixteen 16-element groups of a 256-block at xb: quants (q8kQuants) to qb, their sums to bsOut. */
@inline function q8kGroups(xb: usize, qb: usize, bsOut: usize, is: v128, narrow: bool, exact: bool): void {
  for (let g = 0; g < 16; g++) {
    const p = xb + (<usize>g << 6);
    const a = q8kQuants(v128.load(p), is, exact), c = q8kQuants(v128.load(p, 16), is, exact);
    const e = q8kQuants(v128.load(p, 32), is, exact), f = q8kQuants(v128.load(p, 48), is, exact);
    storeQuants(qb + (<usize>g << (narrow ? 4 : 5)), a, c, e, f, narrow);
    let s = i32x4.add(i32x4.add(a, c), i32x4.add(e, f));
    s = i32x4.add(s, i32x4.shuffle(s, s, 2, 3, 0, 1));
    s = i32x4.add(s, i32x4.shuffle(s, s, 1, 0, 3, 2));
    store<i16>(bsOut + (<usize>g << 1), <i16>i32x4.extract_lane(s, 0));
  }
}

/** min(nearest(x·is), 127) lane by lane: roundToInt where the products are finite and small (exact), else nearest and the saturating conversion. */
@inline function q8kQuants(x: v128, is: v128, exact: bool): v128 {
  const v = f32x4.mul(x, is);
  return i32x4.min_s(exact ? roundToInt(v) : i32x4.trunc_sat_f32x4_s(f32x4.nearest(v)), i32x4.splat(127));
}

/**
 * x (count) → each value rounded through f16 (F16 weights take f16 activations), times 2^112: the F16
 * products (matmul-float.ts) read the weights' f16 bits as f32 bits, i.e. as w·2^-112, and this factor
 * restores w·x exactly (|x| ≤ 65504 keeps x·2^112 finite; both factors are exact, so each product is the
 * same rounded f32 as w·x).
 */
export function roundRowsF16(x: usize, out: usize, count: i32): void {
  roundRowF16(x, out, count, reinterpret<f32>(0x77800000)); // 2^112
}

/** x (count) → each value rounded through bfloat16 (nearest even; NaN stays a quiet NaN). */
export function roundRowsBF16(x: usize, out: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const b = v128.load(x + (<usize>i << 2));
    const nan = i32x4.gt_s(v128.and(b, i32x4.splat(0x7fffffff)), i32x4.splat(0x7f800000));
    const even = i32x4.add(i32x4.add(b, i32x4.splat(0x7fff)), v128.and(i32x4.shr_u(b, 16), i32x4.splat(1)));
    v128.store(out + (<usize>i << 2), v128.and(v128.bitselect(v128.or(b, i32x4.splat(0x400000)), even, nan), i32x4.splat(0xffff0000)));
  }
  for (; i < count; i++) {
    const b = load<u32>(x + (<usize>i << 2));
    const r = (b & 0x7fffffff) > 0x7f800000 ? (b | 0x400000) & 0xffff0000 : (b + 0x7fff + ((b >> 16) & 1)) & 0xffff0000;
    store<u32>(out + (<usize>i << 2), r);
  }
}
