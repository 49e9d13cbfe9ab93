/**
 * Matrix products with ggml's 256-element K-quant super-blocks (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) against q8_k
 * activation rows (activation-rounding.ts). Per super-block: integer dot products per sub-block, multiplied by
 * the sub-block's integer scale, then d_w·d_x; types with minimums subtract dmin_w·d_x·Σ min·bsum, the same
 * terms llama.cpp's vec_dot functions compute. Integer sums are exact and the scaling and sum over super-blocks
 * are done in f64, so the result is the correctly rounded value, as the reference (double sums) computes it. Block layouts: shared/docs/gguf-and-quants.md §5.4 and
 * src/formats/gguf/dequant/k-quants.ts. Entry points cover weight rows rowStart..rowEnd.
 */

import { dot16, f16ToF32, hsumI32 } from "./simd";
import { q8kRowBytes } from "./activation-rounding";

@inline function scaled(s: v128, sc: i32): v128 {
  return i32x4.mul(s, i32x4.splat(sc));
}

/** The 6-bit scale (min = false) or min of sub-block j (0..7) from the 12 packed bytes at p (Q4_K, Q5_K). */
@inline function kScale(p: usize, j: i32, min: bool): i32 {
  const o = min ? 4 : 0;
  if (j < 4) return <i32>load<u8>(p + <usize>(j + o)) & 63;
  const lowNibble = min ? <i32>load<u8>(p + <usize>(j + 4)) >> 4 : <i32>load<u8>(p + <usize>(j + 4)) & 15;
  return lowNibble | ((<i32>load<u8>(p + <usize>(j - 4 + o)) >> 6) << 4);
}

@inline function bsum(bs: usize, g: i32): i32 {
  return load<i32>(bs + (<usize>g << 2));
}

function dotQ4_K(w: usize, xq: usize, xd: usize, xbs: usize, nb: i32): f64 {
  let acc: f64 = 0;
  const m4 = i8x16.splat(15);
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * 144;
    const xb = xq + (<usize>b << 8);
    const bs = xbs + (<usize>b << 6);
    let isum = i32x4.splat(0);
    let msum = 0;
    for (let c = 0; c < 4; c++) {
      const q0 = v128.load(wb + 16 + (<usize>c << 5));
      const q1 = v128.load(wb + 32 + (<usize>c << 5));
      const xc = xb + (<usize>c << 6);
      const s1 = i32x4.add(dot16(v128.and(q0, m4), v128.load(xc)), dot16(v128.and(q1, m4), v128.load(xc, 16)));
      const s2 = i32x4.add(dot16(i8x16.shr_u(q0, 4), v128.load(xc, 32)), dot16(i8x16.shr_u(q1, 4), v128.load(xc, 48)));
      isum = i32x4.add(isum, i32x4.add(scaled(s1, kScale(wb + 4, 2 * c, false)), scaled(s2, kScale(wb + 4, 2 * c + 1, false))));
      msum += kScale(wb + 4, 2 * c, true) * (bsum(bs, 4 * c) + bsum(bs, 4 * c + 1)) +
        kScale(wb + 4, 2 * c + 1, true) * (bsum(bs, 4 * c + 2) + bsum(bs, 4 * c + 3));
    }
    const dx = <f64>load<f32>(xd + (<usize>b << 2));
    acc += dx * (<f64>f16ToF32(load<u16>(wb)) * <f64>hsumI32(isum) - <f64>f16ToF32(load<u16>(wb, 2)) * <f64>msum);
  }
  return acc;
}

