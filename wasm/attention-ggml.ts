/**
 * The standard (non-flash) causal attention path with an f16 cache, in llama.cpp's own order of additions on
 * its x86 AVX-512 build, as the reference's ts/attention.ts computes it, so both give llama.cpp's numbers to
 * the bit:
 *  - q·k: f16(q) · k summed as ggml_vec_dot_f16 (one query token) or tinyBLAS (two or more, headDim % 16 == 0);
 *  - softmax: ggml_v_expf(s − max) on every visible cache row, summed in groups of 16 cache rows (aligned to
 *    cache row 0; rows outside the window are 0) by _mm512_reduce_add_ps, each group added to an f64 total,
 *    then every weight times f32(1 / total), rounded to f16;
 *  - p·v: cache row r adds its f16(p) · v to lane r mod 64 (one token) or r mod 16 (two or more), each lane in
 *    f32 (the products are exact), and the lanes are reduced as ggml reduces them.
 * Rows are walked block by block for all heads of the call, as attention.ts's two-pass path does. The softmax's
 * exponential is ggml-math.ts expf4Ggml (its fused multiply-adds: see fma4).
 */

import { f16Lo, f16Hi, roundF16x4 } from "./simd";
import { expf4Ggml, maddExact, reduce16 } from "./ggml-math";
import { kvHi, kvLo, mAt, ORDER_TILED16, ORDER_VEC64, qrAt, ROWS, scAt, scores, touchRows } from "./attention-parts";

/** Lanes of the widest p·v accumulator (ggml_vec_dot_f16's 64). */
export const PV_LANES: i32 = 64;

/** Head i's p·v lane accumulators (PV_LANES rows of headDim floats), past the call's score rows and sink. */
@inline function lanesAt(ml: usize, nh: i32, headDim: i32, scRow: usize, i: i32): usize {
  return scAt(ml, nh, headDim, scRow, nh) + 16 + ((<usize>i * <usize>PV_LANES * <usize>headDim) << 2);
}

/** Floats headsGgml needs beyond attention.ts's layout: the lane accumulators of nHeads heads. */
export function ggmlLaneFloats(headDim: i32, nHeads: i32): i32 {
  return nHeads * PV_LANES * headDim;
}

/**
 * sc: a score row laid out so that 16-row groups of the cache start at multiples of 16 floats (the n scores
 * from float ph on, ph = the first row's cache row mod 16). Replaces them by f16(f32(e · f32(1 / Σ))) with
 * e = ggml_v_expf(s − m), Σ taken group by group as ggml_soft_max does; zeroes the rest of the groups.
 */
function softmaxGgml(sc: usize, ph: i32, n: i32, m: f32): void {
  const end = ph + n, endR = (end + 15) & ~15;
  for (let j = 0; j < (ph & ~3); j++) store<f32>(sc + (<usize>j << 2), 0);
  for (let j = (end + 3) & ~3; j < endR; j++) store<f32>(sc + (<usize>j << 2), 0);
  const mv = f32x4.splat(m);
  for (let j = ph & ~3; j < end; j += 4) { // the lanes outside ph..end are zeroed again below
    const p = sc + (<usize>j << 2);
    v128.store(p, expf4Ggml(f32x4.sub(v128.load(p), mv)));
  }
  for (let j = ph & ~3; j < ph; j++) store<f32>(sc + (<usize>j << 2), 0);
  for (let j = end; j < ((end + 3) & ~3); j++) store<f32>(sc + (<usize>j << 2), 0);
  let sum: f64 = 0;
  for (let g = 0; g < endR; g += 16) {
    const p = sc + (<usize>g << 2);
    sum += <f64>reduce16(v128.load(p), v128.load(p, 16), v128.load(p, 32), v128.load(p, 48));
  }
  const inv = f32x4.splat(<f32>(1.0 / sum));
  // 0 ≤ e · inv ≤ 1: roundF16x4's range holds; the zeroed pads stay 0
  for (let g = 0; g < endR; g += 4) {
    const p = sc + (<usize>g << 2);
    v128.store(p, roundF16x4(f32x4.mul(v128.load(p), inv)));
  }
}

/** lane (headDim) += p · v (f16 values at v), in f32: the products f16 × f16 are exact. */
@inline function laneAxpy(lane: usize, p: f32, v: usize, n: i32): void {
  const pv = f32x4.splat(p);
  for (let i = 0; i < n; i += 8) {
    const h = v128.load(v + (<usize>i << 1));
    const a = lane + (<usize>i << 2);
    v128.store(a, maddExact(v128.load(a), pv, f16Lo(h)));
    v128.store(a, maddExact(v128.load(a, 16), pv, f16Hi(h)), 16);
  }
}

