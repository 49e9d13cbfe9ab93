/**
 * llama.cpp's one-row ("vec") flash attention kernel (ggml-cpu's flash_attn_ext for micro-batches of fewer than
 * 64 queries), reproduced with its rounding: keys one at a time in position order, a running maximum, an f32
 * running sum S, and, with f16 values, a running value sum that is an f16 vector (rounded after every key, as
 * ggml_vec_mad_f16 and ggml_vec_scale_f16 store it). The tiled kernel (≥ 64 queries) is attention.ts's
 * one-pass path. src/kernels/ts/attention-flash.ts is the readable reference.
 */

import { roundF16x4 } from "./simd";
import { accAt, kvHi, kvLo, lAt, mAt, ORDER_VEC64, qrAt, ROWS, scAt, scores, touchRows, touchSlice } from "./attention-parts";
import { fma4, fmaF32 } from "./ggml-math";
import { expF64x2 } from "./exp-f64";

const SIGN = 0x80000000, TWO112: f32 = reinterpret<f32>(0x77800000); // 2^112
const F16_MIN_NORMAL = 0x38800000; // f32 bits of 2^-14

/**
 * Four f32 lanes rounded to f16 the slow, general way: roundF16x4 (exact below 65504, subnormals included),
 * with x's sign put back (roundF16x4 turns −0 and negatives that round to zero into +0), then a lane above 65504
 * becomes ±infinity, as llama.cpp's f16 store makes it.
 */
@inline function roundF16Inf(x: v128): v128 {
  const r = v128.or(roundF16x4(x), v128.and(x, i32x4.splat(SIGN)));
  const big = f32x4.gt(f32x4.abs(r), f32x4.splat(65504));
  return v128.bitselect(v128.or(v128.and(r, i32x4.splat(SIGN)), f32x4.splat(Infinity)), r, big);
}

/** Lanes with 2^-14 ≤ |x| ≤ hi, f16's normal range up to hi (false for NaN and infinities). */
@inline function normalLanes(x: v128, hi: f32): v128 {
  const m = f32x4.abs(x);
  return v128.and(f32x4.ge(m, f32x4.splat(reinterpret<f32>(F16_MIN_NORMAL))), f32x4.le(m, f32x4.splat(hi)));
}

/**
 * f32 → f16 precision, round to nearest even, for lanes in f16's normal range (or zero): Veltkamp's split at 13
 * bits, c = x · (2^13 + 1), then c − (c − x), three f32 operations where the integer form (add half an f16 ulp
 * less one plus the kept bit's parity, clear the thirteen low bits) took five. The two agree on every f32 of
 * the binades 2^-14, 1, 2^13 and 2^15, ties included (checked exhaustively); the split scales with the binade.
 */
@inline function roundF16Split(x: v128): v128 {
  const c = f32x4.mul(x, f32x4.splat(8193));
  return f32x4.sub(c, f32x4.sub(c, x));
}

/**
 * acc (n) ← f16(acc · f), or f32 when the values are f32 (the vec kernel's sum on a new maximum). The product
 * is one f32 rounding, as ggml's; its f16 rounding is roundF16Split where every lane of a vector is zero
 * or in f16's normal range, roundF16Inf otherwise.
 */
@inline function rescaleAcc(acc: usize, f: f32, n: i32, vF16: bool): void {
  const fv = f32x4.splat(f);
  for (let i = 0; i < n; i += 4) {
    const a = acc + (<usize>i << 2);
    const x = f32x4.mul(v128.load(a), fv);
    if (!vF16) { v128.store(a, x); continue; }
    const plain = v128.or(normalLanes(x, 65504), f32x4.eq(x, f32x4.splat(0)));
    v128.store(a, i32x4.all_true(plain) ? roundF16Split(x) : roundF16Inf(x));
  }
}

