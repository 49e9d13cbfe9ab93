/**
 * llama.cpp's tiled flash attention kernel (ggml_compute_forward_flash_attn_ext_tiled with simd-gemm.h, taken for
 * micro-batches of ≥ 64 queries) in its own order of operations on AVX-512, as the reference's
 * ts/attention-flash.ts computes it:
 *  - q·k: q in f32, keys widened to f32, one fused multiply-add per element in order from element 0;
 *    then · f32(scale) (and the soft cap's tanh and · cap);
 *  - keys in tiles of 64 aligned to position 0: per query, the tile's maximum; on a new maximum M,
 *    ms = expf(Mold − M) scales the value sum and S (f32 products);
 *  - weights ggml_v_expf(s − M), summed in groups of 16 tile slots by the 16-lane reduction into an f64 tile sum,
 *    which S takes in one f32 addition (ggml_vec_soft_max_f32);
 *  - the value sum (the output row itself, f32) takes each key's v · p as one fused multiply-add per element,
 *    keys in order.
 * Fused multiply-adds: relaxed SIMD's madd in the relaxed build (a true FMA on CPUs with FMA, i.e. every x86-64
 * since 2013 and every ARMv8); in the baseline build a · b exact in f64, + c, rounded to f32, which is the FMA
 * but when that f64 sum falls exactly halfway between two f32 values (the reference's fmaF32 resolves those too).
 * Loop order: head, then key tile (its keys transposed once into scratch, 4 keys per vector), then the call's
 * queries two at a time (tileScores2, madKeys2: one load of a key or value vector serves both, and eight chains
 * of multiply-adds fit x64's registers, where one query's 32 lanes left V8 one accumulator on the stack and its
 * chain ran through memory: 128 causal tokens, 12 heads of 64, one thread 2.04 -> 1.07 ms). Query heads h0..h1
 * only (thread split).
 */

import { tanhF32x4 } from "./exp-f64";
import { f16Lo, f16Hi, f16ToF32 } from "./simd";
import { expf4GgmlMasked, fma4, fmaF32, reduce16 } from "./ggml-math";

const TILE: i32 = 64;

/** Floats of scratch headsTiled needs for up to nCtx positions and head size headDim. */
export function tiledScratchFloats(headDim: i32, nCtx: i32): i32 {
  return 2 * nCtx + 2 * TILE + 2 * TILE * headDim + 4;
}

/**
 * kt (headDim, 64) ← keys at positions tile + c for c in c0..c1 (f16 or f32 rows at k, position p at row p),
 * columns outside c0..c1 zero.
 */
function transposeTile(kt: usize, k: usize, kvDim: i32, kvOff: i32, headDim: i32, kF16: bool, tile: i32, c0: i32, c1: i32): void {
  memory.fill(kt, 0, <usize>(headDim * TILE) << 2);
  const elem: usize = kF16 ? 2 : 4;
  for (let c = c0; c < c1; c++) {
    const row = k + (<usize>(tile + c) * <usize>kvDim + <usize>kvOff) * elem;
    for (let d = 0; d < headDim; d++) {
      const x = kF16 ? f16ToF32(load<u16>(row + (<usize>d << 1))) : load<f32>(row + (<usize>d << 2));
      store<f32>(kt + (<usize>(d * TILE + c) << 2), x);
    }
  }
}

/** vt (64 rows of headDim f32) ← the f16 values at positions tile + c for c in c0..c1, widened (headDim a multiple of 8). */
function widenTile(vt: usize, v: usize, kvDim: i32, kvOff: i32, headDim: i32, tile: i32, c0: i32, c1: i32): void {
  for (let c = c0; c < c1; c++) {
    const row = v + (<usize>(tile + c) * <usize>kvDim + <usize>kvOff) * 2, dst = vt + (<usize>(c * headDim) << 2);
    for (let d = 0; d < headDim; d += 8) {
      const h = v128.load(row + (<usize>d << 1));
      v128.store(dst + (<usize>d << 2), f16Lo(h));
      v128.store(dst + (<usize>d << 2), f16Hi(h), 16);
    }
  }
}

