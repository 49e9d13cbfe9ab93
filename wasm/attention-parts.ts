/**
 * The pieces both attention kernels (attention.ts: the standard path and the tiled flash kernel;
 * attention-flash.ts: llama.cpp's one-row flash kernel) share: q·k scores four key rows at a time, p·v
 * accumulation, the per-call scratch layout and the cache-row prefetch. No kernel entry points here.
 */

import { f16Lo, f16Hi, f16ToF32 } from "./simd";
import { dotF32, dotF16 } from "./matmul-float";
import { dotF16Tiled16, dotF16Vec64 } from "./ggml-math";
import { tanhF32x4 } from "./exp-f64";

/** Cache rows per block of the F16-value and flash passes: every head of the call reads the block before the next. */
export const ROWS: i32 = 32;

/** Four lanes of f32 × an f64 scale, each product rounded to f32 (as f32(f64(x) · scale)). */
@inline export function scaleF64x4(d: v128, scale: f64): v128 {
  const s = f64x2.splat(scale);
  const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(d), s));
  const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 0, 1)), s));
  return v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
}

/** [Σ d0, Σ d1, Σ d2, Σ d3]: the lane sums of four vectors. */
@inline export function hsum4x4(d0: v128, d1: v128, d2: v128, d3: v128): v128 {
  const a = f32x4.add(v128.shuffle<f32>(d0, d1, 0, 4, 1, 5), v128.shuffle<f32>(d0, d1, 2, 6, 3, 7));
  const b = f32x4.add(v128.shuffle<f32>(d2, d3, 0, 4, 1, 5), v128.shuffle<f32>(d2, d3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(a, b, 0, 1, 4, 5), v128.shuffle<f32>(a, b, 2, 3, 6, 7));
}

/** q·k for the four f16 key rows at k, k + rs, k + 2rs, k + 3rs (headDim a multiple of 8). */
@inline export function dot4F16(k: usize, rs: usize, q: usize, headDim: i32): v128 {
  let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
  for (let i = 0; i < headDim; i += 8) {
    const ql = v128.load(q + (<usize>i << 2)), qh = v128.load(q + (<usize>i << 2), 16);
    const p = k + (<usize>i << 1);
    const h0 = v128.load(p), h1 = v128.load(p + rs), h2 = v128.load(p + 2 * rs), h3 = v128.load(p + 3 * rs);
    d0 = f32x4.add(d0, f32x4.add(f32x4.mul(f16Lo(h0), ql), f32x4.mul(f16Hi(h0), qh)));
    d1 = f32x4.add(d1, f32x4.add(f32x4.mul(f16Lo(h1), ql), f32x4.mul(f16Hi(h1), qh)));
    d2 = f32x4.add(d2, f32x4.add(f32x4.mul(f16Lo(h2), ql), f32x4.mul(f16Hi(h2), qh)));
    d3 = f32x4.add(d3, f32x4.add(f32x4.mul(f16Lo(h3), ql), f32x4.mul(f16Hi(h3), qh)));
  }
  return hsum4x4(d0, d1, d2, d3);
}

/** q·k for four f32 key rows (headDim a multiple of 4). */
@inline export function dot4F32(k: usize, rs: usize, q: usize, headDim: i32): v128 {
  let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
  for (let i = 0; i < headDim; i += 4) {
    const qv = v128.load(q + (<usize>i << 2));
    const p = k + (<usize>i << 2);
    d0 = f32x4.add(d0, f32x4.mul(v128.load(p), qv));
    d1 = f32x4.add(d1, f32x4.mul(v128.load(p + rs), qv));
    d2 = f32x4.add(d2, f32x4.mul(v128.load(p + 2 * rs), qv));
    d3 = f32x4.add(d3, f32x4.mul(v128.load(p + 3 * rs), qv));
  }
  return hsum4x4(d0, d1, d2, d3);
}

/** cap · tanh(s / cap) as llama.cpp's three f32 steps (s · (1/cap), tanh, · cap); invCap = f32(1/cap). */
@inline export function capScore(s: f32, cap: f32, invCap: f32): f32 {
  return <f32>Math.tanh(<f64>(s * invCap)) * cap; // tanh from f64, rounded once (as the reference)
}

/**
 * sc[j] ← f32(f64(capScore(sc[j])) · scale) for j in 0..jn, four lanes at a time (tanh by exp-f64.ts, the same
 * f32 values as capScore's Math.tanh), the tail one at a time; returns their maximum.
 */
function capBlock(sc: usize, jn: i32, cap: f32, invCap: f32, scale: f64): f32 {
  const iv = f32x4.splat(invCap), cv = f32x4.splat(cap);
  let mv = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= jn; j += 4) {
    const p = sc + (<usize>j << 2);
    const s = scaleF64x4(f32x4.mul(tanhF32x4(f32x4.mul(v128.load(p), iv)), cv), scale);
    v128.store(p, s);
    mv = f32x4.max(mv, s);
  }
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; j < jn; j++) {
    const p = sc + (<usize>j << 2);
    const s = <f32>(<f64>capScore(load<f32>(p), cap, invCap) * scale);
    store<f32>(p, s);
    m = max(m, s);
  }
  return m;
}

