/**
 * Q2_K, Q3_K and IQ4_XS products by the reference's own arithmetic, not by integer dot products: each weight row is
 * dequantized to f32 exactly as formats/gguf/dequant does, the activations are f32(d·q) of their q8_k rows,
 * and products are summed in f64, so results equal the ts backend's to the last bit (up to f64 summation
 * order). Why: with these low-bit types a last-bit difference in a product flips f16/8-bit roundings later in
 * the network (see the parity test's notes) far more often than with other types, and the fast integer path
 * (matmul-kquants.ts, which stays correct to 1e-8 of Σ|w·x|) loses parity with llama.cpp on some fixtures.
 * These are the "at least correct" types: slower than the integer path, most of all in decode (where each
 * dequantized weight row serves a single dot product). The dequantizers unpack sixteen quants per step with
 * the scalar code's f32 operations per element (bitwise the same rows); the f64 dot bounds prefill (about
 * 8 GFLOP/s a thread) and, with the dequantization, decode (about 4). IQ4_XS is here because it is new:
 * correct first; an integer kernel for it (its levels are signed, so the 16-bit path) is still to be written.
 */

import { f16ToF32 } from "./simd";
import { q8kRowBytes } from "./activation-rounding";

/** q8_k rows (nTokens, n) → f32 rows of d·q, the values the reference multiplies. */
export function q8kToF32(xq: usize, out: usize, n: i32, nTokens: i32): void {
  const xRow = <usize>q8kRowBytes(n, false);
  for (let t = 0; t < nTokens; t++) {
    const qs = xq + <usize>t * xRow;
    const ds = qs + (<usize>n << 1);
    const o = out + ((<usize>t * <usize>n) << 2);
    for (let i = 0; i < n; i++) {
      store<f32>(o + (<usize>i << 2), load<f32>(ds + (<usize>(i >> 8) << 2)) * <f32>load<i16>(qs + (<usize>i << 1)));
    }
  }
}

/**
 * Sixteen i8 quants q → f32 dl·q − ml at p, the same two f32 operations per element as the scalar
 * dequantizer (formats/gguf/dequant): a multiply, then a subtraction (ml = 0 for Q3_K, where x − 0 = x).
 */
@inline function store16(p: usize, q: v128, dl: f32, ml: f32): void {
  const d = f32x4.splat(dl), m = f32x4.splat(ml);
  const lo = i16x8.extend_low_i8x16_s(q), hi = i16x8.extend_high_i8x16_s(q);
  v128.store(p, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(lo))), m));
  v128.store(p, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(lo))), m), 16);
  v128.store(p, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(hi))), m), 32);
  v128.store(p, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(hi))), m), 48);
}

function dequantQ2_K(w: usize, out: usize, nb: i32): void {
  for (let b = 0; b < nb; b++) {
    const o = w + <usize>b * 84;
    const p = out + (<usize>b << 10);
    const d = f16ToF32(load<u16>(o, 80)), dmin = f16ToF32(load<u16>(o, 82));
    for (let half = 0; half < 2; half++) {
      const qs = o + 16 + (<usize>half << 5);
      for (let j = 0; j < 4; j++) {
        for (let g = 0; g < 2; g++) {
          const sc = <i32>load<u8>(o + <usize>(8 * half + 2 * j + g));
          const dl = d * <f32>(sc & 15), ml = dmin * <f32>(sc >> 4);
          // sixteen 2-bit fields at once (a 16-bit shift: the mask keeps each byte's own bits)
          const q = v128.and(i16x8.shr_u(v128.load(qs + <usize>(16 * g)), 2 * j), i8x16.splat(3));
          store16(p + (<usize>(128 * half + 32 * j + 16 * g) << 2), q, dl, ml);
        }
      }
    }
  }
}

@inline function q3Scale(p: usize, s: i32): i32 {
  const low4 = s < 8 ? <i32>load<u8>(p + <usize>s) & 15 : <i32>load<u8>(p + <usize>(s - 8)) >> 4;
  const high2 = (<i32>load<u8>(p + 8 + <usize>(s & 3)) >> (2 * (s >> 2))) & 3;
  return (low4 | (high2 << 4)) - 32;
}