/**
 * acc (headDim, a multiple of 32) ← fma(v_c, p_c, acc) for the keys c = ca..cb − 1 in order, with p_c = sc[c] and
 * v_c the f32 row at vt + c · rowBytes: madRow key after key, but 32 lanes at a time held in registers across the
 * keys instead of loaded and stored per key. Each lane takes the same multiply-adds in the same order.
 */
function madKeys(acc: usize, vt: usize, rowBytes: usize, sc: usize, ca: i32, cb: i32, headDim: i32): void {
  for (let d = 0; d < headDim; d += 32) {
    const o = acc + (<usize>d << 2);
    let a0 = v128.load(o), a1 = v128.load(o, 16), a2 = v128.load(o, 32), a3 = v128.load(o, 48);
    let a4 = v128.load(o, 64), a5 = v128.load(o, 80), a6 = v128.load(o, 96), a7 = v128.load(o, 112);
    for (let c = ca; c < cb; c++) {
      const pv = v128.load32_splat(sc + (<usize>c << 2)), r = vt + <usize>c * rowBytes + (<usize>d << 2);
      a0 = fma4(v128.load(r), pv, a0); a1 = fma4(v128.load(r, 16), pv, a1);
      a2 = fma4(v128.load(r, 32), pv, a2); a3 = fma4(v128.load(r, 48), pv, a3);
      a4 = fma4(v128.load(r, 64), pv, a4); a5 = fma4(v128.load(r, 80), pv, a5);
      a6 = fma4(v128.load(r, 96), pv, a6); a7 = fma4(v128.load(r, 112), pv, a7);
    }
    v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    v128.store(o, a4, 64); v128.store(o, a5, 80); v128.store(o, a6, 96); v128.store(o, a7, 112);
  }
}


/**
 * madKeys for two queries over the same value rows: acc0 takes keys c0a..c0b (weights sc0), acc1 keys c1a..c1b
 * (sc1), each in key order. Keys both take go through together, 16 lanes of each accumulator at a time (eight
 * chains, no spills; madKeys's 32 lanes of one kept one accumulator on the stack); a key only one takes, before
 * or after those, goes through madKeys. Each lane takes the same multiply-adds in the same order as madKeys.
 */
function madKeys2(acc0: usize, acc1: usize, vt: usize, rowBytes: usize, sc0: usize, sc1: usize, c0a: i32, c0b: i32, c1a: i32, c1b: i32, headDim: i32): void {
  const ja = max(c0a, c1a), jb = min(c0b, c1b);
  if (ja >= jb) { // no key in common
    madKeys(acc0, vt, rowBytes, sc0, c0a, c0b, headDim);
    madKeys(acc1, vt, rowBytes, sc1, c1a, c1b, headDim);
    return;
  }
  if (c0a < ja) madKeys(acc0, vt, rowBytes, sc0, c0a, ja, headDim);
  if (c1a < ja) madKeys(acc1, vt, rowBytes, sc1, c1a, ja, headDim);
  for (let d = 0; d < headDim; d += 16) {
    const o0 = acc0 + (<usize>d << 2), o1 = acc1 + (<usize>d << 2);
    let a0 = v128.load(o0), a1 = v128.load(o0, 16), a2 = v128.load(o0, 32), a3 = v128.load(o0, 48);
    let b0 = v128.load(o1), b1 = v128.load(o1, 16), b2 = v128.load(o1, 32), b3 = v128.load(o1, 48);
    for (let c = ja; c < jb; c++) {
      const p0 = v128.load32_splat(sc0 + (<usize>c << 2)), p1 = v128.load32_splat(sc1 + (<usize>c << 2));
      const r = vt + <usize>c * rowBytes + (<usize>d << 2);
      const v0 = v128.load(r), v1 = v128.load(r, 16), v2 = v128.load(r, 32), v3 = v128.load(r, 48);
      a0 = fma4(v0, p0, a0); b0 = fma4(v0, p1, b0); a1 = fma4(v1, p0, a1); b1 = fma4(v1, p1, b1);
      a2 = fma4(v2, p0, a2); b2 = fma4(v2, p1, b2); a3 = fma4(v3, p0, a3); b3 = fma4(v3, p1, b3);
    }
    v128.store(o0, a0); v128.store(o0, a1, 16); v128.store(o0, a2, 32); v128.store(o0, a3, 48);
    v128.store(o1, b0); v128.store(o1, b1, 16); v128.store(o1, b2, 32); v128.store(o1, b3, 48);
  }
  if (jb < c0b) madKeys(acc0, vt, rowBytes, sc0, jb, c0b, headDim);
  if (jb < c1b) madKeys(acc1, vt, rowBytes, sc1, jb, c1b, headDim);
}

