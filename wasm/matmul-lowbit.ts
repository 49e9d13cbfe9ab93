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
 * Relaxed-SIMD build: weights as unsigned bytes meet narrow i8 activations in the 8-bit dot
 * (i16x8.relaxed_dot_i8x16_i7x16_s): Q2_K's fields as they are, Q3_K's as its 2-bit field minus 4 where the
 * high bit is clear (two dots, as llama.cpp), IQ4_XS's signed levels as |w| with their sign moved onto the
 * activations (llama.cpp's mul_add_epi8). Baseline build: i16 activation
 * rows, products in i16 (|w·x| ≤ 127²). Prefill: tiles of four tokens (activation-tiles.ts kquantTiles)
 * share each unpacked weight vector; rows are walked in chunks. The relaxed build's tiles and every build's one
 * token (decode) run the same steps written out: matmul-lowbit-tile.ts and matmul-lowbit-decode.ts. The relaxed build's
 * prefill runs on rows repacked four at a time with their scales multiplied in (matmul-lowbit-quads.ts). Outputs do not depend on the token count or
 * the row split (threads). Block layouts: src/formats/gguf/dequant/k-quants.ts and iq4.ts.
 */

import { f16Lookup } from "./f16-table";
import { fma4 } from "./ggml-math";
import { hsumAllI32, minSum, reduce4I32, storeLanes } from "./simd";
import { narrowActivations, q8kRowBytes } from "./activation-rounding";
import { KTILE_BSUMS, KTILE_BYTES, KTILE_D, KTILE_GROUP } from "./activation-tiles";
import { decodeRows, storeTables } from "./matmul-lowbit-decode";
import { TILE_SCRATCH_END, tileSuper } from "./matmul-lowbit-tile";
import { lowBitQuadsOf } from "./matmul-lowbit-quads";

// ggml type ids (the JS side passes DTYPES[dtype].ggmlId)
const Q2_K: i32 = 10, Q3_K: i32 = 11, IQ4_XS: i32 = 23;
const ROW_CHUNK: i32 = 16;

@inline function blockBytes(type: i32): usize {
  return type == Q2_K ? 84 : type == Q3_K ? 110 : 136;
}

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

/** IQ4_XS group g (elements 16g..16g+15) as sixteen signed i8 weights: sub-block g >> 1, whose low nibbles are its
 * first sixteen elements and high nibbles the rest, selecting ggml's kvalues_iq4nl levels. */
@inline function groupWeights(type: i32, wb: usize, g: i32): v128 {
  const raw = v128.load(wb + 8 + (<usize>(g >> 1) << 4));
  const nib = v128.and((g & 1) == 0 ? raw : i16x8.shr_u(raw, 4), i8x16.splat(15));
  return i8x16.swizzle(i8x16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113), nib);
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

/** Lane 0 (an i16 scale) of v in every lane. */
@inline function splat0(v: v128): v128 {
  return i8x16.shuffle(v, v, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1);
}

/** v's i16 lanes moved one down (lane 0 leaves, lane 7 takes the old lane 0). */
@inline function rotate(v: v128): v128 {
  return i8x16.shuffle(v, v, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1);
}

/**
 * Q2_K: acc = fma(S, d_w·d_x, acc) and accm = fma(M, dmin_w·d_x, accm) per token lane, S from the sums a0..a3
 * and M = Σ m·bsum over the groups `part` names: 0 the first 128 elements, 2 the last 128, 1 all 256.
 */
@inline export function q2Accumulate(T: i32, wb: usize, a0: v128, a1: v128, a2: v128, a3: v128, bs0: usize, bs1: usize, bs2: usize, bs3: usize,
  part: i32, dxv: v128, acc: usize): void {
  const mins = i16x8.shr_u(v128.and(v128.load(wb), i8x16.splat(-16)), 4); // the high nibbles (mins), still bytes
  const mLo = part == 2 ? i16x8.splat(0) : i16x8.extend_low_i8x16_u(mins), mHi = part == 0 ? i16x8.splat(0) : i16x8.extend_high_i8x16_u(mins);
  const m0 = minSum(mLo, mHi, bs0);
  const S = T == 4 ? reduce4I32(a0, a1, a2, a3) : hsumAllI32(a0);
  const M = T == 4 ? reduce4I32(m0, minSum(mLo, mHi, bs1), minSum(mLo, mHi, bs2), minSum(mLo, mHi, bs3)) : hsumAllI32(m0);
  const dd = f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb, 80))), dxv), dm = f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb, 82))), dxv);
  v128.store(acc, fma4(f32x4.convert_i32x4_s(S), dd, v128.load(acc)));
  v128.store(acc, fma4(f32x4.convert_i32x4_s(M), dm, v128.load(acc, 16)), 16);
}

