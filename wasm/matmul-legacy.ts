/**
 * Matrix products with ggml's 32-element legacy blocks, computed on the packed blocks: each weight block's
 * integer quants are unpacked in registers and dotted with the activation block's 8-bit quants (q8_0 rows for
 * Q4_0/Q5_0/Q8_0, q8_1 rows for Q4_1/Q5_1; see activation-rounding.ts). Each block's integer sum is exact;
 * it is scaled by d_w·d_x (exact in f64) and summed in f64, blocks with a minimum adding m_w·s_x, so the result
 * is the correctly rounded value of llama.cpp's formula, as the reference computes it in double.
 * Four blocks at a time: their four i32x4 partial sums are reduced together by a 4×4 transpose-add.
 * Entry points cover weight rows rowStart..rowEnd so threads can split them. No dequantized copies.
 */

import { dot16, f16ToF32, f16x4ToF32Fast } from "./simd";
import { q8RowBytes } from "./activation-rounding";

/** Bytes 0..1 of qh (upper: 2..3) spread to sixteen byte lanes: 16 where the bit is set, else 0. */
@inline function highBits(qh: u32, upper: bool): v128 {
  const v = i32x4.splat(qh);
  const sel = upper ? i8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3) : i8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const bits = v128.and(i8x16.swizzle(v, sel), i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128));
  return v128.and(i8x16.ne(bits, i8x16.splat(0)), i8x16.splat(16));
}

// ggml type ids select the block format (the JS side passes DTYPES[dtype].ggmlId).
const Q4_0: i32 = 2, Q4_1: i32 = 3, Q5_0: i32 = 6, Q5_1: i32 = 7, Q8_0: i32 = 8;

@inline function blockBytes(type: i32): usize {
  return type == Q4_0 ? 18 : type == Q4_1 ? 20 : type == Q5_0 ? 22 : type == Q5_1 ? 24 : 34;
}

/** Σ w·x of one block as four i32 partial sums; wb is the block, xb its 32 activation quants. */
@inline function blockDot(type: i32, wb: usize, xb: usize): v128 {
  const m4 = i8x16.splat(15);
  let lo: v128, hi: v128;
  if (type == Q8_0) {
    lo = v128.load(wb, 2);
    hi = v128.load(wb, 18);
  } else if (type == Q4_0) {
    const q = v128.load(wb, 2);
    lo = i8x16.sub(v128.and(q, m4), i8x16.splat(8));
    hi = i8x16.sub(i8x16.shr_u(q, 4), i8x16.splat(8));
  } else if (type == Q4_1) {
    const q = v128.load(wb, 4);
    lo = v128.and(q, m4);
    hi = i8x16.shr_u(q, 4);
  } else if (type == Q5_0) {
    const qh = load<u32>(wb, 2);
    const q = v128.load(wb, 6);
    lo = i8x16.sub(v128.or(v128.and(q, m4), highBits(qh, false)), i8x16.splat(16));
    hi = i8x16.sub(v128.or(i8x16.shr_u(q, 4), highBits(qh, true)), i8x16.splat(16));
  } else { // Q5_1
    const qh = load<u32>(wb, 4);
    const q = v128.load(wb, 8);
    lo = v128.or(v128.and(q, m4), highBits(qh, false));
    hi = v128.or(i8x16.shr_u(q, 4), highBits(qh, true));
  }
  return i32x4.add(dot16(lo, v128.load(xb)), dot16(hi, v128.load(xb, 16)));
}

/** [Σs0, Σs1, Σs2, Σs3]: the four horizontal sums at once. */
@inline function reduce4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const a = i32x4.add(i32x4.shuffle(s0, s1, 0, 1, 4, 5), i32x4.shuffle(s0, s1, 2, 3, 6, 7));
  const b = i32x4.add(i32x4.shuffle(s2, s3, 0, 1, 4, 5), i32x4.shuffle(s2, s3, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
}

/** Σ over four blocks of S[i]·d[i] (S i32x4, d f32x4), in f64 (both products exact), as an f64x2 pair sum. */
@inline function scaled4(s: v128, d: v128): v128 {
  const lo = f64x2.mul(f64x2.convert_low_i32x4_s(s), f64x2.promote_low_f32x4(d));
  const hi = f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(s, s, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(d, d, 2, 3, 0, 1)));
  return f64x2.add(lo, hi);
}