/** acc (n) ← fma(v, p, acc) per element, v one f16 or f32 row. */
@inline function madRow(acc: usize, v: usize, p: f32, n: i32, vF16: bool): void {
  const pv = f32x4.splat(p);
  let i = 0;
  if (vF16) {
    for (; i + 8 <= n; i += 8) {
      const h = v128.load(v + (<usize>i << 1));
      const a = acc + (<usize>i << 2);
      v128.store(a, fma4(f16Lo(h), pv, v128.load(a)));
      v128.store(a, fma4(f16Hi(h), pv, v128.load(a, 16)), 16);
    }
  }
  for (; i + 4 <= n; i += 4) {
    const a = acc + (<usize>i << 2);
    const vv = vF16 ? f32x4(f16ToF32(load<u16>(v + (<usize>i << 1))), f16ToF32(load<u16>(v + (<usize>i << 1), 2)),
      f16ToF32(load<u16>(v + (<usize>i << 1), 4)), f16ToF32(load<u16>(v + (<usize>i << 1), 6))) : v128.load(v + (<usize>i << 2));
    v128.store(a, fma4(vv, pv, v128.load(a)));
  }
  for (; i < n; i++) {
    const a = acc + (<usize>i << 2);
    store<f32>(a, fmaF32(vF16 ? f16ToF32(load<u16>(v + (<usize>i << 1))) : load<f32>(v + (<usize>i << 2)), p, load<f32>(a)));
  }
}

/**
 * One query row (q, f32) against tile slots c0..c1 (kt transposed), four keys per vector; scores into sc[c]
 * (−∞ elsewhere, as ggml pads and masks); returns their maximum. Each key's sum is one chain of fused
 * multiply-adds over d (ggml's order), so 32 keys (eight vectors) go through the d loop together: eight
 * independent chains keep both multiply-add units busy through each one's latency (four chains waited on it).
 */
function tileScores(sc: usize, kt: usize, q: usize, headDim: i32, c0: i32, c1: i32, scale: f32, cap: f32): f32 {
  let m = f32x4.splat(-Infinity);
  for (let c = 0; c < TILE; c += 32) {
    if (c + 32 <= c0 || c >= c1) {
      const ninf = f32x4.splat(-Infinity), p = sc + (<usize>c << 2);
      for (let i: usize = 0; i < 128; i += 16) v128.store(p + i, ninf);
      continue;
    }
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (let d = 0; d < headDim; d++) {
      const qd = v128.load32_splat(q + (<usize>d << 2)), row = kt + (<usize>(d * TILE + c) << 2);
      a0 = fma4(qd, v128.load(row), a0); a1 = fma4(qd, v128.load(row, 16), a1);
      a2 = fma4(qd, v128.load(row, 32), a2); a3 = fma4(qd, v128.load(row, 48), a3);
      a4 = fma4(qd, v128.load(row, 64), a4); a5 = fma4(qd, v128.load(row, 80), a5);
      a6 = fma4(qd, v128.load(row, 96), a6); a7 = fma4(qd, v128.load(row, 112), a7);
    }
    m = f32x4.max(m, putScores4(sc, c, c0, c1, a0, scale, cap)); m = f32x4.max(m, putScores4(sc, c + 4, c0, c1, a1, scale, cap));
    m = f32x4.max(m, putScores4(sc, c + 8, c0, c1, a2, scale, cap)); m = f32x4.max(m, putScores4(sc, c + 12, c0, c1, a3, scale, cap));
    m = f32x4.max(m, putScores4(sc, c + 16, c0, c1, a4, scale, cap)); m = f32x4.max(m, putScores4(sc, c + 20, c0, c1, a5, scale, cap));
    m = f32x4.max(m, putScores4(sc, c + 24, c0, c1, a6, scale, cap)); m = f32x4.max(m, putScores4(sc, c + 28, c0, c1, a7, scale, cap));
  }
  return max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}