/**
 * acc (n) ← f32(acc + p · v) for f32 values (ggml_vec_mad_f32) through fma4: a fused multiply-add in the relaxed
 * build; in the baseline build v · p exact in f64, the sum rounded to f64 and then to f32, which is the fused
 * multiply-add but at the rare f64 midpoint.
 */
@inline function madAccF32(acc: usize, p: f32, v: usize, n: i32): void {
  const ps = f32x4.splat(p);
  for (let i = 0; i < n; i += 4) {
    const a = acc + (<usize>i << 2);
    v128.store(a, fma4(v128.load(v + (<usize>i << 2)), ps, v128.load(a)));
  }
}

/*
 * dst (n) ← f16(src + p · v) for f16 values (ggml_vec_mad_f16: a fused multiply-add, stored as f16; fma4 gives
 * the sum). Most lanes take a cheaper route to the same bits: p = ph + pl, each half of at most 12 significant
 * bits, so b·ph and b·pl are exact f32 products (b has 11), and r = (a + b·ph) + b·pl in two f32 additions is
 * within 3 f32 ulps of fma4's sum (the first sum's rounding error is at most 2 ulps of r; when a and b·ph
 * cancel it is exact). f16 rounding drops 13 bits, so r rounds to the same f16 as that sum unless it lies within
 * 8 ulps of a halfway point (probability ~1/500 per lane) or outside f16's normal range (|r| < 2^-14, or above
 * 65472, taken wide for simplicity). madFast takes the cheap route for the whole row and says whether any lane
 * was such; then madChecked redoes the row from src, vector by vector, the exact way (madExact4) where a lane
 * needs it. That is why the sum lives in two buffers (src, dst): a branch per vector in the fast pass cost more
 * than the rare second pass. p below 2^-40 (products near f32's underflow) goes the exact way throughout.
 */

/** Four lanes of f16(f32(a + b · p)) the exact way: fma4 (b the true f16 values), then roundF16Inf. */
function madExact4(a: v128, bScaled: v128, p: v128): v128 {
  return roundF16Inf(fma4(f32x4.mul(bScaled, f32x4.splat(TWO112)), p, a));
}

/**
 * Lanes of r that the cheap route rounds right: low 13 bits more than 8 from 0x1000 (off every halfway point),
 * and 2^-14 ≤ |r| ≤ 65472 (false for NaN).
 */
@inline function plainLanes(r: v128): v128 {
  return v128.andnot(normalLanes(r, 65472), i32x4.eq(v128.and(i32x4.add(r, i32x4.splat(8)), i32x4.splat(0x1ff0)), i32x4.splat(0x1000)));
}

/** f16 rounding of a plain lane: half an f16 ulp (0x1000) added to the bits and the thirteen f16 drops cleared. */
@inline function roundPlain(r: v128): v128 {
  return v128.and(i32x4.add(r, i32x4.splat(0x1000)), i32x4.splat(0xffffe000));
}

/** The halves of p, times 2^112: [ph, pl] with p = ph + pl, each of at most 12 significant bits. */
@inline function splitP(p: f32): v128 {
  const ph = reinterpret<f32>(reinterpret<u32>(p) & 0xfffff000);
  return f32x4.replace_lane(f32x4.splat(ph * TWO112), 1, (p - ph) * TWO112);
}

/** True where |p| < 2^-40 (and p ≠ 0): its split products could lose bits to f32's underflow. */
@inline function tinyP(p: f32): bool {
  return p != 0 && (reinterpret<u32>(p) & 0x7fffffff) < 0x2b800000;
}