function dequantQ3_K(w: usize, out: usize, nb: i32): void {
  for (let b = 0; b < nb; b++) {
    const o = w + <usize>b * 110;
    const p = out + (<usize>b << 10);
    const d = f16ToF32(load<u16>(o, 108));
    for (let half = 0; half < 2; half++) {
      const qs = o + 32 + (<usize>half << 5);
      for (let j = 0; j < 4; j++) {
        const hbit = 4 * half + j;
        for (let g = 0; g < 2; g++) { // two 16-element groups, one scale each
          const dl = d * <f32>q3Scale(o + 96, 8 * half + 2 * j + g);
          // sixteen elements at once: the 2-bit field, minus 4 where the high bit is clear
          const lo = v128.and(i16x8.shr_u(v128.load(qs + <usize>(16 * g)), 2 * j), i8x16.splat(3));
          const hb = v128.and(i16x8.shr_u(v128.load(o + <usize>(16 * g)), hbit), i8x16.splat(1));
          const q = i8x16.sub(lo, i8x16.sub(i8x16.splat(4), i8x16.shl(hb, 2)));
          store16(p + (<usize>(128 * half + 32 * j + 16 * g) << 2), q, dl, 0);
        }
      }
    }
  }
}

/** ggml's kvalues_iq4nl as sixteen i8 lanes: IQ4 nibbles index it with one swizzle. */
@inline function iq4Levels(): v128 {
  return i8x16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
}

/**
 * IQ4_XS (136-byte super-blocks: d, scales_h, scales_l[4], qs[128]): per 32-element sub-block b, dl = d·(ls − 32)
 * and the levels its nibbles select (low nibbles elements 0..15, high 16..31), dl·level as one f32 product each
 * (store16 with no offset), as the scalar dequantizer rounds them.
 */
function dequantIQ4_XS(w: usize, out: usize, nb: i32): void {
  const levels = iq4Levels();
  for (let b = 0; b < nb; b++) {
    const o = w + <usize>b * 136;
    const p = out + (<usize>b << 10);
    const d = f16ToF32(load<u16>(o));
    const scalesH = <i32>load<u16>(o, 2);
    for (let s = 0; s < 8; s++) {
      const ls = ((<i32>load<u8>(o + 4 + <usize>(s >> 1)) >> (4 * (s & 1))) & 15) | (((scalesH >> (2 * s)) & 3) << 4);
      const dl = d * <f32>(ls - 32);
      const q = v128.load(o + 8 + <usize>(16 * s));
      store16(p + (<usize>(32 * s) << 2), i8x16.swizzle(levels, v128.and(q, i8x16.splat(15))), dl, 0);
      store16(p + (<usize>(32 * s + 16) << 2), i8x16.swizzle(levels, i8x16.shr_u(q, 4)), dl, 0);
    }
  }
}

/** Σ w[i]·x[i] with f32 inputs, products and sums in f64. */
function dotF64(w: usize, x: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  for (let i = 0; i < n; i += 4) {
    const wv = v128.load(w + (<usize>i << 2)), xv = v128.load(x + (<usize>i << 2));
    a0 = f64x2.add(a0, f64x2.mul(f64x2.promote_low_f32x4(wv), f64x2.promote_low_f32x4(xv)));
    a1 = f64x2.add(a1, f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(wv, wv, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(xv, xv, 2, 3, 0, 1))));
  }
  const s = f64x2.add(a0, a1);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

const Q2_K: i32 = 10, Q3_K: i32 = 11, IQ4_XS: i32 = 23;

/**
 * out (nTokens, rows) = x · wᵀ for rows rowStart..rowEnd of a Q2_K (type 10), Q3_K (11) or IQ4_XS (23) matrix; x holds the
 * f32 rows from q8kToF32; rowScratch has room for one dequantized row (cols floats, per thread).
 */
export function matmulKQuantExact(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32,
  rowStart: i32, rowEnd: i32, rowScratch: usize): void {
  const nb = cols >> 8;
  const rowBytes = <usize>nb * (type == Q2_K ? 84 : type == Q3_K ? 110 : 136);
  for (let r = rowStart; r < rowEnd; r++) {
    if (type == Q2_K) dequantQ2_K(w + <usize>r * rowBytes, rowScratch, nb);
    else if (type == Q3_K) dequantQ3_K(w + <usize>r * rowBytes, rowScratch, nb);
    else dequantIQ4_XS(w + <usize>r * rowBytes, rowScratch, nb);
    for (let t = 0; t < nTokens; t++) {
      const v = dotF64(rowScratch, x + ((<usize>t * <usize>cols) << 2), cols);
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), <f32>v);
    }
  }
}
