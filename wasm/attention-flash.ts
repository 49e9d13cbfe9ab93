/**
 * llama.cpp's one-row ("vec") flash attention kernel (ggml-cpu's flash_attn_ext for micro-batches of fewer than
 * 64 queries), reproduced with its rounding: keys one at a time in position order, a running maximum, an f32
 * running sum S, and, with f16 values, a running value sum that is an f16 vector (rounded after every key, as
 * ggml_vec_mad_f16 and ggml_vec_scale_f16 store it). The tiled kernel (≥ 64 queries) is attention.ts's
 * one-pass path. src/kernels/ts/attention-flash.ts is the readable reference.
 */

import { f16Lo, f16Hi, hmaxF32, roundF16x4 } from "./simd";
import { accAt, kvHi, kvLo, lAt, mAt, ORDER_VEC64, qrAt, ROWS, scAt, scores, touchRows } from "./attention-parts";
import { fmaF32 } from "./ggml-math";

/**
 * f32(a + b · p) per lane as the reference computes it: b · p exact in f64 (an f16 or f32 value times an f32),
 * the sum rounded to f64 and then to f32. That is ggml's fused multiply-add but at the rare f64 midpoint, and
 * unlike relaxed SIMD's madd it gives the same bits on every machine.
 */
@inline function maddF64(a: v128, b: v128, p: v128): v128 {
  const lo = f64x2.add(f64x2.promote_low_f32x4(a), f64x2.mul(f64x2.promote_low_f32x4(b), p));
  const hi = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)),
    f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(b, b, 2, 3, 0, 1)), p));
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * roundF16x4 is exact below 65504 and gives 65536 or more where f16 overflows: after a row is rounded, a lane
 * above 65504 (seen through the row's running max of |x|, so the common case costs one max per vector) becomes
 * ±infinity, as llama.cpp's f16 sum does.
 */
function fixOverflow(acc: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const a = acc + (<usize>i << 2);
    const x = load<f32>(a);
    if (Mathf.abs(x) > 65504) store<f32>(a, x > 0 ? Infinity : -Infinity);
  }
}

/** acc (n) ← f16(acc · f), or f32 when the values are f32 (the vec kernel's sum on a new maximum). */
@inline function rescaleAcc(acc: usize, f: f32, n: i32, vF16: bool): void {
  const fv = f32x4.splat(f);
  let mx = f32x4.splat(0);
  for (let i = 0; i < n; i += 4) {
    const a = acc + (<usize>i << 2);
    const x = f32x4.mul(v128.load(a), fv);
    if (!vF16) { v128.store(a, x); continue; }
    const r = roundF16x4(x);
    v128.store(a, r);
    mx = f32x4.pmax(mx, f32x4.abs(r));
  }
  if (vF16 && hmaxF32(mx) > 65504) fixOverflow(acc, n);
}

/**
 * acc (n) ← f16(acc + p · v) for f16 values (ggml_vec_mad_f16: a fused multiply-add, stored as f16), f32 for f32
 * values (ggml_vec_mad_f32); the multiply-add as maddF64.
 */
@inline function madAcc(acc: usize, p: f32, v: usize, n: i32, vF16: bool): void {
  const pv = f64x2.splat(<f64>p);
  if (!vF16) {
    for (let i = 0; i < n; i += 4) {
      const a = acc + (<usize>i << 2);
      v128.store(a, maddF64(v128.load(a), v128.load(v + (<usize>i << 2)), pv));
    }
    return;
  }
  let mx = f32x4.splat(0);
  for (let i = 0; i < n; i += 8) {
    const h = v128.load(v + (<usize>i << 1));
    const a = acc + (<usize>i << 2);
    const r0 = roundF16x4(maddF64(v128.load(a), f16Lo(h), pv));
    const r1 = roundF16x4(maddF64(v128.load(a, 16), f16Hi(h), pv));
    v128.store(a, r0);
    v128.store(a, r1, 16);
    mx = f32x4.pmax(mx, f32x4.pmax(f32x4.abs(r0), f32x4.abs(r1)));
  }
  if (hmaxF32(mx) > 65504) fixOverflow(acc, n);
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
    store<f32>(lAt(ml, i), 0);
  }
  const kElem: usize = kF16 ? 2 : 4, vElem: usize = vF16 ? 2 : 4, lo = kvLo(h0, group, headDim), hi = kvHi(h1, group, headDim);
  const sink = scAt(ml, nh, headDim, scRow, nh);
  const sc = scAt(ml, nh, headDim, scRow, 0); // one block of scores, reused by every head
  for (let j0 = 0; j0 < nCtx; j0 += ROWS) {
    const jn = min(ROWS, nCtx - j0);
    touchRows(k, j0 + ROWS, j0 + 2 * ROWS, nCtx, kvDim, kElem, lo, hi, sink);
    touchRows(v, j0 + ROWS, j0 + 2 * ROWS, nCtx, kvDim, vElem, lo, hi, sink);
    for (let h = h0; h < h1; h++) {
      const i = h - h0, kvOff = (h / group) * headDim, acc = accAt(ml, nh, headDim, i);
      scores(sc, qrAt(ml, nh, headDim, i), k, j0, jn, kvDim, kvOff, headDim, scale, kF16, cap, invCap, ORDER_VEC64);
      let m = load<f32>(mAt(ml, i)), l = load<f32>(lAt(ml, i));
      const vh = v + (<usize>j0 * <usize>kvDim + <usize>kvOff) * vElem, vRow = <usize>kvDim * vElem;
      for (let j = 0; j < jn; j++) {
        const s = load<f32>(sc + (<usize>j << 2));
        // ggml: expf of an f32 difference; here e^x from f64, rounded once (libm's expf is correctly rounded
        // but for rare halfway cases)
        let ms: f32 = 1, vs: f32 = 1;
        if (s > m) {
          ms = <f32>Math.exp(<f64>(m - s));
          m = s;
          rescaleAcc(acc, ms, headDim, vF16);
        } else {
          vs = <f32>Math.exp(<f64>(s - m));
        }
        madAcc(acc, vs, vh + <usize>j * vRow, headDim, vF16);
        l = fmaF32(l, ms, vs); // ggml's `S = S*ms + vs`, fused by its compiler
      }
      store<f32>(mAt(ml, i), m);
      store<f32>(lAt(ml, i), l);
    }
  }
  for (let h = h0; h < h1; h++) {
    const i = h - h0, acc = accAt(ml, nh, headDim, i), oh = out + ((<usize>h * <usize>headDim) << 2);
    const sum = load<f32>(lAt(ml, i));
    const inv: f32 = sum == 0 ? 0 : <f32>1.0 / sum;
    for (let d = 0; d < headDim; d++) store<f32>(oh + (<usize>d << 2), load<f32>(acc + (<usize>d << 2)) * inv);
  }
}