/** The cheap route for the whole row (see above); returns false when some lane needs madChecked. */
@inline function madFast(src: usize, dst: usize, p: f32, v: usize, n: i32): bool {
  const halves = splitP(p);
  const phv = f32x4.splat(f32x4.extract_lane(halves, 0)), plv = f32x4.splat(f32x4.extract_lane(halves, 1));
  let plain = i32x4.splat(-1);
  for (let i = 0; i < n; i += 8) {
    const h = v128.load(v + (<usize>i << 1));
    const o = <usize>i << 2;
    const b0 = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(h), 13), i32x4.splat(0x8fffe000));
    const b1 = v128.and(i32x4.shl(i32x4.extend_high_i16x8_s(h), 13), i32x4.splat(0x8fffe000));
    const r0 = f32x4.add(f32x4.add(v128.load(src + o), f32x4.mul(b0, phv)), f32x4.mul(b0, plv));
    const r1 = f32x4.add(f32x4.add(v128.load(src + o, 16), f32x4.mul(b1, phv)), f32x4.mul(b1, plv));
    plain = v128.and(plain, v128.and(plainLanes(r0), plainLanes(r1)));
    v128.store(dst + o, roundPlain(r0));
    v128.store(dst + o, roundPlain(r1), 16);
  }
  return i32x4.all_true(plain);
}

/** The row again from src, four lanes at a time: the cheap route where all four are plain, madExact4 elsewhere. */
function madChecked(src: usize, dst: usize, p: f32, v: usize, n: i32): void {
  const halves = splitP(p), exact = tinyP(p);
  const phv = f32x4.splat(f32x4.extract_lane(halves, 0)), plv = f32x4.splat(f32x4.extract_lane(halves, 1));
  const pv = f32x4.splat(p);
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    const b = v128.and(i32x4.shl(v128.load16x4_s(v + (<usize>i << 1)), 13), i32x4.splat(0x8fffe000));
    const a = v128.load(src + o);
    const r = f32x4.add(f32x4.add(a, f32x4.mul(b, phv)), f32x4.mul(b, plv));
    v128.store(dst + o, !exact && i32x4.all_true(plainLanes(r)) ? roundPlain(r) : madExact4(a, b, pv));
  }
}

/*
 * The relaxed build has a fused multiply-add (fma4: relaxed SIMD's madd, which the kernels take to be fused, as
 * everywhere else), and with it the sum r = fma(v, p, src) is ggml's f32 exactly: its f16 rounding needs no check
 * for halfway points, only that every lane lies where roundF16Split is exact: zero, or f16's
 * normal range up to 65504, tracked over the row as the extremes of the lanes' magnitude bits. v enters as its f16
 * bits widened to f32 bits (v · 2^-112) against p · 2^112, which leaves the exact product, and so the fused sum,
 * unchanged. (Rounding by adding and taking away ±2^(e+13) instead measured no faster, and sends zeros the slow
 * way.)
 */

/** Magnitude bits, less one, of f16's smallest normal: a lane's bits less one must not be below (zero wraps to the top). */
const NORMAL_LO_LESS1: u32 = F16_MIN_NORMAL - 1;
/** Magnitude bits of 65504, f16's largest finite value. */
const F16_MAX_BITS: u32 = 0x477fe000;

/**
 * The fused cheap route for the whole row; false when some lane left the range where roundF16Split is exact
 * (then madChecked redoes the row).
 */
@inline function madFused(src: usize, dst: usize, p: f32, v: usize, n: i32): bool {
  const ps = f32x4.splat(p * TWO112), mag = i32x4.splat(0x7fffffff), one = i32x4.splat(1);
  let lo = i32x4.splat(-1), hi = i32x4.splat(0);
  for (let i = 0; i < n; i += 8) {
    const h = v128.load(v + (<usize>i << 1));
    const o = <usize>i << 2;
    const b0 = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(h), 13), i32x4.splat(0x8fffe000));
    const b1 = v128.and(i32x4.shl(i32x4.extend_high_i16x8_s(h), 13), i32x4.splat(0x8fffe000));
    const r0 = fma4(b0, ps, v128.load(src + o)), r1 = fma4(b1, ps, v128.load(src + o, 16));
    const t0 = v128.and(r0, mag), t1 = v128.and(r1, mag);
    hi = i32x4.max_u(hi, i32x4.max_u(t0, t1));
    lo = i32x4.min_u(lo, i32x4.min_u(i32x4.sub(t0, one), i32x4.sub(t1, one)));
    v128.store(dst + o, roundF16Split(r0));
    v128.store(dst + o, roundF16Split(r1), 16);
  }
  return i32x4.all_true(v128.and(i32x4.le_u(hi, i32x4.splat(F16_MAX_BITS)), i32x4.ge_u(lo, i32x4.splat(NORMAL_LO_LESS1))));
}

