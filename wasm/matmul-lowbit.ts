/**
 * Q2_K, Q3_K and IQ4_XS products on integer dot products, in the float order of llama.cpp's x86 CPU kernels so
 * that each output equals llama.cpp's bit for bit (the low-bit types flip later 8-bit roundings on any last-bit
 * difference, which is why they used to take an exact f64 path). What llama.cpp runs on an AVX2/AVX-512 CPU:
 * - Q2_K: its weights are repacked at load (8 interleaved rows; ggml-cpu repack.cpp, gemv for one token, gemm
 *   for whole groups of four tokens, gemv again for the rest of a batch). Per output, both keep exact integer
 *   sums S = Σ sc·q·x and M = Σ m·bsum and two f32 accumulators: acc = fma(S, d_w·d_x, acc),
 *   accm = fma(M, dmin_w·d_x, accm); the output is acc − accm. gemv adds once per super-block, gemm once per
 *   128 elements, so a tile of four tokens here adds per half and a partial tile per super-block.
 * - Q3_K and IQ4_XS: ggml_vec_dot_*_q8_K (arch/x86/quants.c) keeps eight i32 lanes per super-block, lane m
 *   summing elements 4m..4m+3 of every 32 (pmaddubsw pairs, then pmaddwd with the 16- or 32-element scale),
 *   then per lane acc_m = fma(d_w·d_x, lane_m, acc_m) and at the end ((acc_4..7 + acc_0..3) folded as
 *   (l0 + l2) + (l1 + l3)). Here lanes 0..3 are the vector A (elements 0..15 of each 32), 4..7 the vector B.
 * The integers are exact whatever the instruction order, so only the lane partition and the float steps
 * above must match. Fused multiply-adds: f32x4.relaxed_madd (V8 emits vfmadd on x86 CPUs with FMA3); the
 * baseline build rounds a·b + c once in f64 and again to f32, which equals the fused result except in the
 * rare double-rounding cases (about one input in 2^29).
 * One token (decode, matmul-lowbit-decode.ts) reads the GGUF rows. Relaxed-SIMD build: weights as unsigned
 * bytes meet narrow i8 activations in the 8-bit dot (i16x8.relaxed_dot_i8x16_i7x16_s): Q2_K's fields as they
 * are, Q3_K's as its 2-bit field minus 4 where the high bit is clear (two dots, as llama.cpp), IQ4_XS's signed
 * levels as |w| with their sign moved onto the activations (llama.cpp's mul_add_epi8). Baseline build: i16
 * activation rows, products in i16 (|w·x| ≤ 127²). Several tokens (prefill): rows repacked four at a time with
 * their scales multiplied in (matmul-lowbit-quads.ts; the relaxed build's Q2_K on 8-bit dots, matmul-q2k-quads.ts),
 * in the relaxed build from wideQuadMinTokens tokens on (fewer: the row tiles of matmul-lowbit-tile.ts). Outputs do not depend on the token count or
 * the row split (threads). Block layouts: src/formats/gguf/dequant/k-quants.ts and iq4.ts.
 */

import { narrowActivations } from "./activation-rounding";
import { decodeRows, storeTables } from "./matmul-lowbit-decode";
import { TILE_SCRATCH_END, tileRows } from "./matmul-lowbit-tile";
import { lowBitQuadsOf, wideQuadMinTokens } from "./matmul-lowbit-quads";
import { q2kQuadsOf } from "./matmul-q2k-quads";

// ggml type ids (the JS side passes DTYPES[dtype].ggmlId)
const Q2_K: i32 = 10, Q3_K: i32 = 11, IQ4_XS: i32 = 23;

/**
 * Pair sums (eight i16) of sixteen weights and sixteen activations at xp. Narrow (i8 activations), by type:
 * Q2_K's weights are unsigned (u); Q3_K's are u − v with u its 2-bit field and v = 4 where its high bit is
 * clear (two 8-bit dots, as llama.cpp does); IQ4_XS's are |w| in u with the signs (0 / −1 bytes) in v moved onto
 * the activations (llama.cpp's mul_add_epi8). Wide (i16 activations): the signed weights widened in wLo/wHi.
 */
@inline export function pairs(type: i32, narrow: bool, u: v128, v: v128, wLo: v128, wHi: v128, xp: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD && narrow) {
    const x = v128.load(xp);
    if (type == Q2_K) return i16x8.relaxed_dot_i8x16_i7x16_s(x, u);
    if (type == Q3_K) return i16x8.sub(i16x8.relaxed_dot_i8x16_i7x16_s(x, u), i16x8.relaxed_dot_i8x16_i7x16_s(x, v));
    return i16x8.relaxed_dot_i8x16_i7x16_s(i8x16.sub(v128.xor(x, v), v), u); // sign of w onto x
  }
  const p0 = i16x8.mul(wLo, v128.load(xp)), p1 = i16x8.mul(wHi, v128.load(xp, 16));
  return i16x8.add(i8x16.shuffle(p0, p1, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29),
    i8x16.shuffle(p0, p1, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31));
}