/** a (n) ← a + b, four lanes at a time. */
@inline function addRows(a: usize, b: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(a + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
}

/**
 * out (headDim) ← the lanes (nl = 64 or 16 rows of headDim at ln) reduced as ggml does: for 64,
 * (l + l+32) + (l+16 + l+48) for l < 16 first; then halves of 8, of 4, and (0 + 2) + (1 + 3). Overwrites the lanes.
 */
function reduceLanes(out: usize, ln: usize, nl: i32, headDim: i32): void {
  const row = <usize>headDim << 2;
  if (nl == 64) {
    for (let l = 0; l < 16; l++) {
      const a = ln + <usize>l * row;
      addRows(a, a + 32 * row, headDim);
      addRows(a + 16 * row, a + 48 * row, headDim);
      addRows(a, a + 16 * row, headDim);
    }
  }
  for (let l = 0; l < 8; l++) addRows(ln + <usize>l * row, ln + <usize>(l + 8) * row, headDim);
  for (let l = 0; l < 4; l++) addRows(ln + <usize>l * row, ln + <usize>(l + 4) * row, headDim);
  addRows(ln, ln + 2 * row, headDim);
  addRows(ln + row, ln + 3 * row, headDim);
  addRows(ln, ln + row, headDim);
  memory.copy(out, ln, row);
}

/**
 * Query heads h0..h1 of one token over cache rows 0..n (k, v at the first visible row, which is cache row
 * row0), f16 keys and values; tiled: the call has two or more query tokens (tinyBLAS's orders). headDim is a
 * multiple of 8. Scratch as attention.ts's, plus ggmlLaneFloats.
 */
export function headsGgml(out: usize, k: usize, v: usize, n: i32, kvDim: i32, group: i32, h0: i32, h1: i32, headDim: i32,
  scale: f64, ml: usize, scRow: usize, cap: f32, invCap: f32, row0: i32, tiled: bool): void {
  const nh = h1 - h0;
  const order = tiled && (headDim & 15) == 0 ? ORDER_TILED16 : ORDER_VEC64;
  const nl = tiled ? 16 : PV_LANES, ph = row0 & 15, phL = row0 & (nl - 1);
  for (let h = h0; h < h1; h++) store<f32>(mAt(ml, h - h0), -Infinity);
  const lo = kvLo(h0, group, headDim), hi = kvHi(h1, group, headDim);
  const sink = scAt(ml, nh, headDim, scRow, nh);
  touchRows(k, 0, ROWS, n, kvDim, 2, lo, hi, sink);
  for (let j0 = 0; j0 < n; j0 += ROWS) {
    const jn = min(ROWS, n - j0);
    touchRows(k, j0 + ROWS, j0 + 2 * ROWS, n, kvDim, 2, lo, hi, sink);
    for (let h = h0; h < h1; h++) {
      const i = h - h0;
      const sc = scAt(ml, nh, headDim, scRow, i) + (<usize>(ph + j0) << 2);
      const cm = scores(sc, qrAt(ml, nh, headDim, i), k, j0, jn, kvDim, (h / group) * headDim, headDim, scale, true, cap, invCap, order);
      store<f32>(mAt(ml, i), max(load<f32>(mAt(ml, i)), cm));
    }
  }
  for (let h = h0; h < h1; h++) {
    const i = h - h0;
    softmaxGgml(scAt(ml, nh, headDim, scRow, i), ph, n, load<f32>(mAt(ml, i)));
    memory.fill(lanesAt(ml, nh, headDim, scRow, i), 0, <usize>(nl * headDim) << 2);
  }
  const row = <usize>headDim << 2;
  touchRows(v, 0, ROWS, n, kvDim, 2, lo, hi, sink);
  for (let j0 = 0; j0 < n; j0 += ROWS) {
    const j1 = min(j0 + ROWS, n);
    touchRows(v, j1, j1 + ROWS, n, kvDim, 2, lo, hi, sink);
    for (let h = h0; h < h1; h++) {
      const i = h - h0, sc = scAt(ml, nh, headDim, scRow, i) + (<usize>ph << 2), ln = lanesAt(ml, nh, headDim, scRow, i);
      const vh = v + ((<usize>(h / group) * <usize>headDim) << 1);
      for (let j = j0; j < j1; j++) {
        laneAxpy(ln + <usize>((phL + j) & (nl - 1)) * row, load<f32>(sc + (<usize>j << 2)), vh + ((<usize>j * <usize>kvDim) << 1), headDim);
      }
    }
  }
  for (let h = h0; h < h1; h++) {
    reduceLanes(out + ((<usize>h * <usize>headDim) << 2), lanesAt(ml, nh, headDim, scRow, h - h0), nl, headDim);
  }
}