/** dst ← f16(src + p · v) for f16 values (see above). */
@inline function madAccF16(src: usize, dst: usize, p: f32, v: usize, n: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (!madFused(src, dst, p, v, n)) madChecked(src, dst, p, v, n); // its exact lanes are fma4's: fused here
    return;
  }
  if (tinyP(p) || !madFast(src, dst, p, v, n)) madChecked(src, dst, p, v, n);
}

/** sc[j] ← f32(e^sc[j]) for j in 0..jn (f32 arguments ≤ 0; sc has room for an even count), two at a time. */
function expBlock(sc: usize, jn: i32): void {
  for (let j = 0; j < jn; j += 2) {
    const p = sc + (<usize>j << 2);
    const e = f32x4.demote_f64x2_zero(expF64x2(f64x2.promote_low_f32x4(v128.load64_zero(p))));
    v128.store64_lane(p, e, 0);
  }
}

/**
 * Head i's second buffer for the f16 running sum (headsVec alternates between it and accAt): the region after the
 * sink where the standard path keeps its lane accumulators (attention-ggml.ts; attentionScratchFloats sizes it
 * for PV_LANES rows per head, more than the one row needed here).
 */
@inline function accAltAt(ml: usize, nh: i32, headDim: i32, scRow: usize, i: i32): usize {
  return scAt(ml, nh, headDim, scRow, nh) + 16 + ((<usize>i * <usize>headDim) << 2);
}

/**
 * llama.cpp's one-row ("vec") flash kernel, for query heads h0..h1 of one token: keys one at a time in position
 * order; a key above the running maximum M becomes the maximum (weight 1, the sums so far scaled by
 * e^(Mold − M)), any other has weight e^(s − M); with f16 values the running value sum is rounded to f16 after
 * every step, as ggml keeps it in an f16 vector. S is an f32. The rows are walked block by block of ROWS for all
 * heads (as headsTwoPass does). q·k in ggml_vec_dot_f16's order with f16 keys; S = S·ms + vs as one fused
 * multiply-add (ggml-math.ts fmaF32). headDim is a multiple of 8.
 */
