/**
 * llama.cpp's one-row ("vec") flash attention kernel (ggml-cpu's flash_attn_ext for micro-batches of fewer than
 * 64 queries), reproduced with its rounding: keys one at a time in position order, a running maximum, an f32
 * running sum S, and, with f16 values, a running value sum that is an f16 vector (rounded after every key, as
 * ggml_vec_mad_f16 and ggml_vec_scale_f16 store it). The tiled kernel (≥ 64 queries) is attention.ts's
 * one-pass path. src/kernels/ts/attention-flash.ts is the readable reference.
 */

import { exp4, expF32, f16Lo, f16Hi, hmaxF32, roundF16x4 } from "./simd";
import { accAt, axpy, kvHi, kvLo, lAt, mAt, qrAt, ROWS, scAt, scores, touchRows } from "./attention-parts";

/** c + a · b: one fused multiply-add where the build has relaxed SIMD (as ggml's FMA), else a product and a sum. */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
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

/** acc (n) ← f16(acc + p · v) for f16 values (ggml_vec_mad_f16: the sum is stored as f16), acc + p · v for f32. */
@inline function madAcc(acc: usize, p: f32, v: usize, n: i32, vF16: bool): void {
  if (!vF16) { axpy(acc, p, v, n, false); return; }
  const pv = f32x4.splat(p);
  let mx = f32x4.splat(0);
  for (let i = 0; i < n; i += 8) {
    const h = v128.load(v + (<usize>i << 1));
    const a = acc + (<usize>i << 2);
    const r0 = roundF16x4(madd(pv, f16Lo(h), v128.load(a)));
    const r1 = roundF16x4(madd(pv, f16Hi(h), v128.load(a, 16)));
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
 * heads (as headsTwoPass does); four keys under the maximum take one exp4. headDim is a multiple of 8.
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
      scores(sc, qrAt(ml, nh, headDim, i), k, j0, jn, kvDim, kvOff, headDim, scale, kF16, cap, invCap);
      let m = load<f32>(mAt(ml, i)), l = load<f32>(lAt(ml, i));
      const vh = v + (<usize>j0 * <usize>kvDim + <usize>kvOff) * vElem, vRow = <usize>kvDim * vElem;
      let j = 0;
      while (j < jn) {
        if (j + 4 <= jn) {
          const s4 = v128.load(sc + (<usize>j << 2));
          if (i32x4.all_true(f32x4.le(s4, f32x4.splat(m)))) { // no new maximum among the four: one exp4
            const e = exp4(f32x4.sub(s4, f32x4.splat(m)));
            const e0 = f32x4.extract_lane(e, 0), e1 = f32x4.extract_lane(e, 1), e2 = f32x4.extract_lane(e, 2), e3 = f32x4.extract_lane(e, 3);
            madAcc(acc, e0, vh + <usize>j * vRow, headDim, vF16); l += e0;
            madAcc(acc, e1, vh + <usize>(j + 1) * vRow, headDim, vF16); l += e1;
            madAcc(acc, e2, vh + <usize>(j + 2) * vRow, headDim, vF16); l += e2;
            madAcc(acc, e3, vh + <usize>(j + 3) * vRow, headDim, vF16); l += e3;
            j += 4;
            continue;
          }
        }
        const s = load<f32>(sc + (<usize>j << 2));
        let vs: f32 = 1;
        if (s > m) {
          const ms = expF32(m - s);
          m = s;
          rescaleAcc(acc, ms, headDim, vF16);
          l *= ms;
        } else {
          vs = expF32(s - m);
        }
        madAcc(acc, vs, vh + <usize>j * vRow, headDim, vF16);
        l += vs;
        j++;
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