function dotQ5_K(w: usize, xq: usize, xd: usize, xbs: usize, nb: i32): f64 {
  let acc: f64 = 0;
  const m4 = i8x16.splat(15), bit = i8x16.splat(16);
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * 176;
    const xb = xq + (<usize>b << 8);
    const bs = xbs + (<usize>b << 6);
    const h0 = v128.load(wb, 16), h1 = v128.load(wb, 32);
    let isum = i32x4.splat(0);
    let msum = 0;
    for (let c = 0; c < 4; c++) {
      const q0 = v128.load(wb + 48 + (<usize>c << 5));
      const q1 = v128.load(wb + 64 + (<usize>c << 5));
      const xc = xb + (<usize>c << 6);
      const sh = 2 * c;
      const lo0 = v128.or(v128.and(q0, m4), v128.and(i8x16.shl(i8x16.shr_u(h0, sh), 4), bit));
      const lo1 = v128.or(v128.and(q1, m4), v128.and(i8x16.shl(i8x16.shr_u(h1, sh), 4), bit));
      const hi0 = v128.or(i8x16.shr_u(q0, 4), v128.and(i8x16.shl(i8x16.shr_u(h0, sh + 1), 4), bit));
      const hi1 = v128.or(i8x16.shr_u(q1, 4), v128.and(i8x16.shl(i8x16.shr_u(h1, sh + 1), 4), bit));
      const s1 = i32x4.add(dot16(lo0, v128.load(xc)), dot16(lo1, v128.load(xc, 16)));
      const s2 = i32x4.add(dot16(hi0, v128.load(xc, 32)), dot16(hi1, v128.load(xc, 48)));
      isum = i32x4.add(isum, i32x4.add(scaled(s1, kScale(wb + 4, 2 * c, false)), scaled(s2, kScale(wb + 4, 2 * c + 1, false))));
      msum += kScale(wb + 4, 2 * c, true) * (bsum(bs, 4 * c) + bsum(bs, 4 * c + 1)) +
        kScale(wb + 4, 2 * c + 1, true) * (bsum(bs, 4 * c + 2) + bsum(bs, 4 * c + 3));
    }
    const dx = <f64>load<f32>(xd + (<usize>b << 2));
    acc += dx * (<f64>f16ToF32(load<u16>(wb)) * <f64>hsumI32(isum) - <f64>f16ToF32(load<u16>(wb, 2)) * <f64>msum);
  }
  return acc;
}

function dotQ6_K(w: usize, xq: usize, xd: usize, nb: i32): f64 {
  let acc: f64 = 0;
  const m4 = i8x16.splat(15), m2 = i8x16.splat(3), off = i8x16.splat(32);
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * 210;
    let isum = i32x4.splat(0);
    for (let half = 0; half < 2; half++) {
      const ql = wb + (<usize>half << 6);
      const qh = wb + 128 + (<usize>half << 5);
      const sc = wb + 192 + (<usize>half << 3);
      const xh = xq + (<usize>b << 8) + (<usize>half << 7);
      for (let k = 0; k < 2; k++) {
        const a = v128.load(ql + (<usize>k << 4));
        const c = v128.load(ql + 32 + (<usize>k << 4));
        const hb = v128.load(qh + (<usize>k << 4));
        const xk = xh + (<usize>k << 4);
        const e0 = i8x16.sub(v128.or(v128.and(a, m4), i8x16.shl(v128.and(hb, m2), 4)), off);
        const e1 = i8x16.sub(v128.or(v128.and(c, m4), i8x16.shl(v128.and(i8x16.shr_u(hb, 2), m2), 4)), off);
        const e2 = i8x16.sub(v128.or(i8x16.shr_u(a, 4), i8x16.shl(v128.and(i8x16.shr_u(hb, 4), m2), 4)), off);
        const e3 = i8x16.sub(v128.or(i8x16.shr_u(c, 4), i8x16.shl(i8x16.shr_u(hb, 6), 4)), off);
        isum = i32x4.add(isum, i32x4.add(
          i32x4.add(scaled(dot16(e0, v128.load(xk)), load<i8>(sc + <usize>k)), scaled(dot16(e1, v128.load(xk, 32)), load<i8>(sc + 2 + <usize>k))),
          i32x4.add(scaled(dot16(e2, v128.load(xk, 64)), load<i8>(sc + 4 + <usize>k)), scaled(dot16(e3, v128.load(xk, 96)), load<i8>(sc + 6 + <usize>k)))));
      }
    }
    acc += <f64>f16ToF32(load<u16>(wb, 208)) * <f64>load<f32>(xd + (<usize>b << 2)) * <f64>hsumI32(isum);
  }
  return acc;
}

function dotQ2_K(w: usize, xq: usize, xd: usize, xbs: usize, nb: i32): f64 {
  let acc: f64 = 0;
  const m2 = i8x16.splat(3);
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * 84;
    const bs = xbs + (<usize>b << 6);
    let isum = i32x4.splat(0);
    let msum = 0;
    for (let half = 0; half < 2; half++) {
      const q0 = v128.load(wb + 16 + (<usize>half << 5));
      const q1 = v128.load(wb + 32 + (<usize>half << 5));
      for (let j = 0; j < 4; j++) {
        const g = 8 * half + 2 * j; // 16-element group index within the super-block
        const xg = xq + (<usize>b << 8) + (<usize>g << 4);
        const sc0 = <i32>load<u8>(wb + <usize>g), sc1 = <i32>load<u8>(wb + <usize>g + 1);
        const s0 = dot16(v128.and(i8x16.shr_u(q0, 2 * j), m2), v128.load(xg));
        const s1 = dot16(v128.and(i8x16.shr_u(q1, 2 * j), m2), v128.load(xg, 16));
        isum = i32x4.add(isum, i32x4.add(scaled(s0, sc0 & 15), scaled(s1, sc1 & 15)));
        msum += (sc0 >> 4) * bsum(bs, g) + (sc1 >> 4) * bsum(bs, g + 1);
      }
    }
    const dx = <f64>load<f32>(xd + (<usize>b << 2));
    acc += dx * (<f64>f16ToF32(load<u16>(wb, 80)) * <f64>hsumI32(isum) - <f64>f16ToF32(load<u16>(wb, 82)) * <f64>msum);
  }
  return acc;
}