/**
 * tileScores for two queries (q0 into sc0 over slots a0..b0, q1 into sc1 over a1..b1) sharing each key load:
 * 16 keys a pass, four chains per query. Each key's sum is the same chain as tileScores's. Maxima to mx, mx + 4.
 */
function tileScores2(sc0: usize, sc1: usize, kt: usize, q0: usize, q1: usize, headDim: i32, a0: i32, b0: i32, a1: i32, b1: i32, scale: f32, cap: f32, mx: usize): void {
  let m0 = f32x4.splat(-Infinity), m1 = m0;
  const lo = min(a0, a1), hi = max(b0, b1);
  for (let c = 0; c < TILE; c += 16) {
    if (c + 16 <= lo || c >= hi) {
      const ninf = f32x4.splat(-Infinity), p0 = sc0 + (<usize>c << 2), p1 = sc1 + (<usize>c << 2);
      for (let i: usize = 0; i < 64; i += 16) { v128.store(p0 + i, ninf); v128.store(p1 + i, ninf); }
      continue;
    }
    let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, y0 = x0, y1 = x0, y2 = x0, y3 = x0;
    for (let d = 0; d < headDim; d++) {
      const qa = v128.load32_splat(q0 + (<usize>d << 2)), qb = v128.load32_splat(q1 + (<usize>d << 2)), row = kt + (<usize>(d * TILE + c) << 2);
      const k0 = v128.load(row), k1 = v128.load(row, 16), k2 = v128.load(row, 32), k3 = v128.load(row, 48);
      x0 = fma4(qa, k0, x0); y0 = fma4(qb, k0, y0); x1 = fma4(qa, k1, x1); y1 = fma4(qb, k1, y1);
      x2 = fma4(qa, k2, x2); y2 = fma4(qb, k2, y2); x3 = fma4(qa, k3, x3); y3 = fma4(qb, k3, y3);
    }
    m0 = f32x4.max(m0, putScores4(sc0, c, a0, b0, x0, scale, cap)); m0 = f32x4.max(m0, putScores4(sc0, c + 4, a0, b0, x1, scale, cap));
    m0 = f32x4.max(m0, putScores4(sc0, c + 8, a0, b0, x2, scale, cap)); m0 = f32x4.max(m0, putScores4(sc0, c + 12, a0, b0, x3, scale, cap));
    m1 = f32x4.max(m1, putScores4(sc1, c, a1, b1, y0, scale, cap)); m1 = f32x4.max(m1, putScores4(sc1, c + 4, a1, b1, y1, scale, cap));
    m1 = f32x4.max(m1, putScores4(sc1, c + 8, a1, b1, y2, scale, cap)); m1 = f32x4.max(m1, putScores4(sc1, c + 12, a1, b1, y3, scale, cap));
  }
  store<f32>(mx, max(max(f32x4.extract_lane(m0, 0), f32x4.extract_lane(m0, 1)), max(f32x4.extract_lane(m0, 2), f32x4.extract_lane(m0, 3))));
  store<f32>(mx, max(max(f32x4.extract_lane(m1, 0), f32x4.extract_lane(m1, 1)), max(f32x4.extract_lane(m1, 2), f32x4.extract_lane(m1, 3))), 4);
}

/**
 * Four keys' sums (slots c..c + 3) scaled (and capped) into sc, −∞ outside c0..c1; returns what it stored.
 * (Scores are finite or −∞, so the lane maximum is the scalar one's; a ±0 tie cannot change exp(s − max).)
 */
