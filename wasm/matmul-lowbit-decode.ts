/**
 * Decode (one token) rows of the Q2_K, Q3_K and IQ4_XS products: the integers and float steps of
 * matmul-lowbit.ts's superBlock with one token (so the same bits: kquant-dots-parity), written out step by
 * step. As superBlock's loop over the eight 32-element steps of a super-block, V8 (Node 20) kept a counter,
 * tests of it, a stack check and register moves per 32 elements, the f32 accumulators in memory and a
 * memory.fill call per row; here every shift, mask and offset is a constant, the accumulators stay in
 * registers, and each group's scale is one load-and-splat of the i16 scales the super-block stored to the
 * thread's scratch. Written out, V8 loaded every activation vector and scale of a super-block first and
 * spilled them to the stack; a store of the running sums to scratch (FENCE) after every 32 elements orders
 * the work so each step's operands are loaded when they are used.
 * The activation row is q8_k: narrow i8 quants (relaxed build) or i16 (baseline), then d (f32 per
 * super-block), then the per-16 sums (i16).
 * Scratch (LOWBIT_SCRATCH_BYTES of the thread): the i16 group scales at 0, FENCE, IQ4_XS's two tables.
 */

import { f16Lookup } from "./f16-table";
import { fma4 } from "./ggml-math";
import { hsumAllI32 } from "./simd";
import { iq4Scales, pairs, q3Scales } from "./matmul-lowbit";

const Q2_K: i32 = 10, Q3_K: i32 = 11, IQ4_XS: i32 = 23;

/** Scratch offset of the store that orders the work (the i16 group scales are at 0). */
const FENCE: usize = 32;
/** IQ4_XS's tables in scratch, stored by storeTables (past the prefill tiles' fields of matmul-lowbit-tile.ts). */
export const ABS_TABLE: usize = 320, SIGN_TABLE: usize = 336;

/**
 * Table t at the indices n (all in 0..15): the relaxed swizzle is one pshufb where the plain one adds a
 * saturating add that maps indices over 15 to zero; from a table in scratch, as V8 rebuilds a constant at
 * each use (two 64-bit immediates).
 */
@inline export function lookup(t: v128, n: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? i8x16.relaxed_swizzle(t, n) : i8x16.swizzle(t, n);
}

/** The fields at bits 2j..2j+1 of each byte of q (j constant). */
@inline export function field2(q: v128, j: i32): v128 {
  return v128.and(j == 0 ? q : i16x8.shr_u(q, 2 * j), i8x16.splat(3));
}

/**
 * a + the pair sums of sixteen weights with the activation quants at xp (pairs(): narrow operands u, v;
 * w the signed weights for the wide path), times the i16 scale at sp; with fence, the sum is also stored to fp.
 */
@inline function scaled(type: i32, narrow: bool, a: v128, u: v128, v: v128, w: v128, xp: usize, sp: usize, fp: usize, fence: bool): v128 {
  const p = pairs(type, narrow, u, v, i16x8.extend_low_i8x16_s(w), i16x8.extend_high_i8x16_s(w), xp);
  const r = i32x4.add(a, i32x4.dot_i16x8_s(p, v128.load16_splat(sp)));
  if (fence) v128.store(fp, r);
  return r;
}

/** Q2_K: a + Σ sc·q·x over half a super-block (its 32 quant bytes at qs, activations from xq, groups' scales at sp). */
@inline function q2Half(narrow: bool, a: v128, qs: usize, xq: usize, gs: usize, sp: usize, fp: usize): v128 {
  const q0 = v128.load(qs), q1 = v128.load(qs, 16);
  let f = field2(q0, 0);
  a = scaled(Q2_K, narrow, a, f, f, f, xq, sp, fp, false);
  f = field2(q1, 0);
  a = scaled(Q2_K, narrow, a, f, f, f, xq + gs, sp + 2, fp, true);
  f = field2(q0, 1);
  a = scaled(Q2_K, narrow, a, f, f, f, xq + 2 * gs, sp + 4, fp, false);
  f = field2(q1, 1);
  a = scaled(Q2_K, narrow, a, f, f, f, xq + 3 * gs, sp + 6, fp, true);
  f = field2(q0, 2);
  a = scaled(Q2_K, narrow, a, f, f, f, xq + 4 * gs, sp + 8, fp, false);
  f = field2(q1, 2);
  a = scaled(Q2_K, narrow, a, f, f, f, xq + 5 * gs, sp + 10, fp, true);
  f = field2(q0, 3);
  a = scaled(Q2_K, narrow, a, f, f, f, xq + 6 * gs, sp + 12, fp, false);
  f = field2(q1, 3);
  return scaled(Q2_K, narrow, a, f, f, f, xq + 7 * gs, sp + 14, fp, true);
}