/**
 * The sixteen group scales of a Q3_K super-block (6-bit, minus 32) as i16 lanes: lo = groups 0..7, hi = 8..15.
 * Scale s: low 4 bits from byte s (s < 8) or the high nibble of byte s − 8, top 2 bits from byte 8 + (s & 3)
 * at bit 2·(s >> 2).
 */
@inline export function q3Scales(p: usize, hi: bool): v128 {
  const lo8 = v128.load64_zero(p);
  const low4 = i8x16.shuffle(v128.and(lo8, i8x16.splat(15)), v128.and(i16x8.shr_u(lo8, 4), i8x16.splat(15)),
    0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  const h = load<u32>(p, 8);
  let top = i32x4.splat(h);
  top = i32x4.replace_lane(top, 1, h >> 2);
  top = i32x4.replace_lane(top, 2, h >> 4);
  top = i32x4.replace_lane(top, 3, h >> 6);
  const s = i8x16.sub(v128.or(low4, i16x8.shl(v128.and(top, i8x16.splat(3)), 4)), i8x16.splat(32));
  return hi ? i16x8.extend_high_i8x16_s(s) : i16x8.extend_low_i8x16_s(s);
}

/** IQ4_XS: the eight sub-block scales (ls − 32) as i16 lanes: low 4 bits from scales_l nibbles, top 2 from scales_h. */
@inline export function iq4Scales(wb: usize): v128 {
  const l = v128.load32_zero(wb + 4);
  const low4 = i8x16.shuffle(v128.and(l, i8x16.splat(15)), v128.and(i16x8.shr_u(l, 4), i8x16.splat(15)),
    0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); // punpcklbw; lanes 8..15 unused
  // field s of scales_h (bits 2s..2s+1) to the top of lane s by a multiply, then down to bits 0..1
  const top = i16x8.shr_u(i16x8.mul(i16x8.splat(load<u16>(wb, 2)), i16x8(1 << 14, 1 << 12, 1 << 10, 1 << 8, 1 << 6, 1 << 4, 1 << 2, 1)), 14);
  return i16x8.sub(v128.or(i16x8.extend_low_i8x16_u(low4), i16x8.shl(top, 4)), i16x8.splat(32));
}

/**
 * Bytes of scratch a thread needs (the rowScratch of a call): the decode's and the row tiles' fields (from
 * wideQuadMinTokens tokens on, the quads': wideQuadScratchBytes).
 */
export const LOWBIT_SCRATCH_BYTES: i32 = TILE_SCRATCH_END;

@inline function rowsOf(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, acc: usize): void {
  if (nTokens == 1) {
    if (type == IQ4_XS) storeTables(acc);
    decodeRows(type, narrowActivations(type) != 0, out, w, x, cols, rowStart, rowEnd, acc); // the quantizer's layout
    return;
  }
  if (ASC_FEATURE_RELAXED_SIMD && nTokens < wideQuadMinTokens(type)) { // a few tokens: kquantTiles, a row at a time
    tileRows(type, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, acc);
    return;
  }
  if (ASC_FEATURE_RELAXED_SIMD && type == Q2_K) { // on 8-bit dots (quad tiles)
    q2kQuadsOf(out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, acc);
    return;
  }
  lowBitQuadsOf(type, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, acc); // repacked quads (wide quad tiles)
}

/**
 * out (nTokens, rows) = x · wᵀ for weight rows rowStart..rowEnd of a Q2_K (ggml type 10), Q3_K (11) or IQ4_XS
 * (23) matrix; x is q8_k rows, and with several tokens tiles is their wideQuadTiles (relaxed Q2_K: kquadTiles;
 * kquantTiles below wideQuadMinTokens; else unused); acc is this thread's scratch (16-byte aligned):
 * LOWBIT_SCRATCH_BYTES, or wideQuadScratchBytes on the quads (relaxed Q2_K: q2kQuadScratchBytes).
 */
export function matmulLowBit(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, acc: usize): void {
  if (type == Q2_K) rowsOf(Q2_K, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, acc);
  else if (type == Q3_K) rowsOf(Q3_K, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, acc);
  else rowsOf(IQ4_XS, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, acc);
}