@inline function putScores4(sc: usize, c: i32, c0: i32, c1: i32, acc: v128, scale: f32, cap: f32): v128 {
  let sv = f32x4.mul(acc, f32x4.splat(scale));
  if (cap > 0) sv = f32x4.mul(f32x4.splat(cap), tanhF32x4(sv)); // tanh from f64, rounded once (exp-f64.ts)
  const idx = i32x4.add(i32x4.splat(c), i32x4(0, 1, 2, 3));
  const inside = v128.and(i32x4.ge_s(idx, i32x4.splat(c0)), i32x4.lt_s(idx, i32x4.splat(c1)));
  const x = v128.bitselect(sv, f32x4.splat(-Infinity), inside);
  v128.store(sc + (<usize>c << 2), x);
  return x;
}

/**
 * out, q: (nTokens, nHeads, headDim); k, v: position p at row p. Token t (position startPos + t) sees positions
 * first(t)..nCtx(t) − 1 (causal, with an optional window) or 0..startPos + nTokens − 1 (causal = 0). scale is
 * f32(scale) (the cap folded in: scale / cap, as llama.cpp does); ml: tiledScratchFloats(headDim,
 * startPos + nTokens) floats.
 */
export function headsTiled(out: usize, q: usize, k: usize, v: usize, startPos: i32, nTokens: i32, nHeads: i32, kvDim: i32,
  group: i32, h0: i32, h1: i32, headDim: i32, scale: f32, kF16: bool, vF16: bool, cap: f32, window: i32, causal: bool, ml: usize): void {
  const nAll = startPos + nTokens;
  const msAt = ml, sc = ml + (<usize>(2 * nAll) << 2), sc2 = sc + (<usize>TILE << 2), kt = sc2 + (<usize>TILE << 2), vt = kt + (<usize>(TILE * headDim) << 2);
  const mx = vt + (<usize>(TILE * headDim) << 2); // tileScores2's two maxima
  // values as f32 rows in registers across a tile's keys (madKeys): f16 values widened once per tile into vt
  const blocked = (headDim & 31) == 0, widen = blocked && vF16;
  const vElem: usize = vF16 ? 2 : 4, qRow = <usize>(nHeads * headDim) << 2;
  for (let h = h0; h < h1; h++) {
    const kvOff = (h / group) * headDim;
    for (let t = 0; t < nTokens; t++) {
      store<f32>(msAt + (<usize>(2 * t) << 2), -Infinity);
      store<f32>(msAt + (<usize>(2 * t + 1) << 2), 0);
      memory.fill(out + <usize>t * qRow + ((<usize>(h * headDim)) << 2), 0, <usize>headDim << 2);
    }
    const lo = firstKey(0, startPos, nTokens, window, causal);
    for (let tile = lo - lo % TILE; tile < nAll; tile += TILE) {
      transposeTile(kt, k, kvDim, kvOff, headDim, kF16, tile, max(lo, tile) - tile, min(TILE, nAll - tile));
      if (widen) widenTile(vt, v, kvDim, kvOff, headDim, tile, max(lo, tile) - tile, min(TILE, nAll - tile));
      for (let t = 0; t < nTokens; t++) {
        const j0 = firstKey(t, startPos, nTokens, window, causal), nCtx = causal ? startPos + t + 1 : nAll;
        const a = max(tile, j0), b = min(tile + TILE, nCtx);
        if (a >= b) continue;
        const qh = q + <usize>t * qRow + ((<usize>(h * headDim)) << 2), acc = out + <usize>t * qRow + ((<usize>(h * headDim)) << 2);
        if (t + 1 < nTokens) {
          const j1 = firstKey(t + 1, startPos, nTokens, window, causal), nCtx1 = causal ? startPos + t + 2 : nAll;
          const a1 = max(tile, j1), b1 = min(tile + TILE, nCtx1);
          if (a1 < b1) {
            const qh1 = qh + qRow, acc1 = acc + qRow;
            tileScores2(sc, sc2, kt, qh, qh1, headDim, a - tile, b - tile, a1 - tile, b1 - tile, scale, cap, mx);
            softmaxStep(acc, sc, msAt + (<usize>(2 * t) << 2), load<f32>(mx), headDim);
            softmaxStep(acc1, sc2, msAt + (<usize>(2 * t + 2) << 2), load<f32>(mx, 4), headDim);
            if (widen) {
              madKeys2(acc, acc1, vt, <usize>headDim << 2, sc, sc2, a - tile, b - tile, a1 - tile, b1 - tile, headDim);
            } else if (blocked) {
              madKeys2(acc, acc1, v + (<usize>tile * <usize>kvDim + <usize>kvOff) * 4, <usize>kvDim << 2, sc, sc2, a - tile, b - tile, a1 - tile, b1 - tile, headDim);
            } else {
              valueSums(acc, sc, a, b, tile, false, false, vt, v, kvDim, kvOff, headDim, vF16, vElem);
              valueSums(acc1, sc2, a1, b1, tile, false, false, vt, v, kvDim, kvOff, headDim, vF16, vElem);
            }
            t++;
            continue;
          }
        }
        const tileMax = tileScores(sc, kt, qh, headDim, a - tile, b - tile, scale, cap);
        softmaxStep(acc, sc, msAt + (<usize>(2 * t) << 2), tileMax, headDim);
        valueSums(acc, sc, a, b, tile, widen, blocked, vt, v, kvDim, kvOff, headDim, vF16, vElem);
      }
    }
    for (let t = 0; t < nTokens; t++) {
      const s = load<f32>(msAt + (<usize>(2 * t + 1) << 2));
      const inv: f32 = s == 0 ? 0 : <f32>1.0 / s;
      const acc = out + <usize>t * qRow + ((<usize>(h * headDim)) << 2);
      for (let d = 0; d < headDim; d++) store<f32>(acc + (<usize>d << 2), load<f32>(acc + (<usize>d << 2)) * inv);
    }
  }
}