/** Offset in acc of the 32 bytes orderTokens stores to (after the 128 of lane accumulators). */
const FENCE: usize = 128;

/**
 * IQ4_XS: one token's sums stored to acc + FENCE between the tokens of superBlock, so V8 loads each token's
 * activations after the previous token's sums instead of all first and spilling them (as matmul-kquants.ts);
 * measured on the relaxed build's tiles (now matmul-lowbit-tile.ts): IQ4_XS prefill 34–40 → 37–44 GFLOP/s;
 * Q2_K ran slower with it (52–54 → 43–48), Q3_K the same. superBlock now runs the baseline build's prefill.
 */
@inline function orderTokens(type: i32, acc: usize, a: v128, b: v128): void {
  if (type != IQ4_XS) return;
  v128.store(acc + FENCE, a);
  v128.store(acc + FENCE, b, 16);
}

/**
 * One super-block (weights at wb) for T = 1 or 4 tokens: group g of token t's activation quants at x_t + g·gs,
 * d_x of the four in dxv, their per-16 sums at bs_t (Q2_K). Adds into the f32 accumulators at acc
 * (Q2_K: acc, accm as token lanes; else per token t the lane vectors A at acc + 32t, B at acc + 32t + 16).
 */
@inline function superBlock(type: i32, T: i32, narrow: bool, wb: usize, x0: usize, x1: usize, x2: usize, x3: usize,
  gs: usize, dxv: v128, bs0: usize, bs1: usize, bs2: usize, bs3: usize, acc: usize, halves: bool): void {
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  let sc = type == Q2_K ? i16x8.extend_low_i8x16_u(v128.and(v128.load(wb), i8x16.splat(15)))
    : type == Q3_K ? q3Scales(wb + 96, false) : iq4Scales(wb);
  // Q2_K/Q3_K: the quant bytes of the current half (parts A and B), shifted right by 2 each step so that
  // bits 0..1 of each byte are the step's field; Q3_K's hmask shifted by 1 each step so that bit 0 is its bit
  // (constant shifts: V8 turns a shift by a variable into four instructions)
  let qA = i32x4.splat(0), qB = qA, hA = qA, hB = qA;
  if (type == Q3_K) { hA = v128.load(wb); hB = v128.load(wb, 16); }
  for (let p = 0; p < 8; p++) { // groups 2p (elements 0..15 of a 32: lanes A) and 2p + 1 (16..31: lanes B)
    if (type != IQ4_XS && (p & 3) == 0) {
      const qs = wb + (type == Q2_K ? 16 : 32) + (<usize>(p >> 2) << 5);
      qA = v128.load(qs); qB = v128.load(qs, 16);
    }
    if (type != IQ4_XS && p == 4) {
      if (type == Q2_K && halves) { // llama.cpp's gemm: the first 128 elements' sums go in on their own
        q2Accumulate(T, wb, i32x4.add(a0, b0), i32x4.add(a1, b1), i32x4.add(a2, b2), i32x4.add(a3, b3), bs0, bs1, bs2, bs3, 0, dxv, acc);
        a0 = i32x4.splat(0); a1 = a0; a2 = a0; a3 = a0; b0 = a0; b1 = a0; b2 = a0; b3 = a0;
      }
      sc = type == Q2_K ? i16x8.extend_high_i8x16_u(v128.and(v128.load(wb), i8x16.splat(15))) : q3Scales(wb + 96, true);
    }
    const sA = splat0(sc), sB = type == IQ4_XS ? sA : i8x16.shuffle(sc, sc, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    sc = type == IQ4_XS ? rotate(sc) : i8x16.shuffle(sc, sc, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3);
    const xa = <usize>(2 * p) * gs, xb = xa + gs;
    // u, v: the narrow operands of pairs(); w: the signed weights (the wide path's)
    const m3 = i8x16.splat(3), one = i8x16.splat(1), zero = i8x16.splat(0), four = i8x16.splat(4);
    const uA0 = type == IQ4_XS ? groupWeights(type, wb, 2 * p) : v128.and(qA, m3);
    const uB0 = type == IQ4_XS ? groupWeights(type, wb, 2 * p + 1) : v128.and(qB, m3);
    // Q3_K: 4 where the high bit is clear
    const vA0 = type == Q3_K ? v128.and(i8x16.eq(v128.and(hA, one), zero), four) : uA0;
    const vB0 = type == Q3_K ? v128.and(i8x16.eq(v128.and(hB, one), zero), four) : uB0;
    if (type != IQ4_XS) { qA = i16x8.shr_u(qA, 2); qB = i16x8.shr_u(qB, 2); }
    if (type == Q3_K) { hA = i16x8.shr_u(hA, 1); hB = i16x8.shr_u(hB, 1); }
    const wA = type == Q3_K ? i8x16.sub(uA0, vA0) : uA0, wB = type == Q3_K ? i8x16.sub(uB0, vB0) : uB0;
    const absA = type == IQ4_XS ? i8x16.abs(wA) : uA0, sgnA = type == IQ4_XS ? i8x16.lt_s(wA, i8x16.splat(0)) : vA0;
    const absB = type == IQ4_XS ? i8x16.abs(wB) : uB0, sgnB = type == IQ4_XS ? i8x16.lt_s(wB, i8x16.splat(0)) : vB0;
    const loA = i16x8.extend_low_i8x16_s(wA), hiA = i16x8.extend_high_i8x16_s(wA);
    const loB = i16x8.extend_low_i8x16_s(wB), hiB = i16x8.extend_high_i8x16_s(wB);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(pairs(type, narrow, absA, sgnA, loA, hiA, x0 + xa), sA));
    b0 = i32x4.add(b0, i32x4.dot_i16x8_s(pairs(type, narrow, absB, sgnB, loB, hiB, x0 + xb), sB));
    if (T == 4) {
      orderTokens(type, acc, a0, b0);
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(pairs(type, narrow, absA, sgnA, loA, hiA, x1 + xa), sA));
      b1 = i32x4.add(b1, i32x4.dot_i16x8_s(pairs(type, narrow, absB, sgnB, loB, hiB, x1 + xb), sB));
      orderTokens(type, acc, a1, b1);
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(pairs(type, narrow, absA, sgnA, loA, hiA, x2 + xa), sA));
      b2 = i32x4.add(b2, i32x4.dot_i16x8_s(pairs(type, narrow, absB, sgnB, loB, hiB, x2 + xb), sB));
      orderTokens(type, acc, a2, b2);
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(pairs(type, narrow, absA, sgnA, loA, hiA, x3 + xa), sA));
      b3 = i32x4.add(b3, i32x4.dot_i16x8_s(pairs(type, narrow, absB, sgnB, loB, hiB, x3 + xb), sB));
    }
  }
  if (type == Q2_K) {
    q2Accumulate(T, wb, i32x4.add(a0, b0), i32x4.add(a1, b1), i32x4.add(a2, b2), i32x4.add(a3, b3), bs0, bs1, bs2, bs3, halves ? 2 : 1, dxv, acc);
    return;
  }
  // the eight lanes: A = elements 4m..4m+3 (m = 0..3) of each 32, from the even groups; B from the odd ones
  const dv = f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb + (type == Q3_K ? 108 : 0)))), dxv);
  laneFma(acc, a0, b0, i32x4.shuffle(dv, dv, 0, 0, 0, 0));
  if (T == 4) {
    laneFma(acc + 32, a1, b1, i32x4.shuffle(dv, dv, 1, 1, 1, 1));
    laneFma(acc + 64, a2, b2, i32x4.shuffle(dv, dv, 2, 2, 2, 2));
    laneFma(acc + 96, a3, b3, i32x4.shuffle(dv, dv, 3, 3, 3, 3));
  }
}

