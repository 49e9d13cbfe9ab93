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
 * Flash attention (llama.cpp's CPU flash kernels, for `flashAttention: "on"`): the tiled kernel is
 * attention-flash-tiled.ts; the one-row kernel, with its f16 running sum, is attention-flash.ts. The standard
 * path with an f16 cache sums in llama.cpp's order (attention-ggml.ts). Shared pieces (scores, scratch layout, prefetch): attention-parts.ts.
 * The probability tap is served by the caller's reference path, not here.
 */

import { exp4, expF32, f16Lo, f16Hi, roundF16x4, roundRowF16 } from "./simd";
import { accAt, axpy, kvHi, kvLo, lAt, mAt, ORDER_OWN, qrAt, ROWS, scAt, scaleF64x4, scores, touchRows } from "./attention-parts";
import { headsVec } from "./attention-flash";
import { ggmlLaneFloats, headsGgml } from "./attention-ggml";
import { headsTiled, tiledScratchFloats } from "./attention-flash-tiled";

/** Positions per step of the F32-value path's online softmax (its rescaling points, so part of its rounding). */
const CHUNK: i32 = 64;

/** Floats of one score row (the F16-value path keeps a whole row per head; the F32 path one chunk). */
@inline function scoreRowFloats(nCtx: i32): i32 {
  return max(CHUNK, (nCtx + 31) & ~15) + 4; // room for attention-ggml.ts's 16-row groups (up to 15 floats ahead)
}

/**
 * Floats of scratch one call needs for contexts up to nCtx and up to nHeads query heads: per head its running
 * maximum and sum (4 floats), rounded q, the accumulator and one row of scores (the F16-value path keeps the
 * current row's scores, nCtx floats per head, so the second pass does not recompute them; never a whole
 * nTokens × nCtx matrix).
 */
export function attentionScratchFloats(headDim: i32, nCtx: i32, nHeads: i32): i32 {
  return max(nHeads * (4 + 2 * headDim + scoreRowFloats(nCtx)) + 4 + ggmlLaneFloats(headDim, nHeads), tiledScratchFloats(headDim, nCtx));
}

/** sc[0..jn) ← e^(sc − m), four lanes at a time (sc has room for whole vectors past jn). */
@inline function expChunk(sc: usize, jn: i32, m: f32): void {
  const mv = f32x4.splat(m);
  for (let j = 0; j < jn; j += 4) {
    const p = sc + (<usize>j << 2);
    v128.store(p, exp4(f32x4.sub(v128.load(p), mv)));
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
 * The one-pass online softmax, for query heads h0..h1 of one token: chunk by chunk of CHUNK cache rows (the
 * first chunk `phase` rows short, so later chunks start at multiples of CHUNK of the position), every head takes
 * its scores, rescales its accumulator when its maximum grows, and adds p·v in f32. The standard path with F32
 * values. Each head's arithmetic
 * is the same as if it ran alone; the heads share each chunk of cache rows while it is in cache.
 */
function headsOnePass(out: usize, k: usize, v: usize, nCtx: i32, kvDim: i32, group: i32, h0: i32, h1: i32, headDim: i32,
  scale: f64, kF16: bool, vF16: bool, ml: usize, scRow: usize, cap: f32, invCap: f32, phase: i32, bias: usize, span: i32, d0: i32): void {
  const nh = h1 - h0;
  for (let h = h0; h < h1; h++) {
    const i = h - h0;
    memory.fill(accAt(ml, nh, headDim, i), 0, <usize>headDim << 2);
    store<f32>(mAt(ml, i), -Infinity);
    store<f64>(lAt(ml, i), 0);
  }
  const kElem: usize = kF16 ? 2 : 4, vElem: usize = vF16 ? 2 : 4, lo = kvLo(h0, group, headDim), hi = kvHi(h1, group, headDim);
  const sink = scAt(ml, nh, headDim, scRow, nh); // the 4 floats past the score rows
  touchRows(k, 0, CHUNK, nCtx, kvDim, kElem, lo, hi, sink);
  touchRows(v, 0, CHUNK, nCtx, kvDim, vElem, lo, hi, sink);
  // the first chunk is shortened by `phase` so the rest start at multiples of CHUNK of the position
  for (let j0 = 0, jn = min(CHUNK - phase, nCtx); j0 < nCtx; j0 += jn, jn = min(CHUNK, nCtx - j0)) {
    touchRows(k, j0 + CHUNK, j0 + 2 * CHUNK, nCtx, kvDim, kElem, lo, hi, sink);
    touchRows(v, j0 + CHUNK, j0 + 2 * CHUNK, nCtx, kvDim, vElem, lo, hi, sink);
    for (let h = h0; h < h1; h++) {
      const i = h - h0, kvOff = (h / group) * headDim, acc = accAt(ml, nh, headDim, i), sc = scAt(ml, nh, headDim, scRow, 0);
      const cm = scores(sc, qrAt(ml, nh, headDim, i), k, j0, jn, kvDim, kvOff, headDim, scale, kF16, cap, invCap, ORDER_OWN, biasAt(bias, h, span), d0, span);
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
        axpy(acc, p, v + (<usize>(j0 + j) * <usize>kvDim + <usize>kvOff) * vElem, headDim, vF16);
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
  scale: f64, kF16: bool, ml: usize, scRow: usize, cap: f32, invCap: f32, bias: usize, span: i32, d0: i32): void {
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
      const cm = scores(scAt(ml, nh, headDim, scRow, i) + (<usize>j0 << 2), qrAt(ml, nh, headDim, i), k, j0, jn, kvDim, (h / group) * headDim, headDim, scale, kF16, cap, invCap,
        ORDER_OWN, biasAt(bias, h, span), d0, span);
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

/** Head h's bias at distance 0 in a (nHeads, 2·span + 1) f32 table at `bias`; 0 when there is no table. */
@inline function biasAt(bias: usize, h: i32, span: i32): usize {
  return bias == 0 ? 0 : bias + ((<usize>(h * (2 * span + 1) + span)) << 2);
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
 * flash: 0 the standard path, 1 llama.cpp's one-row flash kernel (headsVec; headDim a multiple of 8), 2 its
 * tiled flash kernel (headsTiled, every token of the call at once, q not rounded). Flash kernels scale the
 * scores as llama.cpp's does: s · f32(scale), or with a cap c · tanh(s · f32(scale / c)).
 * causal = 0: bidirectional (encoders): every token sees rows 0..startPos + nTokens − 1, or, with ranges ≠ 0
 * (an i32 pair per token), token t sees rows ranges[2t]..ranges[2t + 1] − 1 as a sequence of its own (several
 * texts packed into one call; flash tiles align to the range's first row).
 * bias ≠ 0: a relative-position bias table (nHeads, 2·span + 1) f32 (T5), added to each raw score by the
 * distance key row − query position (startPos + t), clamped to ±span; standard path only (flash = 0).
 * The standard causal path with f16 keys and values (headDim a multiple of 8, no bias) sums in llama.cpp's order
 * (attention-ggml.ts); its lanes follow positions (as kernels/ts/attention.ts), so a window-bounded cache gives
 * a full cache's results.
 */
export function attention(out: usize, q: usize, k: usize, v: usize, kvF16: i32, startPos: i32, nTokens: i32,
  nHeads: i32, nKvHeads: i32, headDim: i32, scale: f64, scratch: usize, h0: i32, h1: i32, cap: f32, window: i32, flash: i32, causal: i32,
  ranges: usize, bias: usize, span: i32): void {
  const kF16 = (kvF16 & 1) != 0, vF16 = (kvF16 & 2) != 0;
  const kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const nh = h1 - h0, scRow = <usize>scoreRowFloats(startPos + nTokens) << 2;
  const kRow = <usize>kvDim * (kF16 ? 2 : 4), vRow = <usize>kvDim * (vF16 ? 2 : 4);
  const ggml = kF16 && vF16 && causal != 0 && bias == 0 && (headDim & 7) == 0;
  let invCap: f32 = cap > 0 ? <f32>1.0 / cap : 0;
  if (flash != 0) {
    scale = <f64><f32>scale;
    if (cap > 0) { invCap = <f32>scale / cap; scale = 1; }
  }
  if (flash == 2 && causal != 0) { // llama.cpp's tiled kernel walks key tiles once for all the call's queries (packed bidirectional calls: per token below)
    headsTiled(out, q, k, v, startPos, nTokens, nHeads, kvDim, group, h0, h1, headDim, cap > 0 ? invCap : <f32>scale, kF16, vF16, cap, window, causal != 0, scratch);
    return;
  }
  for (let t = 0; t < nTokens; t++) {
    let nCtx = causal != 0 ? startPos + t + 1 : startPos + nTokens;
    let first = window > 0 && causal != 0 ? max(0, nCtx - window) : 0;
    let phase = first % CHUNK;
    if (ranges != 0) {
      first = load<i32>(ranges + (<usize>t << 3));
      nCtx = load<i32>(ranges + (<usize>t << 3), 4);
      phase = 0;
    }
    const qt = q + ((<usize>(t * nHeads) * <usize>headDim) << 2), ot = out + ((<usize>(t * nHeads) * <usize>headDim) << 2);
    const kt = k + <usize>first * kRow, vt = v + <usize>first * vRow;
    const d0 = first - (startPos + t);
    for (let h = h0; h < h1; h++) roundQuery(qrAt(scratch, nh, headDim, h - h0), qt + ((<usize>h * <usize>headDim) << 2), headDim, kF16 && flash != 2);
    if (flash == 1) headsVec(ot, kt, vt, nCtx - first, kvDim, group, h0, h1, headDim, scale, kF16, vF16, scratch, scRow, cap, invCap);
    else if (flash == 2) headsOnePass(ot, kt, vt, nCtx - first, kvDim, group, h0, h1, headDim, scale, kF16, vF16, scratch, scRow, cap, invCap, phase, 0, 0, 0);
    else if (ggml) headsGgml(ot, kt, vt, nCtx - first, kvDim, group, h0, h1, headDim, scale, scratch, scRow, cap, invCap, first, nTokens >= 2);
    else if (vF16) headsTwoPass(ot, kt, vt, nCtx - first, kvDim, group, h0, h1, headDim, scale, kF16, scratch, scRow, cap, invCap, bias, span, d0);
    else headsOnePass(ot, kt, vt, nCtx - first, kvDim, group, h0, h1, headDim, scale, kF16, false, scratch, scRow, cap, invCap, 0, bias, span, d0);
  }
}