/** How scores(…) sums q·k over the head: Peel's own order, or llama.cpp's for f16 keys (ggml-math.ts). */
export const ORDER_OWN: i32 = 0, ORDER_VEC64: i32 = 1, ORDER_TILED16: i32 = 2;

/**
 * Scores sc[j] = f32(q·k[j0 + j]) · scale for j in 0..jn, four key rows at a time when headDim allows; returns
 * their maximum. With a soft cap (cap > 0) each raw score is capped (cap · tanh(s · invCap)) before the scale,
 * one lane at a time. order (f16 keys only): ORDER_VEC64 sums each q·k as ggml_vec_dot_f16 does, ORDER_TILED16
 * as tinyBLAS does (headDim a multiple of 16), one key row at a time. With a position bias (bias ≠ 0: the head's
 * bias at distance 0, f32 per distance, see biasedScores) the raw score takes its bias first (own order).
 */
export function scores(sc: usize, q: usize, k: usize, j0: i32, jn: i32, kvDim: i32, kvOff: i32, headDim: i32, scale: f64, kF16: bool, cap: f32, invCap: f32,
  order: i32, bias: usize = 0, d0: i32 = 0, span: i32 = 0): f32 {
  if (bias != 0) return biasedScores(sc, q, k, j0, jn, kvDim, kvOff, headDim, scale, kF16, cap, invCap, bias, d0, span);
  const elem: usize = kF16 ? 2 : 4;
  const rs = <usize>kvDim * elem;
  let j = 0;
  let mv = f32x4.splat(-Infinity);
  if (kF16 && order != ORDER_OWN) {
    let m: f32 = -Infinity;
    for (; j < jn; j++) {
      const row = k + (<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) * elem;
      const dot = order == ORDER_VEC64 ? dotF16Vec64(row, q, headDim, false) : dotF16Tiled16(row, q, headDim, false);
      if (cap > 0) { store<f32>(sc + (<usize>j << 2), dot); continue; } // capped below, the block at once
      const s = <f32>(<f64>dot * scale);
      store<f32>(sc + (<usize>j << 2), s);
      m = max(m, s);
    }
    return cap > 0 ? capBlock(sc, jn, cap, invCap, scale) : m;
  }
  if (cap > 0) {
    for (; j < jn; j++) {
      const row = k + (<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) * elem;
      store<f32>(sc + (<usize>j << 2), kF16 ? dotF16(row, q, headDim) : dotF32(row, q, headDim));
    }
    return capBlock(sc, jn, cap, invCap, scale);
  }
  if (kF16 ? (headDim & 7) == 0 : (headDim & 3) == 0) {
    for (; j + 4 <= jn; j += 4) {
      const row = k + (<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) * elem;
      const s = scaleF64x4(kF16 ? dot4F16(row, rs, q, headDim) : dot4F32(row, rs, q, headDim), scale);
      v128.store(sc + (<usize>j << 2), s);
      mv = f32x4.max(mv, s);
    }
  }
  let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; j < jn; j++) {
    const row = k + (<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) * elem;
    const dot = kF16 ? dotF16(row, q, headDim) : dotF32(row, q, headDim);
    const s = <f32>(<f64>dot * scale);
    store<f32>(sc + (<usize>j << 2), s);
    m = max(m, s);
  }
  return m;
}

/**
 * scores() with a relative-position bias (T5's, as llama.cpp adds its kq_b): key row j0 + j lies at distance
 * d = d0 + j0 + j from the query; its raw score (capped first where cap > 0) gains the f32 at bias + 4 ·
 * clamp(d, −span, span), then takes the scale: f32(f32(raw + b) · scale). Four key rows at a time for the dot
 * products when headDim allows, the rest lane by lane.
 */
