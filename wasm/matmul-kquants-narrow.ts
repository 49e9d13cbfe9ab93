/**
 * The relaxed-SIMD ("narrow") inner loops of matmul-kquants.ts: Q4_K/Q5_K/Q6_K super-blocks whose quants stay
 * unsigned bytes and meet i8 activation quants in the 8-bit dot (i16x8.relaxed_dot_i8x16_i7x16_s), the pair
 * sums then scaled by the sub-block's integer scale in one i32x4.dot_i16x8_s: exact integers, the same as the
 * baseline path's. Four-token tiles for prefill (q45SuperNarrow, q6SuperNarrow) and one token for decode
 * (q45DecodeNarrow, q6DecodeNarrow). matmul-kquants.ts scales and sums what these return.
 */

import { hsumAllI32, minSum, reduce4I32 } from "./simd";
import { KTILE_GROUP } from "./activation-tiles";

// ggml type ids, as matmul-kquants.ts
const Q4_K: i32 = 12, Q5_K: i32 = 13;

/** Narrow path: i32x4 partial sums of s·(Σ pairs of q·x) for sixteen unsigned quants q and i8 activations at xp. */
@inline function scaled16(q: v128, xp: usize, s: v128): v128 {
  return i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xp), q), s);
}

/**
 * Narrow path: acc + the scaled sums of four vectors of sixteen unsigned quants q0..q3 with the activation
 * quants at p, p + stride, p + 2·stride, p + 3·stride, scales s0..s3.
 */
@inline function scaled4(acc: v128, q0: v128, q1: v128, q2: v128, q3: v128, p: usize, stride: usize, s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  return i32x4.add(acc, i32x4.add(i32x4.add(scaled16(q0, p, s0), scaled16(q1, p + stride, s1)),
    i32x4.add(scaled16(q2, p + 2 * stride, s2), scaled16(q3, p + 3 * stride, s3))));
}

/** Narrow path: Q5_K's fifth bit for sub-block j from sixteen qh bytes: 16 where bit j is set, else 0. */
@inline function fifthBit(qh: v128, j: i32): v128 {
  const bit = i32x4.splat(0x01010101 << j);
  return v128.and(i8x16.eq(v128.and(qh, bit), bit), i8x16.splat(16));
}

/**
 * fifthBit for a constant j (decode's written-out steps): bit j of each byte moved to bit 4 by one 16-bit shift
 * (bits crossing into the other byte of a lane never land on its bit 4), then one mask; the same 16 or 0.
 */
@inline function fifthBitAt(qh: v128, j: i32): v128 {
  const m = i8x16.splat(16);
  if (j < 4) return v128.and(i16x8.shl(qh, 4 - j), m);
  return j == 4 ? v128.and(qh, m) : v128.and(i16x8.shr_u(qh, j - 4), m);
}

/**
 * Narrow path: acc + s·(Σ pairs of the 32-element sub-block a, b against the i8 activation quants at p and
 * p + gs, its two groups of sixteen). The
 * two 8-bit dots add in i16 before the scale (pair sums ≤ 2·31·128, so four products fit), one
 * multiply-add per sub-block half instead of one per dot.
 */
@inline function scaledSub(acc: v128, a: v128, b: v128, p: usize, gs: usize, s: v128): v128 {
  const pairs = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(p), a), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(p + gs), b));
  return i32x4.add(acc, i32x4.dot_i16x8_s(pairs, s));
}

/**
 * Narrow path: as q45Super for four tokens (a prefill tile; one token takes q45DecodeNarrow), the activation
 * quants i8 of group g (elements 16g..16g+15 of the super-block) at x0..x3 + g·KTILE_GROUP. The 6-bit scales
 * widen to i16 lanes once per super-block, and each 64-element step splats its two from the front of that vector.
 */
