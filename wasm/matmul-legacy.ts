/**
 * Matrix products with ggml's 32-element legacy blocks, computed on the packed blocks: each weight block's
 * integer quants are unpacked in registers to four i16x8 vectors and dotted (i32x4.dot_i16x8_s) with the
 * activation block's quants (q8_0 rows for Q4_0/Q5_0/Q8_0, q8_1 rows for Q4_1/Q5_1, widened to i16: see
 * activation-rounding.ts). Each block's integer sum is exact; like llama.cpp, it is scaled by the f32 product
 * d_w·d_x and summed in f32 lanes (one f32x4 accumulator per output), blocks with a minimum adding Σ m_w·s_x.
 * Prefill (several tokens): a tile of four tokens shares each unpacked weight block, and rows are walked in
 * chunks so a chunk's weights stay in cache while every token tile passes over it. Every output is computed
 * by the same sequence of operations whatever the tile, so prefill and decode give identical values.
 * Entry points cover weight rows rowStart..rowEnd so threads can split them. No dequantized copies.
 */

import { f16ToF32, f16x4ToF32Fast, hsumF32 } from "./simd";
import { q8RowBytes } from "./activation-rounding";

// ggml type ids select the block format (the JS side passes DTYPES[dtype].ggmlId).
const Q4_0: i32 = 2, Q4_1: i32 = 3, Q5_0: i32 = 6, Q5_1: i32 = 7, Q8_0: i32 = 8;
/** Weight rows per chunk in prefill: each chunk is multiplied by every token tile before the next. */
const ROW_CHUNK: i32 = 16;

@inline function blockBytes(type: i32): usize {
  return type == Q4_0 ? 18 : type == Q4_1 ? 20 : type == Q5_0 ? 22 : type == Q5_1 ? 24 : 34;
}

/** Bits 8k..8k+7 of qh as eight i16 lanes: 16 where the bit is set, else 0. */
@inline function high16(qh: u32, k: i32): v128 {
  const bits = i16x8(1, 2, 4, 8, 16, 32, 64, 128);
  const v = v128.and(i16x8.splat(<i32>(qh >> (8 * k))), bits);
  return v128.and(i16x8.eq(v, bits), i16x8.splat(16));
}

/** Elements 8k..8k+7 (k = 0..3) of the block at wb as i16x8 integer quants (offset removed). */
@inline function unpack(type: i32, wb: usize, k: i32): v128 {
  if (type == Q8_0) return v128.load8x8_s(wb + 2 + <usize>(8 * k));
  const qsAt: usize = type == Q4_0 ? 2 : type == Q4_1 ? 4 : type == Q5_0 ? 6 : 8;
  const q = v128.load8x8_u(wb + qsAt + <usize>(8 * (k & 1)));
  let v = k < 2 ? v128.and(q, i16x8.splat(15)) : i16x8.shr_u(q, 4);
  if (type == Q4_0) return i16x8.sub(v, i16x8.splat(8));
  if (type == Q4_1) return v;
  v = v128.or(v, high16(load<u32>(wb + (type == Q5_0 ? 2 : 4)), k));
  return type == Q5_0 ? i16x8.sub(v, i16x8.splat(16)) : v;
}

/** Σ w·x of one block (weights unpacked in w0..w3, activation quants at xb) as four i32 partial sums. */
@inline function dot32(w0: v128, w1: v128, w2: v128, w3: v128, xb: usize): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(xb)), i32x4.dot_i16x8_s(w1, v128.load(xb, 16))),
    i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(xb, 32)), i32x4.dot_i16x8_s(w3, v128.load(xb, 48))));
}

/** acc + s·d: one block's exact integer sum scaled by d = d_w·d_x (f32). */
@inline function addScaled(acc: v128, s: v128, d: f32): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d)));
}

/** Four f16 fields, `stride` bytes apart from p, as f32x4. */
@inline function f16Fields4(p: usize, stride: usize): v128 {
  let h = i32x4.splat(<i32>load<u16>(p));
  h = i32x4.replace_lane(h, 1, <i32>load<u16>(p + stride));
  h = i32x4.replace_lane(h, 2, <i32>load<u16>(p + 2 * stride));
  h = i32x4.replace_lane(h, 3, <i32>load<u16>(p + 3 * stride));
  return f16x4ToF32Fast(h);
}