/** Four f16 fields, `stride` bytes apart from p, as f32x4. */
@inline function f16Fields4(p: usize, stride: usize): v128 {
  let h = i32x4.splat(<i32>load<u16>(p));
  h = i32x4.replace_lane(h, 1, <i32>load<u16>(p + stride));
  h = i32x4.replace_lane(h, 2, <i32>load<u16>(p + 2 * stride));
  h = i32x4.replace_lane(h, 3, <i32>load<u16>(p + 3 * stride));
  return f16x4ToF32Fast(h);
}

/** One weight row · one activation row. xq: quants, xd: f32 scales, xs: f32 s values (types with a minimum). */
@inline function dotRow(type: i32, w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f64 {
  const bb = blockBytes(type);
  const withMin = type == Q4_1 || type == Q5_1;
  let acc = f64x2.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const wb = w + <usize>b * bb;
    const xb = xq + (<usize>b << 5);
    const s = reduce4(blockDot(type, wb, xb), blockDot(type, wb + bb, xb + 32), blockDot(type, wb + 2 * bb, xb + 64), blockDot(type, wb + 3 * bb, xb + 96));
    acc = f64x2.add(acc, scaled4(s, f32x4.mul(f16Fields4(wb, bb), v128.load(xd + (<usize>b << 2)))));
    if (withMin) acc = f64x2.add(acc, scaled4(i32x4.splat(1), f32x4.mul(f16Fields4(wb + 2, bb), v128.load(xs + (<usize>b << 2)))));
  }
  let sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; b < nb; b++) {
    const wb = w + <usize>b * bb;
    const s = blockDot(type, wb, xq + (<usize>b << 5));
    const total = i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
    sum += <f64>(f16ToF32(load<u16>(wb)) * load<f32>(xd + (<usize>b << 2))) * <f64>total;
    if (withMin) sum += <f64>(f16ToF32(load<u16>(wb, 2)) * load<f32>(xs + (<usize>b << 2)));
  }
  return sum;
}

@inline function rowsOf(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32): void {
  const nb = cols >> 5;
  const xRow = <usize>q8RowBytes(cols, type == Q4_1 || type == Q5_1);
  const rowBytes = <usize>nb * blockBytes(type);
  for (let r = rowStart; r < rowEnd; r++) {
    const wr = w + <usize>r * rowBytes;
    for (let t = 0; t < nTokens; t++) {
      const xq = x + <usize>t * xRow;
      const xd = xq + <usize>cols;
      const v = dotRow(type, wr, xq, xd, xd + (<usize>nb << 2), nb);
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), <f32>v);
    }
  }
}

/**
 * out (nTokens, rows) = x · wᵀ for weight rows rowStart..rowEnd of a legacy-quant matrix (ggml type id
 * `type`); x is the packed q8_0 (or, for Q4_1/Q5_1, q8_1) activation rows from quantizeQ8.
 * One specialised loop per type (the type tests inside are resolved at compile time after inlining).
 */
export function matmulLegacy(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32): void {
  if (type == Q4_0) rowsOf(Q4_0, out, w, x, rows, cols, nTokens, rowStart, rowEnd);
  else if (type == Q8_0) rowsOf(Q8_0, out, w, x, rows, cols, nTokens, rowStart, rowEnd);
  else if (type == Q5_0) rowsOf(Q5_0, out, w, x, rows, cols, nTokens, rowStart, rowEnd);
  else if (type == Q4_1) rowsOf(Q4_1, out, w, x, rows, cols, nTokens, rowStart, rowEnd);
  else rowsOf(Q5_1, out, w, x, rows, cols, nTokens, rowStart, rowEnd);
}