function biasedScores(sc: usize, q: usize, k: usize, j0: i32, jn: i32, kvDim: i32, kvOff: i32, headDim: i32, scale: f64, kF16: bool, cap: f32, invCap: f32,
  bias: usize, d0: i32, span: i32): f32 {
  const elem: usize = kF16 ? 2 : 4;
  const rs = <usize>kvDim * elem;
  let m: f32 = -Infinity;
  let j = 0;
  if (kF16 ? (headDim & 7) == 0 : (headDim & 3) == 0) {
    for (; j + 4 <= jn; j += 4) {
      const row = k + (<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) * elem;
      v128.store(sc + (<usize>j << 2), kF16 ? dot4F16(row, rs, q, headDim) : dot4F32(row, rs, q, headDim));
    }
  }
  for (let i = j; i < jn; i++) {
    const row = k + (<usize>(j0 + i) * <usize>kvDim + <usize>kvOff) * elem;
    store<f32>(sc + (<usize>i << 2), kF16 ? dotF16(row, q, headDim) : dotF32(row, q, headDim));
  }
  for (let i = 0; i < jn; i++) {
    const p = sc + (<usize>i << 2);
    let raw = load<f32>(p);
    if (cap > 0) raw = capScore(raw, cap, invCap);
    const d = min(span, max(-span, d0 + j0 + i));
    const s = <f32>(<f64>(raw + load<f32>(bias + <usize>(d << 2))) * scale);
    store<f32>(p, s);
    m = max(m, s);
  }
  return m;
}

/** acc (n) += p · v (n), v in f32 or f16. */
@inline export function axpy(acc: usize, p: f32, v: usize, n: i32, vF16: bool): void {
  const pv = f32x4.splat(p);
  let i = 0;
  if (vF16) {
    for (; i + 8 <= n; i += 8) {
      const h = v128.load(v + (<usize>i << 1));
      const a = acc + (<usize>i << 2);
      v128.store(a, f32x4.add(v128.load(a), f32x4.mul(pv, f16Lo(h))));
      v128.store(a, f32x4.add(v128.load(a, 16), f32x4.mul(pv, f16Hi(h))), 16);
    }
    for (; i < n; i++) {
      const a = acc + (<usize>i << 2);
      store<f32>(a, load<f32>(a) + p * f16ToF32(load<u16>(v + (<usize>i << 1))));
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      const a = acc + (<usize>i << 2);
      v128.store(a, f32x4.add(v128.load(a), f32x4.mul(pv, v128.load(v + (<usize>i << 2)))));
    }
    for (; i < n; i++) {
      const a = acc + (<usize>i << 2);
      store<f32>(a, load<f32>(a) + p * load<f32>(v + (<usize>i << 2)));
    }
  }
}

/**
 * Per-call scratch, head i = h - h0 of the call: its running maximum (f32) and sum (f64) in a 16-byte record at
 * ml, then rounded queries (headDim floats each), accumulators (headDim floats each) and score rows (scRow bytes each).
 */
@inline export function mAt(ml: usize, i: i32): usize { return ml + (<usize>i << 4); }
@inline export function lAt(ml: usize, i: i32): usize { return ml + (<usize>i << 4) + 8; }
@inline export function qrAt(ml: usize, nh: i32, headDim: i32, i: i32): usize { return ml + (<usize>nh << 4) + (<usize>(i * headDim) << 2); }
@inline export function accAt(ml: usize, nh: i32, headDim: i32, i: i32): usize { return qrAt(ml, nh, headDim, nh + i); }
@inline export function scAt(ml: usize, nh: i32, headDim: i32, scRow: usize, i: i32): usize { return qrAt(ml, nh, headDim, 2 * nh) + <usize>i * scRow; }

/**
 * Reads one byte of every 64-byte line of cache rows j0..j1 (j1 capped at nCtx), columns lo..hi of kvDim,
 * elem bytes each, so the lines are in cache before the heads' strided passes reach them: these loads are
 * independent of each other, so the CPU keeps many misses in flight, which the per-head passes (a few short
 * slices per row) do not. The OR of the bytes goes to sink so the loads stay.
 */
export function touchRows(base: usize, j0: i32, j1: i32, nCtx: i32, kvDim: i32, elem: usize, lo: i32, hi: i32, sink: usize): void {
  const rowBytes = <usize>kvDim * elem, off = <usize>lo * elem, len = <usize>(hi - lo) * elem;
  let x: u32 = 0;
  for (let j = j0; j < min(j1, nCtx); j++) {
    x |= touchSlice(base + <usize>j * rowBytes + off, len);
  }
  store<u32>(sink, x);
}

/** One load per 64 bytes of [p, p + n), their bytes ORed (the caller stores the result, so the loads stay). */
@inline export function touchSlice(p: usize, n: usize): u32 {
  let x: u32 = 0;
  for (let b: usize = 0; b < n; b += 64) x |= load<u8>(p + b);
  return x;
}

/** First and one-past-last cache column read by query heads h0..h1 (their kv heads' slices). */
@inline export function kvLo(h0: i32, group: i32, headDim: i32): i32 { return (h0 / group) * headDim; }
@inline export function kvHi(h1: i32, group: i32, headDim: i32): i32 { return ((h1 - 1) / group + 1) * headDim; }
