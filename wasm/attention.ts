/**
 * Causal multi-head attention over the KV cache with an online (flash-style) softmax.
 *  - F32 values: one pass over chunks of CHUNK positions; a running maximum and sum are kept and the value
 *    accumulator is rescaled whenever the maximum grows, so only one chunk of scores is ever stored.
 *  - F16 values: llama.cpp (non-flash path, which the reference follows) rounds the *normalized* softmax
 *    weights to f16 before they multiply value rows, and rounding the unnormalized ones instead moves logits
 *    enough to flip 8-bit activation roundings downstream. So the scores of the current query row (nCtx
 *    floats, one row per head and thread — never the nTokens × nCtx matrix) are kept in scratch, then turned
 *    into exact rounded weights and accumulated against the values.
 * Scores are computed four key rows at a time (one lane each) when headDim allows, which is what keeps tiny
 * heads (headDim 8) cheap. GQA/MQA: query head h reads kv head h / (nHeads / nKvHeads).
 * With F16 keys, q is rounded to f16 before q·k, as llama.cpp does. Query heads h0..h1 only (thread split).
 * Cache walk: a head reads only 2·headDim (f16) bytes of each kvDim-wide cache row, so per-head passes read
 * memory in short strided slices, which the CPU does not prefetch: with a 110M model's 12 layers of cache out
 * of the CPU caches, a decode step's attention ran 4.5× slower than with the same cache hot. So all heads of a
 * call walk the rows together, block by block, and each block's lines are touched (one independent load per
 * 64 bytes) one block ahead. Each head's arithmetic is unchanged, so results are bitwise those of a head
 * computed alone.
 * The probability tap is served by the caller's reference path, not here.
 */

import { exp4, expF32, f16Lo, f16Hi, f16ToF32, roundF16x4, roundRowF16 } from "./simd";
import { dotF32, dotF16 } from "./matmul-float";

/** Positions per step of the F32-value path's online softmax (its rescaling points, so part of its rounding). */
const CHUNK: i32 = 64;
/** Cache rows per block of the F16-value path's passes: every head of the call reads the block before the next. */
const ROWS: i32 = 32;

/** Floats of one score row (the F16-value path keeps a whole row per head; the F32 path one chunk). */
@inline function scoreRowFloats(nCtx: i32): i32 {
  return max(CHUNK, (nCtx + 3) & ~3) + 4;
}

/**
 * Floats of scratch one call needs for contexts up to nCtx and up to nHeads query heads: per head its running
 * maximum and sum (4 floats), rounded q, the accumulator and one row of scores (the F16-value path keeps the
 * current row's scores, nCtx floats per head, so the second pass does not recompute them; never a whole
 * nTokens × nCtx matrix).
 */
export function attentionScratchFloats(headDim: i32, nCtx: i32, nHeads: i32): i32 {
  return nHeads * (4 + 2 * headDim + scoreRowFloats(nCtx)) + 4;
}

/** sc[0..jn) ← e^(sc − m), four lanes at a time (sc has room for whole vectors past jn). */
@inline function expChunk(sc: usize, jn: i32, m: f32): void {
  const mv = f32x4.splat(m);
  for (let j = 0; j < jn; j += 4) {
    const p = sc + (<usize>j << 2);
    v128.store(p, exp4(f32x4.sub(v128.load(p), mv)));
  }
}

/** Four lanes of f32 × an f64 scale, each product rounded to f32 (as f32(f64(x) · scale)). */
@inline function scaleF64x4(d: v128, scale: f64): v128 {
  const s = f64x2.splat(scale);
  const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(d), s));
  const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 0, 1)), s));
  return v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
}