@inline export function q45SuperNarrow(type: i32, wb: usize, sm: v128, x0: usize, x1: usize, x2: usize, x3: usize, sp: usize): v128 {
  const gs: usize = KTILE_GROUP;
  const qs = wb + (type == Q4_K ? 16 : 48);
  const m4 = i8x16.splat(15);
  let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
  let scales = i16x8.extend_low_i8x16_u(sm); // the next two sub-blocks' scales in lanes 0 and 1
  for (let c = 0; c < 4; c++) { // 64 elements: sub-block 2c from the low nibbles, 2c + 1 from the high
    const sLo = i8x16.shuffle(scales, scales, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1);
    const sHi = i8x16.shuffle(scales, scales, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    scales = i8x16.shuffle(scales, scales, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3); // rotate two lanes down
    const qa = v128.load(qs + (<usize>c << 5)), qb = v128.load(qs + (<usize>c << 5), 16);
    let la = v128.and(qa, m4), lb = v128.and(qb, m4), ha = v128.and(i16x8.shr_u(qa, 4), m4), hb = v128.and(i16x8.shr_u(qb, 4), m4);
    if (type == Q5_K) {
      const qha = v128.load(wb + 16), qhb = v128.load(wb + 32);
      la = v128.or(la, fifthBit(qha, 2 * c)); lb = v128.or(lb, fifthBit(qhb, 2 * c));
      ha = v128.or(ha, fifthBit(qha, 2 * c + 1)); hb = v128.or(hb, fifthBit(qhb, 2 * c + 1));
    }
    const xc = <usize>c * 4 * gs, xh = xc + 2 * gs; // groups 4c, 4c + 1 (sub-block 2c), 4c + 2, 4c + 3
    i0 = scaledSub(scaledSub(i0, la, lb, x0 + xc, gs, sLo), ha, hb, x0 + xh, gs, sHi);
    // stores to the thread's scratch between the tokens (sp; see kRowTile): V8 then loads each token's
    // activations after the previous token's sums, instead of all sixteen first and spilling them
    v128.store(sp, i0);
    i1 = scaledSub(scaledSub(i1, la, lb, x1 + xc, gs, sLo), ha, hb, x1 + xh, gs, sHi);
    v128.store(sp, i1, 16);
    i2 = scaledSub(scaledSub(i2, la, lb, x2 + xc, gs, sLo), ha, hb, x2 + xh, gs, sHi);
    v128.store(sp, i2, 32);
    i3 = scaledSub(scaledSub(i3, la, lb, x3 + xc, gs, sLo), ha, hb, x3 + xh, gs, sHi);
  }
  return reduce4I32(i0, i1, i2, i3);
}

/**
 * Narrow decode (one token): q45SuperNarrow's work for one token, its four steps of 64 elements written out so
 * that shifts and masks are constants (as a loop, V8 kept its counter, a stack check and spills). The scales go
 * to the thread's scratch (sp) once, each step splats its two with one load, and the running sum is stored to
 * sp + 16 after each step so that V8 loads a step's operands when it uses them instead of all first.
 */
@inline export function q45DecodeNarrow(type: i32, wb: usize, sm: v128, x0: usize, sp: usize): v128 {
  v128.store(sp, i16x8.extend_low_i8x16_u(sm)); // sub-block j's scale at sp + 2j
  let i0 = q45DecodeStep(type, i32x4.splat(0), wb, 0, x0, sp);
  i0 = q45DecodeStep(type, i0, wb, 1, x0, sp);
  i0 = q45DecodeStep(type, i0, wb, 2, x0, sp);
  return hsumAllI32(q45DecodeStep(type, i0, wb, 3, x0, sp));
}

/** Step c (constant) of q45DecodeNarrow: sub-blocks 2c (low nibbles) and 2c + 1 (high) against the i8 quants at x0. */
@inline function q45DecodeStep(type: i32, i0: v128, wb: usize, c: i32, x0: usize, sp: usize): v128 {
  const qs = wb + (type == Q4_K ? 16 : 48) + (<usize>c << 5), m4 = i8x16.splat(15);
  const qa = v128.load(qs), qb = v128.load(qs, 16);
  let la = v128.and(qa, m4), lb = v128.and(qb, m4), ha = v128.and(i16x8.shr_u(qa, 4), m4), hb = v128.and(i16x8.shr_u(qb, 4), m4);
  if (type == Q5_K) {
    const qha = v128.load(wb + 16), qhb = v128.load(wb + 32);
    la = v128.or(la, fifthBitAt(qha, 2 * c)); lb = v128.or(lb, fifthBitAt(qhb, 2 * c));
    ha = v128.or(ha, fifthBitAt(qha, 2 * c + 1)); hb = v128.or(hb, fifthBitAt(qhb, 2 * c + 1));
  }
  const xc = x0 + (<usize>c << 6);
  const r = scaledSub(scaledSub(i0, la, lb, xc, 16, v128.load16_splat(sp + (<usize>c << 2))), ha, hb, xc + 32, 16, v128.load16_splat(sp + (<usize>c << 2) + 2));
  v128.store(sp, r, 16);
  return r;
}

/**
 * Narrow path: Σ sc·q·x − 32·Σ sc·bsum of a Q6_K super-block (q unsigned 0..63) per token lane of a four-token
 * tile, group g of the activation quants at x0..x3 + g·gs (as q45SuperNarrow), the sixteen per-group sums at
 * b0..b3; sp: the thread's scratch (stores between the tokens).
 * The sixteen i8 scales widen to i16 once; each step of sixteen elements splats its four from lanes 0, 2, 4, 6
 * and then rotates the next step's into place. Fields are shifted within 16-bit lanes and masked (V8 lowers
 * an 8-bit shift to the same 16-bit shift plus a mask it rebuilds each time).
 */
@inline export function q6SuperNarrow(wb: usize, x0: usize, x1: usize, x2: usize, x3: usize, gs: usize,
  b0: usize, b1: usize, b2: usize, b3: usize, sp: usize): v128 {
  const m4 = i8x16.splat(15), m30 = i8x16.splat(0x30);
  let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
  const scv = v128.load(wb + 192);
  const scLo = i16x8.extend_low_i8x16_s(scv), scHi = i16x8.extend_high_i8x16_s(scv);
  for (let h = 0; h < 2; h++) { // two halves of 128 elements
    const ql = wb + (<usize>h << 6), qh = wb + 128 + (<usize>h << 5);
    let scales = h == 0 ? scLo : scHi; // the scales of groups g, 2 + g, 4 + g, 6 + g in lanes 0, 2, 4, 6
    for (let g = 0; g < 2; g++) { // elements 16g..16g+15 of each 32 of the half
      const a = v128.load(ql + (<usize>g << 4)), b = v128.load(ql + 32 + (<usize>g << 4)), hv = v128.load(qh + (<usize>g << 4));
      // each 2-bit field of hv moved to bits 4-5 by a 16-bit shift, then one mask (bits crossing a byte land outside it)
      const q0 = v128.or(v128.and(a, m4), v128.and(i16x8.shl(hv, 4), m30));
      const q1 = v128.or(v128.and(b, m4), v128.and(i16x8.shl(hv, 2), m30));
      const q2 = v128.or(v128.and(i16x8.shr_u(a, 4), m4), v128.and(hv, m30));
      const q3 = v128.or(v128.and(i16x8.shr_u(b, 4), m4), v128.and(i16x8.shr_u(hv, 2), m30));
      const s0 = i8x16.shuffle(scales, scales, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1);
      const s1 = i8x16.shuffle(scales, scales, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5);
      const s2 = i8x16.shuffle(scales, scales, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9);
      const s3 = i8x16.shuffle(scales, scales, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13);
      scales = i8x16.shuffle(scales, scales, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1); // rotate one lane down
      const xp = <usize>(8 * h + g) * gs; // group 8h + g (element 128h + 16g), then +32 elements per k
      i0 = scaled4(i0, q0, q1, q2, q3, x0 + xp, 2 * gs, s0, s1, s2, s3);
      v128.store(sp, i0); // scratch stores between the tokens, as q45SuperNarrow
      i1 = scaled4(i1, q0, q1, q2, q3, x1 + xp, 2 * gs, s0, s1, s2, s3);
      v128.store(sp, i1, 16);
      i2 = scaled4(i2, q0, q1, q2, q3, x2 + xp, 2 * gs, s0, s1, s2, s3);
      v128.store(sp, i2, 32);
      i3 = scaled4(i3, q0, q1, q2, q3, x3 + xp, 2 * gs, s0, s1, s2, s3);
    }
  }
  // the offset: 32·Σ_g sc_g·bsum_g over the sixteen groups of sixteen (scales and bsums in the same order)
  const o = reduce4I32(minSum(scLo, scHi, b0), minSum(scLo, scHi, b1), minSum(scLo, scHi, b2), minSum(scLo, scHi, b3));
  return i32x4.sub(reduce4I32(i0, i1, i2, i3), i32x4.shl(o, 5));
}

/**
 * Narrow decode (one token) of a Q6_K super-block: q6SuperNarrow's integers for one token, its four steps of 64
 * elements written out (as q45DecodeNarrow: as loops, V8 kept counters and rotated the scale vector with
 * shuffles). The sixteen scales go to the thread's scratch once (sp: i16, sub-block j at sp + 2j) and each step
 * splats its four with loads; the running sum is stored to sp + 32 after each step, so V8 loads a step's
 * operands when it uses them. Exact integers: the same S as q6SuperNarrow, whatever the order of the sums.
 */
@inline export function q6DecodeNarrow(wb: usize, x0: usize, b0: usize, sp: usize): v128 {
  const scv = v128.load(wb + 192);
  const scLo = i16x8.extend_low_i8x16_s(scv), scHi = i16x8.extend_high_i8x16_s(scv);
  v128.store(sp, scLo);
  v128.store(sp, scHi, 16);
  let i0 = q6DecodeStep(i32x4.splat(0), wb, 0, 0, x0, sp);
  i0 = q6DecodeStep(i0, wb, 0, 1, x0, sp);
  i0 = q6DecodeStep(i0, wb, 1, 0, x0, sp);
  i0 = q6DecodeStep(i0, wb, 1, 1, x0, sp);
  return i32x4.sub(hsumAllI32(i0), i32x4.shl(hsumAllI32(minSum(scLo, scHi, b0)), 5));
}

/**
 * Step (h, g) (constants) of q6DecodeNarrow: elements 16g..16g+15 of each 32 of half h, their four sub-blocks
 * 8h + g + 2k (k = 0..3) against the i8 quants at x0 (group 8h + g, then +32 elements per k).
 */
@inline function q6DecodeStep(i0: v128, wb: usize, h: i32, g: i32, x0: usize, sp: usize): v128 {
  const m4 = i8x16.splat(15), m30 = i8x16.splat(0x30);
  const ql = wb + (<usize>h << 6) + (<usize>g << 4), qh = wb + 128 + (<usize>h << 5) + (<usize>g << 4);
  const a = v128.load(ql), b = v128.load(ql, 32), hv = v128.load(qh);
  const q0 = v128.or(v128.and(a, m4), v128.and(i16x8.shl(hv, 4), m30));
  const q1 = v128.or(v128.and(b, m4), v128.and(i16x8.shl(hv, 2), m30));
  const q2 = v128.or(v128.and(i16x8.shr_u(a, 4), m4), v128.and(hv, m30));
  const q3 = v128.or(v128.and(i16x8.shr_u(b, 4), m4), v128.and(i16x8.shr_u(hv, 2), m30));
  const sc = sp + (<usize>(8 * h + g) << 1);
  const r = scaled4(i0, q0, q1, q2, q3, x0 + (<usize>(8 * h + g) << 4), 32,
    v128.load16_splat(sc), v128.load16_splat(sc + 4), v128.load16_splat(sc + 8), v128.load16_splat(sc + 12));
  v128.store(sp, r, 32);
  return r;
}