/** Q2_K row: per super-block acc = fma(S, d_w·d_x, acc), accm = fma(M, dmin_w·d_x, accm); then acc − accm. */
@inline function q2Row(narrow: bool, w: usize, x: usize, cols: i32, sp: usize): f32 {
  const fp = sp + FENCE;
  const nb = cols >> 8;
  const gs: usize = narrow ? 16 : 32;
  const dOff = narrow ? <usize>cols : <usize>cols << 1, bsOff = dOff + (<usize>nb << 2);
  let acc = f32x4.splat(0), accm = acc;
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * 84, xq = x + (<usize>b << 4) * gs, bs = x + bsOff + (<usize>b << 5);
    const sc = v128.load(wb); // low nibbles: the sixteen scales; high: the minimums
    const s4 = v128.and(sc, i8x16.splat(15));
    v128.store(sp, i16x8.extend_low_i8x16_u(s4));
    v128.store(sp, i16x8.extend_high_i8x16_u(s4), 16);
    const S = q2Half(narrow, q2Half(narrow, i32x4.splat(0), wb + 16, xq, gs, sp, fp), wb + 48, xq + 8 * gs, gs, sp + 16, fp);
    const mins = i16x8.shr_u(v128.and(sc, i8x16.splat(-16)), 4);
    const M = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(mins), v128.load(bs)),
      i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(mins), v128.load(bs, 16)));
    const dx = f32x4.splat(load<f32>(x + dOff + (<usize>b << 2)));
    acc = fma4(f32x4.convert_i32x4_s(hsumAllI32(S)), f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb, 80))), dx), acc);
    accm = fma4(f32x4.convert_i32x4_s(hsumAllI32(M)), f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb, 82))), dx), accm);
  }
  return f32x4.extract_lane(f32x4.sub(acc, accm), 0);
}

/**
 * Q3_K: a + the scaled sums of one 32-element step's sixteen weights of one lane set: the fields at bits
 * 2j..2j+1 of q, the high bits in bit k of h (k, j constant), w = field − 4 where the high bit is clear (v = 4
 * there: the bit moved to bit 2 by a 16-bit shift; the bits a shift carries across a byte boundary never reach
 * bit 2).
 */
@inline function q3Step(narrow: bool, a: v128, q: v128, j: i32, h: v128, k: i32, xp: usize, sp: usize, fp: usize): v128 {
  const hs = k == 2 ? h : k < 2 ? i16x8.shl(h, 2 - k) : i16x8.shr_u(h, k - 2);
  const u = field2(q, j), v = v128.andnot(i8x16.splat(4), hs);
  return scaled(Q3_K, narrow, a, u, v, i8x16.sub(u, v), xp, sp, fp, (j & 1) != 0);
}

/** Q3_K: q3Step over the four steps of half `half` of a super-block for one lane set (quant bytes at qs, high bits h). */
@inline function q3Lane(narrow: bool, a: v128, qs: usize, h: v128, half: i32, xq: usize, gs: usize, sp: usize, fp: usize): v128 {
  const q = v128.load(qs), k = 4 * half;
  a = q3Step(narrow, a, q, 0, h, k, xq, sp, fp);
  a = q3Step(narrow, a, q, 1, h, k + 1, xq + 2 * gs, sp + 4, fp);
  a = q3Step(narrow, a, q, 2, h, k + 2, xq + 4 * gs, sp + 8, fp);
  return q3Step(narrow, a, q, 3, h, k + 3, xq + 6 * gs, sp + 12, fp);
}

/**
 * The output from the two lane vectors A (elements 0..15 of each 32) and B (16..31): llama.cpp's hsum_float_8,
 * R = B + A, then (R0 + R2) + (R1 + R3).
 */
@inline function laneSum(A: v128, B: v128): f32 {
  const r = f32x4.add(B, A);
  return (f32x4.extract_lane(r, 0) + f32x4.extract_lane(r, 2)) + (f32x4.extract_lane(r, 1) + f32x4.extract_lane(r, 3));
}

/** Q3_K row: per super-block the lane sums a (A) and b (B), then A = fma(a, d_w·d_x, A), B likewise. */
@inline function q3Row(narrow: bool, w: usize, x: usize, cols: i32, sp: usize): f32 {
  const fp = sp + FENCE;
  const nb = cols >> 8;
  const gs: usize = narrow ? 16 : 32;
  const dOff = narrow ? <usize>cols : <usize>cols << 1;
  let A = f32x4.splat(0), B = A;
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * 110, xq = x + (<usize>b << 4) * gs;
    v128.store(sp, q3Scales(wb + 96, false));
    v128.store(sp, q3Scales(wb + 96, true), 16);
    const hA = v128.load(wb), hB = v128.load(wb, 16);
    let a = q3Lane(narrow, i32x4.splat(0), wb + 32, hA, 0, xq, gs, sp, fp);
    let c = q3Lane(narrow, i32x4.splat(0), wb + 48, hB, 0, xq + gs, gs, sp + 2, fp);
    a = q3Lane(narrow, a, wb + 64, hA, 1, xq + 8 * gs, gs, sp + 16, fp);
    c = q3Lane(narrow, c, wb + 80, hB, 1, xq + 9 * gs, gs, sp + 18, fp);
    const d = f32x4.splat(f16Lookup(load<u16>(wb, 108)) * load<f32>(x + dOff + (<usize>b << 2)));
    A = fma4(f32x4.convert_i32x4_s(a), d, A);
    B = fma4(f32x4.convert_i32x4_s(c), d, B);
  }
  return laneSum(A, B);
}