/** One token's eight lane accumulators at p: A = fma(a, d, A), B = fma(b, d, B). */
@inline export function laneFma(p: usize, a: v128, b: v128, d: v128): void {
  v128.store(p, fma4(f32x4.convert_i32x4_s(a), d, v128.load(p)));
  v128.store(p, fma4(f32x4.convert_i32x4_s(b), d, v128.load(p, 16)), 16);
}

/**
 * The outputs of T tokens from the accumulators at acc, as token lanes: Q2_K acc − accm; else llama.cpp's
 * hsum_float_8 of each token's lanes: R = B + A, then (R0 + R2) + (R1 + R3).
 */
@inline function finish(type: i32, acc: usize): v128 {
  if (type == Q2_K) return f32x4.sub(v128.load(acc), v128.load(acc, 16));
  const r0 = f32x4.add(v128.load(acc, 16), v128.load(acc)), r1 = f32x4.add(v128.load(acc, 48), v128.load(acc, 32));
  const r2 = f32x4.add(v128.load(acc, 80), v128.load(acc, 64)), r3 = f32x4.add(v128.load(acc, 112), v128.load(acc, 96));
  const u01 = f32x4.add(i32x4.shuffle(r0, r1, 0, 1, 4, 5), i32x4.shuffle(r0, r1, 2, 3, 6, 7)); // [r0₀+r0₂, r0₁+r0₃, r1₀+r1₂, r1₁+r1₃]
  const u23 = f32x4.add(i32x4.shuffle(r2, r3, 0, 1, 4, 5), i32x4.shuffle(r2, r3, 2, 3, 6, 7));
  return f32x4.add(i32x4.shuffle(u01, u23, 0, 2, 4, 6), i32x4.shuffle(u01, u23, 1, 3, 5, 7));
}