export function headsVec(out: usize, k: usize, v: usize, nCtx: i32, kvDim: i32, group: i32, h0: i32, h1: i32, headDim: i32,
  scale: f64, kF16: bool, vF16: bool, ml: usize, scRow: usize, cap: f32, invCap: f32): void {
  const nh = h1 - h0;
  for (let h = h0; h < h1; h++) {
    const i = h - h0;
    memory.fill(accAt(ml, nh, headDim, i), 0, <usize>headDim << 2);
    store<f32>(mAt(ml, i), -Infinity);
    store<i32>(mAt(ml, i), 0, 4); // which buffer holds the sum: 0 accAt, 1 accAltAt
    store<f32>(lAt(ml, i), 0);
  }
  const kElem: usize = kF16 ? 2 : 4, vElem: usize = vF16 ? 2 : 4, lo = kvLo(h0, group, headDim), hi = kvHi(h1, group, headDim);
  const sink = scAt(ml, nh, headDim, scRow, nh);
  const sc = scAt(ml, nh, headDim, scRow, 0); // one block of scores, reused by every head
  touchRows(k, 0, ROWS, nCtx, kvDim, kElem, lo, hi, sink);
  touchRows(v, 0, ROWS, nCtx, kvDim, vElem, lo, hi, sink);
  for (let j0 = 0; j0 < nCtx; j0 += ROWS) {
    const jn = min(ROWS, nCtx - j0);
    for (let h = h0; h < h1; h++) {
      const i = h - h0, kvOff = (h / group) * headDim, first = accAt(ml, nh, headDim, i), second = accAltAt(ml, nh, headDim, scRow, i);
      let acc = load<i32>(mAt(ml, i), 4) != 0 ? second : first;
      scores(sc, qrAt(ml, nh, headDim, i), k, j0, jn, kvDim, kvOff, headDim, scale, kF16, cap, invCap, ORDER_VEC64);
      let m = load<f32>(mAt(ml, i)), l = load<f32>(lAt(ml, i));
      const vh = v + (<usize>j0 * <usize>kvDim + <usize>kvOff) * vElem, vRow = <usize>kvDim * vElem;
      // the running maximum first: each score becomes its exponent, Mold − M where it raises the maximum (a bit
      // in raised), s − M elsewhere, all f32 differences as ggml's; then the exponentials of the whole block
      let raised: u32 = 0;
      for (let j = 0; j < jn; j++) {
        const at = sc + (<usize>j << 2), s = load<f32>(at);
        if (s > m) {
          store<f32>(at, m - s);
          raised |= 1 << j;
          m = s;
        } else {
          store<f32>(at, s - m);
        }
      }
      // ggml: expf of the f32 difference; here e^x in f64, rounded once (libm's expf is correctly rounded but for
      // rare halfway cases)
      expBlock(sc, jn);
      // the next block's rows of this head's slice, a row per key: loads spread over the work hide their misses,
      // where one burst per block stalled (the weights streamed since the last token have evicted the cache)
      const jAhead = j0 + ROWS, kAhead = k + (<usize>jAhead * <usize>kvDim + <usize>kvOff) * kElem, kRow = <usize>kvDim * kElem;
      const vAhead = v + (<usize>jAhead * <usize>kvDim + <usize>kvOff) * vElem;
      let touched: u32 = 0;
      for (let j = 0; j < jn; j++) {
        if (jAhead + j < nCtx) touched |= touchSlice(kAhead + <usize>j * kRow, <usize>headDim * kElem) | touchSlice(vAhead + <usize>j * vRow, <usize>headDim * vElem);
        const e = load<f32>(sc + (<usize>j << 2));
        let ms: f32 = 1, vs: f32 = 1;
        if ((raised >> j) & 1) {
          ms = e;
          rescaleAcc(acc, ms, headDim, vF16);
        } else {
          vs = e;
        }
        if (vF16) { // the new sum goes to the other buffer
          const next = acc == first ? second : first;
          madAccF16(acc, next, vs, vh + <usize>j * vRow, headDim);
          acc = next;
        } else {
          madAccF32(acc, vs, vh + <usize>j * vRow, headDim);
        }
        // ggml's `S = S*ms + vs`, fused by its compiler
        l = ASC_FEATURE_RELAXED_SIMD ? f32x4.extract_lane(fma4(f32x4.splat(l), f32x4.splat(ms), f32x4.splat(vs)), 0) : fmaF32(l, ms, vs);
      }
      store<u32>(sink, touched);
      store<f32>(mAt(ml, i), m);
      store<i32>(mAt(ml, i), acc == second ? 1 : 0, 4);
      store<f32>(lAt(ml, i), l);
    }
  }
  for (let h = h0; h < h1; h++) {
    const i = h - h0, oh = out + ((<usize>h * <usize>headDim) << 2);
    const acc = load<i32>(mAt(ml, i), 4) != 0 ? accAltAt(ml, nh, headDim, scRow, i) : accAt(ml, nh, headDim, i);
    const sum = load<f32>(lAt(ml, i));
    const inv: f32 = sum == 0 ? 0 : <f32>1.0 / sum;
    for (let d = 0; d < headDim; d++) store<f32>(oh + (<usize>d << 2), load<f32>(acc + (<usize>d << 2)) * inv);
  }
}