/**
 * One IQ4_XS half sub-block's scaled pair sums: the nibbles n select |level| (u) and its sign (v) from the
 * tables in scratch at tp, and the level itself (w, wide path); activations at xp, the sub-block's scale in sv.
 */
@inline function iq4Part(narrow: bool, n: v128, xp: usize, sv: v128, tp: usize): v128 {
  const u = lookup(v128.load(tp + ABS_TABLE), n), v = lookup(v128.load(tp + SIGN_TABLE), n);
  const w = lookup(i8x16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113), n);
  return i32x4.dot_i16x8_s(pairs(IQ4_XS, narrow, u, v, i16x8.extend_low_i8x16_s(w), i16x8.extend_high_i8x16_s(w), xp), sv);
}

/** IQ4_XS row: as q3Row, the lane sums per super-block scaled by d_w·d_x. */
@inline function iq4Row(narrow: bool, w: usize, x: usize, cols: i32, sp: usize): f32 {
  const fp = sp + FENCE;
  const nb = cols >> 8;
  const gs: usize = narrow ? 16 : 32;
  const dOff = narrow ? <usize>cols : <usize>cols << 1;
  let A = f32x4.splat(0), B = A;
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * 136, xq = x + (<usize>b << 4) * gs;
    v128.store(sp, iq4Scales(wb));
    // sub-blocks s and s + 1 per pass: each one's 16 bytes give lanes A (low nibbles) and B (high nibbles)
    let a = i32x4.splat(0), c = a;
    for (let s = 0; s < 8; s += 2) {
      const q = wb + 8 + (<usize>s << 4), xp = xq + <usize>(2 * s) * gs, ss = sp + (<usize>s << 1);
      const m = i8x16.splat(15);
      let raw = v128.load(q), sv = v128.load16_splat(ss);
      a = i32x4.add(a, iq4Part(narrow, v128.and(raw, m), xp, sv, sp));
      v128.store(fp, a); // orders the work (see scaled)
      c = i32x4.add(c, iq4Part(narrow, v128.and(i16x8.shr_u(raw, 4), m), xp + gs, sv, sp));
      v128.store(fp, c);
      raw = v128.load(q, 16); sv = v128.load16_splat(ss, 2);
      a = i32x4.add(a, iq4Part(narrow, v128.and(raw, m), xp + 2 * gs, sv, sp));
      v128.store(fp, a);
      c = i32x4.add(c, iq4Part(narrow, v128.and(i16x8.shr_u(raw, 4), m), xp + 3 * gs, sv, sp));
      v128.store(fp, c);
    }
    const d = f32x4.splat(f16Lookup(load<u16>(wb)) * load<f32>(x + dOff + (<usize>b << 2)));
    A = fma4(f32x4.convert_i32x4_s(a), d, A);
    B = fma4(f32x4.convert_i32x4_s(c), d, B);
  }
  return laneSum(A, B);
}

/** IQ4_XS: the tables of |level| and of its sign (0 / −1) to the thread's scratch at sp, for lookup. */
@inline export function storeTables(sp: usize): void {
  v128.store(sp, i8x16(127, 104, 83, 65, 49, 35, 22, 10, 1, 13, 25, 38, 53, 69, 89, 113), ABS_TABLE);
  v128.store(sp, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0), SIGN_TABLE);
}

/**
 * Outputs rowStart..rowEnd of a one-token product (q8_k row x) into out, one weight row at a time; sp: this
 * thread's scratch (IQ4_XS: with its tables stored).
 */
@inline export function decodeRows(type: i32, narrow: bool, out: usize, w: usize, x: usize, cols: i32, rowStart: i32, rowEnd: i32, sp: usize): void {
  const rowBytes = <usize>(cols >> 8) * (type == Q2_K ? 84 : type == Q3_K ? 110 : 136);
  for (let r = rowStart; r < rowEnd; r++) {
    const wr = w + <usize>r * rowBytes;
    const v = type == Q2_K ? q2Row(narrow, wr, x, cols, sp) : type == Q3_K ? q3Row(narrow, wr, x, cols, sp) : iq4Row(narrow, wr, x, cols, sp);
    store<f32>(out + (<usize>r << 2), v);
  }
}