/**
 * Bytes of scratch a thread needs (the rowScratch of a call): the lane accumulators, 32 for superBlock's stores,
 * the decode's and tiles' fields (matmul-lowbit-decode.ts, matmul-lowbit-tile.ts).
 */
export const LOWBIT_SCRATCH_BYTES: i32 = TILE_SCRATCH_END;

/**
 * Outputs for weight row w and T tokens (T = 1 or 4) from q8_k rows at x, xRow bytes apart (narrow: i8
 * quants), one per lane; stores out[(t + j)·rows + r] for the first n lanes.
 */
@inline function rowOut(type: i32, T: i32, narrow: bool, out: usize, w: usize, x: usize, xRow: usize, cols: i32, rows: i32, r: i32, t: i32, n: i32, acc: usize): void {
  const nb = cols >> 8;
  const x0 = x, x1 = x + (n > 1 ? xRow : 0), x2 = x + <usize>min(2, n - 1) * xRow, x3 = x + <usize>min(3, n - 1) * xRow;
  const dOff = narrow ? <usize>cols : <usize>cols << 1, bsOff = dOff + (<usize>nb << 2);
  memory.fill(acc, 0, T == 4 ? 128 : 32); // one token: only its accumulators (finish's other lanes go unused)
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * blockBytes(type);
    const xo = <usize>b << (narrow ? 8 : 9), dx = dOff + (<usize>b << 2), bo = bsOff + (<usize>b << 5);
    let dxv = f32x4.splat(load<f32>(x0 + dx));
    if (T == 4) {
      dxv = f32x4.replace_lane(dxv, 1, load<f32>(x1 + dx));
      dxv = f32x4.replace_lane(dxv, 2, load<f32>(x2 + dx));
      dxv = f32x4.replace_lane(dxv, 3, load<f32>(x3 + dx));
    }
    superBlock(type, T, narrow, wb, x0 + xo, x1 + xo, x2 + xo, x3 + xo, narrow ? 16 : 32, dxv, x0 + bo, x1 + bo, x2 + bo, x3 + bo, acc, n == 4);
  }
  storeLanes(out, finish(type, acc), rows, r, t, n);
}

/** Prefill with narrow activations: as rowOut with T = 4, the four tokens' fields read from one tile (kquantTiles). */
@inline function tileOut(type: i32, out: usize, w: usize, tile: usize, cols: i32, rows: i32, r: i32, t: i32, n: i32, acc: usize): void {
  const nb = cols >> 8;
  memory.fill(acc, 0, 128);
  let wb = w, p = tile;
  for (let b = 0; b < nb; b++, wb += blockBytes(type), p += KTILE_BYTES) {
    tileSuper(type, wb, p, acc, n == 4);
  }
  storeLanes(out, finish(type, acc), rows, r, t, n);
}

@inline function rowsOf(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, acc: usize): void {
  const narrow = narrowActivations(type) != 0; // the layout the quantizer wrote for this type
  const xRow = <usize>q8kRowBytes(cols, narrow);
  const rowBytes = <usize>(cols >> 8) * blockBytes(type);
  if (type == IQ4_XS) storeTables(acc);
  if (nTokens == 1) {
    decodeRows(type, narrow, out, w, x, cols, rowStart, rowEnd, acc);
    return;
  }
  if (ASC_FEATURE_RELAXED_SIMD && narrow) { // repacked quads (wide quad tiles: prepareMatmul)
    lowBitQuadsOf(type, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, acc);
    return;
  }
  const tileStride = <usize>(cols >> 8) * KTILE_BYTES;
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd);
    for (let t = 0; t < nTokens; t += 4) { // a last tile of fewer tokens repeats its last token in the spare lanes
      const n = min(4, nTokens - t);
      for (let r = r0; r < r1; r++) {
        if (ASC_FEATURE_RELAXED_SIMD && narrow) tileOut(type, out, w + <usize>r * rowBytes, tiles + <usize>(t >> 2) * tileStride, cols, rows, r, t, n, acc);
        else rowOut(type, 4, narrow, out, w + <usize>r * rowBytes, x + <usize>t * xRow, xRow, cols, rows, r, t, n, acc);
      }
    }
  }
}

/**
 * out (nTokens, rows) = x · wᵀ for weight rows rowStart..rowEnd of a Q2_K (ggml type 10), Q3_K (11) or IQ4_XS
 * (23) matrix; x is q8_k rows, and with several tokens and narrow rows, tiles is their kquantTiles (else
 * unused); acc is LOWBIT_SCRATCH_BYTES of this thread's scratch (16-byte aligned).
 */
export function matmulLowBit(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, acc: usize): void {
  if (type == Q2_K) rowsOf(Q2_K, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, acc);
  else if (type == Q3_K) rowsOf(Q3_K, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, acc);
  else rowsOf(IQ4_XS, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, acc);
}