/** Σ_b m_w[b]·s_x[b] for a type with a block minimum (f16 at byte 2 of each block): four lanes, then a tail. */
@inline function minTerm(w: usize, bb: usize, xs: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) acc = f32x4.add(acc, f32x4.mul(f16Fields4(w + <usize>b * bb + 2, bb), v128.load(xs + (<usize>b << 2))));
  let s = hsumF32(acc);
  for (; b < nb; b++) s += f16ToF32(load<u16>(w + <usize>b * bb + 2)) * load<f32>(xs + (<usize>b << 2));
  return s;
}

/** One output: weight row w · activation row xq (its scales at xd, s values at xs). */
@inline function dotRow(type: i32, w: usize, xq: usize, xd: usize, xs: usize, nb: i32): f32 {
  const bb = blockBytes(type);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * bb;
    const s = dot32(unpack(type, wb, 0), unpack(type, wb, 1), unpack(type, wb, 2), unpack(type, wb, 3), xq + (<usize>b << 6));
    acc = addScaled(acc, s, f16ToF32(load<u16>(wb)) * load<f32>(xd + (<usize>b << 2)));
  }
  let v = hsumF32(acc);
  if (type == Q4_1 || type == Q5_1) v += minTerm(w, bb, xs, nb);
  return v;
}

/**
 * Four outputs: weight row w · four consecutive activation rows (x, xRow bytes apart); each unpacked weight
 * block serves the four tokens. Stores out[(t + j)·rows + r] for j = 0..3.
 */
@inline function tile4(type: i32, out: usize, w: usize, x: usize, xRow: usize, cols: i32, rows: i32, r: i32, t: i32): void {
  const bb = blockBytes(type);
  const nb = cols >> 5;
  const sOff = <usize>cols << 1; // scales follow the quants
  const x0 = x, x1 = x + xRow, x2 = x + 2 * xRow, x3 = x + 3 * xRow;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * bb;
    const w0 = unpack(type, wb, 0), w1 = unpack(type, wb, 1), w2 = unpack(type, wb, 2), w3 = unpack(type, wb, 3);
    const dw = f16ToF32(load<u16>(wb));
    const qo = <usize>b << 6, so = sOff + (<usize>b << 2);
    a0 = addScaled(a0, dot32(w0, w1, w2, w3, x0 + qo), dw * load<f32>(x0 + so));
    a1 = addScaled(a1, dot32(w0, w1, w2, w3, x1 + qo), dw * load<f32>(x1 + so));
    a2 = addScaled(a2, dot32(w0, w1, w2, w3, x2 + qo), dw * load<f32>(x2 + so));
    a3 = addScaled(a3, dot32(w0, w1, w2, w3, x3 + qo), dw * load<f32>(x3 + so));
  }
  let v0 = hsumF32(a0), v1 = hsumF32(a1), v2 = hsumF32(a2), v3 = hsumF32(a3);
  if (type == Q4_1 || type == Q5_1) {
    const sAt = sOff + (<usize>nb << 2);
    v0 += minTerm(w, bb, x0 + sAt, nb);
    v1 += minTerm(w, bb, x1 + sAt, nb);
    v2 += minTerm(w, bb, x2 + sAt, nb);
    v3 += minTerm(w, bb, x3 + sAt, nb);
  }
  const o = out + ((<usize>t * <usize>rows + <usize>r) << 2);
  const step = <usize>rows << 2;
  store<f32>(o, v0);
  store<f32>(o + step, v1);
  store<f32>(o + 2 * step, v2);
  store<f32>(o + 3 * step, v3);
}

@inline function rowsOf(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32): void {
  const nb = cols >> 5;
  const xRow = <usize>q8RowBytes(cols, type == Q4_1 || type == Q5_1);
  const rowBytes = <usize>nb * blockBytes(type);
  const tiled = nTokens & ~3;
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd);
    for (let t = 0; t < tiled; t += 4) {
      for (let r = r0; r < r1; r++) tile4(type, out, w + <usize>r * rowBytes, x + <usize>t * xRow, xRow, cols, rows, r, t);
    }
    for (let t = tiled; t < nTokens; t++) {
      const xq = x + <usize>t * xRow;
      const xd = xq + (<usize>cols << 1);
      for (let r = r0; r < r1; r++) {
        const v = dotRow(type, w + <usize>r * rowBytes, xq, xd, xd + (<usize>nb << 2), nb);
        store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), v);
      }
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