/** Q3_K's 6-bit scale of 16-group s (0..15), minus 32, from the 12 bytes at p. */
@inline function q3Scale(p: usize, s: i32): i32 {
  const low4 = s < 8 ? <i32>load<u8>(p + <usize>s) & 15 : <i32>load<u8>(p + <usize>(s - 8)) >> 4;
  const high2 = (<i32>load<u8>(p + 8 + <usize>(s & 3)) >> (2 * (s >> 2))) & 3;
  return (low4 | (high2 << 4)) - 32;
}

function dotQ3_K(w: usize, xq: usize, xd: usize, nb: i32): f64 {
  let acc: f64 = 0;
  const m2 = i8x16.splat(3), one = i8x16.splat(1);
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * 110;
    const hm0 = v128.load(wb), hm1 = v128.load(wb, 16);
    let isum = i32x4.splat(0);
    for (let half = 0; half < 2; half++) {
      const q0 = v128.load(wb + 32 + (<usize>half << 5));
      const q1 = v128.load(wb + 48 + (<usize>half << 5));
      for (let j = 0; j < 4; j++) {
        const hbit = 4 * half + j;
        const g = 8 * half + 2 * j;
        const xg = xq + (<usize>b << 8) + (<usize>g << 4);
        // q − 4 where the hmask bit is clear
        const e0 = i8x16.sub(v128.and(i8x16.shr_u(q0, 2 * j), m2), i8x16.shl(v128.xor(v128.and(i8x16.shr_u(hm0, hbit), one), one), 2));
        const e1 = i8x16.sub(v128.and(i8x16.shr_u(q1, 2 * j), m2), i8x16.shl(v128.xor(v128.and(i8x16.shr_u(hm1, hbit), one), one), 2));
        isum = i32x4.add(isum, i32x4.add(scaled(dot16(e0, v128.load(xg)), q3Scale(wb + 96, g)), scaled(dot16(e1, v128.load(xg, 16)), q3Scale(wb + 96, g + 1))));
      }
    }
    acc += <f64>f16ToF32(load<u16>(wb, 108)) * <f64>load<f32>(xd + (<usize>b << 2)) * <f64>hsumI32(isum);
  }
  return acc;
}

// ggml type ids (the JS side passes DTYPES[dtype].ggmlId)
const Q2_K: i32 = 10, Q3_K: i32 = 11, Q4_K: i32 = 12, Q5_K: i32 = 13, Q6_K: i32 = 14;

@inline function blockBytes(type: i32): usize {
  return type == Q2_K ? 84 : type == Q3_K ? 110 : type == Q4_K ? 144 : type == Q5_K ? 176 : 210;
}

/** out (nTokens, rows) = x · wᵀ for weight rows rowStart..rowEnd of a K-quant matrix; x is q8_k rows. */
export function matmulKQuant(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32): void {
  const nb = cols >> 8;
  const xRow = <usize>q8kRowBytes(cols);
  const rowBytes = <usize>nb * blockBytes(type);
  for (let r = rowStart; r < rowEnd; r++) {
    const wr = w + <usize>r * rowBytes;
    for (let t = 0; t < nTokens; t++) {
      const xq = x + <usize>t * xRow;
      const xd = xq + <usize>cols;
      const xbs = xd + (<usize>nb << 2);
      let v: f64;
      if (type == Q4_K) v = dotQ4_K(wr, xq, xd, xbs, nb);
      else if (type == Q6_K) v = dotQ6_K(wr, xq, xd, nb);
      else if (type == Q5_K) v = dotQ5_K(wr, xq, xd, xbs, nb);
      else if (type == Q2_K) v = dotQ2_K(wr, xq, xd, xbs, nb);
      else v = dotQ3_K(wr, xq, xd, nb);
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), <f32>v);
    }
  }
}