/** A query's running maximum and sum (at ms: m, s) after a tile whose scores (sc) peak at tileMax; the scores become weights. */
@inline function softmaxStep(acc: usize, sc: usize, ms: usize, tileMax: f32, headDim: i32): void {
  let m = load<f32>(ms), s = load<f32>(ms, 4);
  if (tileMax > m) {
    const e = <f32>Math.exp(<f64>(m - tileMax));
    const ev = f32x4.splat(e);
    for (let d = 0; d < headDim; d += 4) v128.store(acc + (<usize>d << 2), f32x4.mul(v128.load(acc + (<usize>d << 2)), ev));
    s *= e;
    m = tileMax;
  }
  let tileSum: f64 = 0;
  const mv = f32x4.splat(m);
  for (let c = 0; c < TILE; c += 4) { // −∞ slots give 0 (ggml_v_expf's underflow branch)
    const p = sc + (<usize>c << 2);
    v128.store(p, expf4GgmlMasked(f32x4.sub(v128.load(p), mv)));
  }
  for (let g = 0; g < TILE; g += 16) {
    const p = sc + (<usize>g << 2);
    tileSum += <f64>reduce16(v128.load(p), v128.load(p, 16), v128.load(p, 32), v128.load(p, 48));
  }
  store<f32>(ms, m);
  store<f32>(ms, <f32>(<f64>s + tileSum), 4);
}

/** One query's value sum (acc) over keys a..b of the tile, weights sc. */
@inline function valueSums(acc: usize, sc: usize, a: i32, b: i32, tile: i32, widen: bool, blocked: bool, vt: usize, v: usize, kvDim: i32, kvOff: i32, headDim: i32, vF16: bool, vElem: usize): void {
  if (widen) {
    madKeys(acc, vt, <usize>headDim << 2, sc, a - tile, b - tile, headDim);
  } else if (blocked) { // f32 values: their cache rows as they are
    madKeys(acc, v + (<usize>tile * <usize>kvDim + <usize>kvOff) * 4, <usize>kvDim << 2, sc, a - tile, b - tile, headDim);
  } else {
    for (let j = a; j < b; j++) {
      madRow(acc, v + (<usize>j * <usize>kvDim + <usize>kvOff) * vElem, load<f32>(sc + (<usize>(j - tile) << 2)), headDim, vF16);
    }
  }
}

/** First position token t sees. */
@inline function firstKey(t: i32, startPos: i32, nTokens: i32, window: i32, causal: bool): i32 {
  return window > 0 && causal ? max(0, startPos + t + 1 - window) : 0;
}