/** [Σ d0, Σ d1, Σ d2, Σ d3]: the lane sums of four vectors. */
@inline function hsum4x4(d0: v128, d1: v128, d2: v128, d3: v128): v128 {
  const a = f32x4.add(v128.shuffle<f32>(d0, d1, 0, 4, 1, 5), v128.shuffle<f32>(d0, d1, 2, 6, 3, 7));
  const b = f32x4.add(v128.shuffle<f32>(d2, d3, 0, 4, 1, 5), v128.shuffle<f32>(d2, d3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(a, b, 0, 1, 4, 5), v128.shuffle<f32>(a, b, 2, 3, 6, 7));
}

/** q·k for the four f16 key rows at k, k + rs, k + 2rs, k + 3rs (headDim a multiple of 8). */
@inline function dot4F16(k: usize, rs: usize, q: usize, headDim: i32): v128 {
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
@inline function dot4F32(k: usize, rs: usize, q: usize, headDim: i32): v128 {
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
@inline function capScore(s: f32, cap: f32, invCap: f32): f32 {
  return <f32>Mathf.tanh(s * invCap) * cap;
}

/**
 * Scores sc[j] = f32(q·k[j0 + j]) · scale for j in 0..jn, four key rows at a time when headDim allows; returns
 * their maximum. With a soft cap (cap > 0) each raw score is capped before the scale, one lane at a time.
 */
function scores(sc: usize, q: usize, k: usize, j0: i32, jn: i32, kvDim: i32, kvOff: i32, headDim: i32, scale: f64, kF16: bool, cap: f32): f32 {
  const elem: usize = kF16 ? 2 : 4;
  const rs = <usize>kvDim * elem;
  let j = 0;
  let mv = f32x4.splat(-Infinity);
  if (cap > 0) {
    const invCap = <f32>1.0 / cap;
    let m: f32 = -Infinity;
    for (; j < jn; j++) {
      const row = k + (<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) * elem;
      const dot = kF16 ? dotF16(row, q, headDim) : dotF32(row, q, headDim);
      const s = <f32>(<f64>capScore(dot, cap, invCap) * scale);
      store<f32>(sc + (<usize>j << 2), s);
      m = max(m, s);
    }
    return m;
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

/** acc (n) += p · v (n), v in f32 or f16. */
@inline function axpy(acc: usize, p: f32, v: usize, n: i32, vF16: bool): void {
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

@inline function scaleRow(a: usize, f: f32, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(a + (<usize>i << 2), load<f32>(a + (<usize>i << 2)) * f);
}

/**
 * sc[0..n) ← e^(sc − m), returning Σ (in f64, position order), then sc[0..n) ← f16(f32(e · (1 / Σ))): the
 * normalized weights rounded as llama.cpp rounds them before they meet f16 values.
 */
function normalizedWeightsF16(sc: usize, n: i32, m: f32): void {
  const mv = f32x4.splat(m);
  let l: f64 = 0;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const p = sc + (<usize>j << 2);
    const e = exp4(f32x4.sub(v128.load(p), mv));
    v128.store(p, e);
    l += <f64>f32x4.extract_lane(e, 0); l += <f64>f32x4.extract_lane(e, 1);
    l += <f64>f32x4.extract_lane(e, 2); l += <f64>f32x4.extract_lane(e, 3);
  }
  for (; j < n; j++) {
    const p = sc + (<usize>j << 2);
    const e = expF32(load<f32>(p) - m);
    store<f32>(p, e);
    l += <f64>e;
  }
  const inv = 1.0 / l;
  // 0 ≤ e · inv ≤ 1: roundF16x4's range holds (the tail lanes past n are rounded too, never read)
  for (j = 0; j < n; j += 4) {
    const p = sc + (<usize>j << 2);
    v128.store(p, roundF16x4(scaleF64x4(v128.load(p), inv)));
  }
}

/**
 * Per-call scratch, head i = h - h0 of the call: its running maximum (f32) and sum (f64) in a 16-byte record at
 * ml, then rounded queries (headDim floats each), accumulators (headDim floats each) and score rows (scRow bytes each).
 */
@inline function mAt(ml: usize, i: i32): usize { return ml + (<usize>i << 4); }
@inline function lAt(ml: usize, i: i32): usize { return ml + (<usize>i << 4) + 8; }
@inline function qrAt(ml: usize, nh: i32, headDim: i32, i: i32): usize { return ml + (<usize>nh << 4) + (<usize>(i * headDim) << 2); }
@inline function accAt(ml: usize, nh: i32, headDim: i32, i: i32): usize { return qrAt(ml, nh, headDim, nh + i); }
@inline function scAt(ml: usize, nh: i32, headDim: i32, scRow: usize, i: i32): usize { return qrAt(ml, nh, headDim, 2 * nh) + <usize>i * scRow; }

/**
 * Reads one byte of every 64-byte line of cache rows j0..j1 (j1 capped at nCtx), columns lo..hi of kvDim,
 * elem bytes each, so the lines are in cache before the heads' strided passes reach them: these loads are
 * independent of each other, so the CPU keeps many misses in flight, which the per-head passes (a few short
 * slices per row) do not. The OR of the bytes goes to sink so the loads stay.
 */
function touchRows(base: usize, j0: i32, j1: i32, nCtx: i32, kvDim: i32, elem: usize, lo: i32, hi: i32, sink: usize): void {
  const rowBytes = <usize>kvDim * elem, off = <usize>lo * elem, len = <usize>(hi - lo) * elem;
  let x: u32 = 0;
  for (let j = j0; j < min(j1, nCtx); j++) {
    const row = base + <usize>j * rowBytes + off;
    for (let b: usize = 0; b < len; b += 64) x |= load<u8>(row + b);
  }
  store<u32>(sink, x);
}

/** First and one-past-last cache column read by query heads h0..h1 (their kv heads' slices). */
@inline function kvLo(h0: i32, group: i32, headDim: i32): i32 { return (h0 / group) * headDim; }
@inline function kvHi(h1: i32, group: i32, headDim: i32): i32 { return ((h1 - 1) / group + 1) * headDim; }

/**
 * F32 values, the one-pass online softmax, for query heads h0..h1 of one token: chunk by chunk of CHUNK cache
 * rows, every head takes its scores, rescales its accumulator when its maximum grows, and adds p·v. Each head's
 * arithmetic is the same as if it ran alone; the heads share each chunk of cache rows while it is in cache.
 */
function headsOnePass(out: usize, k: usize, v: usize, nCtx: i32, kvDim: i32, group: i32, h0: i32, h1: i32, headDim: i32,
  scale: f64, kF16: bool, ml: usize, scRow: usize, cap: f32): void {
  const nh = h1 - h0;
  for (let h = h0; h < h1; h++) {
    const i = h - h0;
    memory.fill(accAt(ml, nh, headDim, i), 0, <usize>headDim << 2);
    store<f32>(mAt(ml, i), -Infinity);
    store<f64>(lAt(ml, i), 0);
  }
  const kElem: usize = kF16 ? 2 : 4, lo = kvLo(h0, group, headDim), hi = kvHi(h1, group, headDim);
  const sink = scAt(ml, nh, headDim, scRow, nh); // the 4 floats past the score rows
  touchRows(k, 0, CHUNK, nCtx, kvDim, kElem, lo, hi, sink);
  touchRows(v, 0, CHUNK, nCtx, kvDim, 4, lo, hi, sink);
  for (let j0 = 0; j0 < nCtx; j0 += CHUNK) {
    const jn = min(CHUNK, nCtx - j0);
    touchRows(k, j0 + CHUNK, j0 + 2 * CHUNK, nCtx, kvDim, kElem, lo, hi, sink);
    touchRows(v, j0 + CHUNK, j0 + 2 * CHUNK, nCtx, kvDim, 4, lo, hi, sink);
    for (let h = h0; h < h1; h++) {
      const i = h - h0, kvOff = (h / group) * headDim, acc = accAt(ml, nh, headDim, i), sc = scAt(ml, nh, headDim, scRow, 0);
      const cm = scores(sc, qrAt(ml, nh, headDim, i), k, j0, jn, kvDim, kvOff, headDim, scale, kF16, cap);
      let m = load<f32>(mAt(ml, i));
      let l = load<f64>(lAt(ml, i));
      if (cm > m) {
        if (m != -Infinity) {
          const f = f32x4.extract_lane(exp4(f32x4.splat(m - cm)), 0);
          scaleRow(acc, f, headDim);
          l *= <f64>f;
        }
        m = cm;
      }
      expChunk(sc, jn, m);
      for (let j = 0; j < jn; j++) {
        const p = load<f32>(sc + (<usize>j << 2));
        l += <f64>p;
        axpy(acc, p, v + ((<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) << 2), headDim, false);
      }
      store<f32>(mAt(ml, i), m);
      store<f64>(lAt(ml, i), l);
    }
  }
  for (let h = h0; h < h1; h++) {
    const i = h - h0, acc = accAt(ml, nh, headDim, i), oh = out + ((<usize>h * <usize>headDim) << 2);
    const inv = <f32>(1.0 / load<f64>(lAt(ml, i)));
    for (let d = 0; d < headDim; d++) store<f32>(oh + (<usize>d << 2), load<f32>(acc + (<usize>d << 2)) * inv);
  }
}

/**
 * F16 values, for query heads h0..h1 of one token: each head's whole row of scores and its maximum (block by
 * block of ROWS cache rows, every head per block), its normalized f16-rounded weights, then Σ p·v (again block
 * by block, every head per block). Walking the cache rows once for all heads, instead of once per head, keeps
 * each row's slices in cache for the heads that follow: per head, a row is only 2·headDim bytes of a
 * 2·kvDim-byte row, and strided per-head passes ran 4× slower once the cache had left the CPU's caches (12 layers
 * of a 110M model's cache). Each head's arithmetic, and so its result, is the same as a head computed alone.
 */
function headsTwoPass(out: usize, k: usize, v: usize, nCtx: i32, kvDim: i32, group: i32, h0: i32, h1: i32, headDim: i32,
  scale: f64, kF16: bool, ml: usize, scRow: usize, cap: f32): void {
  const nh = h1 - h0;
  for (let h = h0; h < h1; h++) store<f32>(mAt(ml, h - h0), -Infinity);
  const kElem: usize = kF16 ? 2 : 4, lo = kvLo(h0, group, headDim), hi = kvHi(h1, group, headDim);
  const sink = scAt(ml, nh, headDim, scRow, nh); // the 4 floats past the score rows
  touchRows(k, 0, ROWS, nCtx, kvDim, kElem, lo, hi, sink);
  for (let j0 = 0; j0 < nCtx; j0 += ROWS) { // ROWS is a multiple of 4: rows keep the 4-row grouping of a whole-row pass
    const jn = min(ROWS, nCtx - j0);
    touchRows(k, j0 + ROWS, j0 + 2 * ROWS, nCtx, kvDim, kElem, lo, hi, sink);
    for (let h = h0; h < h1; h++) {
      const i = h - h0;
      const cm = scores(scAt(ml, nh, headDim, scRow, i) + (<usize>j0 << 2), qrAt(ml, nh, headDim, i), k, j0, jn, kvDim, (h / group) * headDim, headDim, scale, kF16, cap);
      store<f32>(mAt(ml, i), max(load<f32>(mAt(ml, i)), cm));
    }
  }
  for (let h = h0; h < h1; h++) {
    const i = h - h0;
    normalizedWeightsF16(scAt(ml, nh, headDim, scRow, i), nCtx, load<f32>(mAt(ml, i)));
    memory.fill(accAt(ml, nh, headDim, i), 0, <usize>headDim << 2);
  }
  touchRows(v, 0, ROWS, nCtx, kvDim, 2, lo, hi, sink);
  for (let j0 = 0; j0 < nCtx; j0 += ROWS) {
    const j1 = min(j0 + ROWS, nCtx);
    touchRows(v, j1, j1 + ROWS, nCtx, kvDim, 2, lo, hi, sink);
    for (let h = h0; h < h1; h++) {
      const i = h - h0, sc = scAt(ml, nh, headDim, scRow, i), acc = accAt(ml, nh, headDim, i), vh = v + ((<usize>(h / group) * <usize>headDim) << 1);
      if (headDim == 8) { // small heads (tiny models): the accumulator stays in registers within a block
        let a0 = v128.load(acc), a1 = v128.load(acc, 16);
        for (let j = j0; j < j1; j++) {
          const pv = v128.load32_splat(sc + (<usize>j << 2));
          const hv = v128.load(vh + ((<usize>j * <usize>kvDim) << 1));
          a0 = f32x4.add(a0, f32x4.mul(pv, f16Lo(hv)));
          a1 = f32x4.add(a1, f32x4.mul(pv, f16Hi(hv)));
        }
        v128.store(acc, a0);
        v128.store(acc, a1, 16);
      } else {
        for (let j = j0; j < j1; j++) axpy(acc, load<f32>(sc + (<usize>j << 2)), vh + ((<usize>j * <usize>kvDim) << 1), headDim, true);
      }
    }
  }
  for (let h = h0; h < h1; h++) memory.copy(out + ((<usize>h * <usize>headDim) << 2), accAt(ml, nh, headDim, h - h0), <usize>headDim << 2);
}

/** q of head h (f32 at qh) into qr, rounded to f16 when the keys are f16 (as llama.cpp rounds it). */
@inline function roundQuery(qr: usize, qh: usize, headDim: i32, kF16: bool): void {
  if (kF16) roundRowF16(qh, qr, headDim, 1);
  else memory.copy(qr, qh, <usize>headDim << 2);
}

/**
 * out, q: (nTokens, nHeads, headDim); k, v: (seqLen, nKvHeads·headDim) f32 or f16 (kvF16 bit 0: keys, bit 1:
 * values). Token t (position startPos + t) attends to cache rows 0..startPos + t, or with window > 0 to the
 * last `window` of them: the passes then start at the window's first row, as if the cache began there (the
 * same arithmetic over the rows a mask would keep). cap > 0 soft-caps the raw scores. Heads h0..h1 only;
 * scratch holds attentionScratchFloats(headDim, startPos + nTokens, h1 - h0) floats.
 */
export function attention(out: usize, q: usize, k: usize, v: usize, kvF16: i32, startPos: i32, nTokens: i32,
  nHeads: i32, nKvHeads: i32, headDim: i32, scale: f64, scratch: usize, h0: i32, h1: i32, cap: f32, window: i32): void {
  const kF16 = (kvF16 & 1) != 0, vF16 = (kvF16 & 2) != 0;
  const kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const nh = h1 - h0, scRow = <usize>scoreRowFloats(startPos + nTokens) << 2;
  const kRow = <usize>kvDim * (kF16 ? 2 : 4), vRow = <usize>kvDim * (vF16 ? 2 : 4);
  for (let t = 0; t < nTokens; t++) {
    const nCtx = startPos + t + 1;
    const first = window > 0 ? max(0, nCtx - window) : 0;
    const qt = q + ((<usize>(t * nHeads) * <usize>headDim) << 2), ot = out + ((<usize>(t * nHeads) * <usize>headDim) << 2);
    const kt = k + <usize>first * kRow, vt = v + <usize>first * vRow;
    for (let h = h0; h < h1; h++) roundQuery(qrAt(scratch, nh, headDim, h - h0), qt + ((<usize>h * <usize>headDim) << 2), headDim, kF16);
    if (vF16) headsTwoPass(ot, kt, vt, nCtx - first, kvDim, group, h0, h1, headDim, scale, kF16, scratch, scRow, cap);
    else headsOnePass(ot, kt, vt, nCtx - first, kvDim, group, h0, h1, headDim, scale, kF16, scratch, scRow, cap);
  }
}
