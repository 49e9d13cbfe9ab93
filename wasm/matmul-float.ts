/**
 * Matrix products with float weights: F32 (activations as they are) and BF16 (pre-rounded to bf16); F16
 * (pre-rounded to f16 by roundRowsF16) goes to matmul-f16.ts, which sums in llama.cpp's order. Weights are widened to f32 in registers (in prefill, a chunk
 * of 16-bit rows is widened once into per-thread scratch and the F32 tiles read it); products and sums
 * are f32 (mul then add in plain SIMD; fused multiply-adds in the relaxed-SIMD build), so results differ from
 * the reference only in summation order and rounding.
 * Prefill computes tiles of outputs at once, one f32x4 accumulator each (lane j sums the elements j mod 4,
 * then the lanes and a scalar tail are added), so each loaded weight vector serves four tokens and each
 * activation vector two rows. Decode streams one weight row at a time with four accumulators; the two differ
 * only in f32 summation order.
 * Every entry point computes out (nTokens, rows) for weight rows rowStart..rowEnd only, so threads can split
 * a product by rows. It does not round activations (activation-rounding.ts does). dotF32/dotF16 serve attention.
 */

import { f16Lo, f16Hi, f16ToF32, hsumF32 } from "./simd";
import { matmulF16Ggml } from "./matmul-f16";

/** Σ w[i]·x[i], f32 weights and activations. */
export function dotF32(w: usize, x: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(w + o), v128.load(x + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(w + o, 16), v128.load(x + o, 16)));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(w + o, 32), v128.load(x + o, 32)));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(w + o, 48), v128.load(x + o, 48)));
  }
  for (; i + 4 <= n; i += 4) a0 = f32x4.add(a0, f32x4.mul(v128.load(w + (<usize>i << 2)), v128.load(x + (<usize>i << 2))));
  let s = hsumF32(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < n; i++) s += load<f32>(w + (<usize>i << 2)) * load<f32>(x + (<usize>i << 2));
  return s;
}

/** Σ w[i]·x[i], f16 weights, f32 activations. */
export function dotF16(w: usize, x: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const h0 = v128.load(w + (<usize>i << 1));
    const h1 = v128.load(w + (<usize>i << 1), 16);
    const o = x + (<usize>i << 2);
    a0 = f32x4.add(a0, f32x4.mul(f16Lo(h0), v128.load(o)));
    a1 = f32x4.add(a1, f32x4.mul(f16Hi(h0), v128.load(o, 16)));
    a2 = f32x4.add(a2, f32x4.mul(f16Lo(h1), v128.load(o, 32)));
    a3 = f32x4.add(a3, f32x4.mul(f16Hi(h1), v128.load(o, 48)));
  }
  let s = hsumF32(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < n; i++) s += f16ToF32(load<u16>(w + (<usize>i << 1))) * load<f32>(x + (<usize>i << 2));
  return s;
}

const F32: i32 = 0, F16: i32 = 1, BF16: i32 = 2;
/** Weight rows per chunk in prefill: each chunk is multiplied by every token tile before the next. */
export const ROW_CHUNK: i32 = 16;

/** Four weights at element i of the row at p, as f32x4. */
@inline function ldw(type: i32, p: usize, i: i32): v128 {
  if (type == F32) return v128.load(p + (<usize>i << 2));
  if (type == BF16) return i32x4.shl(v128.load16x4_u(p + (<usize>i << 1)), 16);
  // f16 bits, sign-extended, moved to f32 bits: sign, exponent and mantissa land on bits 31, 23..27, 13..22
  // after << 13 and the mask, i.e. the value w·2^-112 (activations carry the 2^112: roundRowsF16)
  const h = v128.load16x4_s(p + (<usize>i << 1));
  return v128.and(i32x4.shl(h, 13), i32x4.splat(0x8fffe000));
}

@inline function ldw1(type: i32, p: usize, i: i32): f32 {
  if (type == F32) return load<f32>(p + (<usize>i << 2));
  if (type == BF16) return reinterpret<f32>(<u32>load<u16>(p + (<usize>i << 1)) << 16);
  const h = <u32>load<u16>(p + (<usize>i << 1));
  return reinterpret<f32>(((h & 0x7fff) << 13) | ((h & 0x8000) << 16)); // w·2^-112, as ldw
}

/** acc + w·x: a fused multiply-add in the relaxed-SIMD build (one rounding instead of two). */
@inline function madd(acc: v128, w: v128, x: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(w, x, acc);
  return f32x4.add(acc, f32x4.mul(w, x));
}

/** hsum of an output's accumulator plus the scalar tail i0..cols (in order). */
@inline function finishOut(type: i32, acc: v128, w: usize, x: usize, i0: i32, cols: i32): f32 {
  let s = hsumF32(acc);
  for (let i = i0; i < cols; i++) s += ldw1(type, w, i) * load<f32>(x + (<usize>i << 2));
  return s;
}

/**
 * Outputs for R weight rows (R = 1 or 2, consecutive from row r at w) and T tokens (T = 1 or 4, from token t
 * at x). R and T are constants after inlining, so the unused accumulators vanish.
 */
@inline function floatTile(type: i32, R: i32, T: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, r: i32, t: i32): void {
  const wRow = type == F32 ? <usize>cols << 2 : <usize>cols << 1, xRow = <usize>cols << 2;
  const w0 = w, w1 = w + wRow;
  const x0 = x, x1 = x + xRow, x2 = x + 2 * xRow, x3 = x + 3 * xRow;
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
  const n4 = cols & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const v0 = ldw(type, w0, i);
    const y0 = v128.load(x0 + o);
    a00 = madd(a00, v0, y0);
    if (R == 2) {
      const v1 = ldw(type, w1, i);
      a10 = madd(a10, v1, y0);
      if (T == 4) {
        const y1 = v128.load(x1 + o), y2 = v128.load(x2 + o), y3 = v128.load(x3 + o);
        a01 = madd(a01, v0, y1); a11 = madd(a11, v1, y1);
        a02 = madd(a02, v0, y2); a12 = madd(a12, v1, y2);
        a03 = madd(a03, v0, y3); a13 = madd(a13, v1, y3);
      }
    } else if (T == 4) {
      a01 = madd(a01, v0, v128.load(x1 + o));
      a02 = madd(a02, v0, v128.load(x2 + o));
      a03 = madd(a03, v0, v128.load(x3 + o));
    }
  }
  const step = <usize>rows << 2;
  const o = out + ((<usize>t * <usize>rows + <usize>r) << 2);
  store<f32>(o, finishOut(type, a00, w0, x0, n4, cols));
  if (T == 4) {
    store<f32>(o + step, finishOut(type, a01, w0, x1, n4, cols));
    store<f32>(o + 2 * step, finishOut(type, a02, w0, x2, n4, cols));
    store<f32>(o + 3 * step, finishOut(type, a03, w0, x3, n4, cols));
  }
  if (R == 2) {
    store<f32>(o + 4, finishOut(type, a10, w1, x0, n4, cols));
    if (T == 4) {
      store<f32>(o + 4 + step, finishOut(type, a11, w1, x1, n4, cols));
      store<f32>(o + 4 + 2 * step, finishOut(type, a12, w1, x2, n4, cols));
      store<f32>(o + 4 + 3 * step, finishOut(type, a13, w1, x3, n4, cols));
    }
  }
}

/**
 * Decode: weight row w · one activation row x, streaming the row once (one row at a time reads memory
 * fastest here; interleaved rows were half as fast from memory), four accumulators 16 elements apart.
 */
@inline function rowDot(type: i32, w: usize, x: usize, cols: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= cols; i += 16) {
    const o = x + (<usize>i << 2);
    a0 = madd(a0, ldw(type, w, i), v128.load(o));
    a1 = madd(a1, ldw(type, w, i + 4), v128.load(o, 16));
    a2 = madd(a2, ldw(type, w, i + 8), v128.load(o, 32));
    a3 = madd(a3, ldw(type, w, i + 12), v128.load(o, 48));
  }
  for (; i + 4 <= cols; i += 4) a0 = madd(a0, ldw(type, w, i), v128.load(x + (<usize>i << 2)));
  return finishOut(type, f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), w, x, i, cols);
}

/**
 * Rows r0..r1 of a 16-bit weight matrix at w, widened into f32 rows at out (cols floats each), as ldw widens
 * them (F16: w·2^-112; BF16: exact), so an F32 tile over out multiplies the same values in the same order.
 */
export function widenRows(type: i32, out: usize, w: usize, cols: i32, r0: i32, r1: i32): void {
  const wRow = <usize>cols << 1;
  for (let r = r0; r < r1; r++) {
    const src = w + <usize>r * wRow, dst = out + (<usize>((r - r0) * cols) << 2);
    let i = 0;
    for (; i + 4 <= cols; i += 4) v128.store(dst + (<usize>i << 2), ldw(type, src, i));
    for (; i < cols; i++) store<f32>(dst + (<usize>i << 2), ldw1(type, src, i));
  }
}

@inline function floatRows(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32,
  scratch: usize): void {
  if (nTokens == 1) {
    const wRow = type == F32 ? <usize>cols << 2 : <usize>cols << 1;
    for (let r = rowStart; r < rowEnd; r++) store<f32>(out + (<usize>r << 2), rowDot(type, w + <usize>r * wRow, x, cols));
    return;
  }
  // Prefill with 16-bit weights and scratch for a chunk (the caller's 4·ROW_CHUNK·cols bytes): each chunk is
  // widened to f32 once and every token tile runs the F32 tiles over it, instead of widening each weight
  // vector again for every tile of four tokens (one thread, relaxed build: F16 prefill 40 → 46 GFLOP/s, BF16 37 → 48).
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd);
    if (type != F32 && scratch != 0) {
      widenRows(type, scratch, w, cols, r0, r1);
      chunkTiles(F32, out, scratch, x, rows, cols, nTokens, r0, r1); // F32 is a constant: the tiles specialise
    } else {
      chunkTiles(type, out, w + <usize>r0 * (type == F32 ? <usize>cols << 2 : <usize>cols << 1), x, rows, cols, nTokens, r0, r1);
    }
  }
}

/** Every token tile over weight rows r0..r1 (row r0 at wc, rows of `type`). */
@inline function chunkTiles(type: i32, out: usize, wc: usize, x: usize, rows: i32, cols: i32, nTokens: i32, r0: i32, r1: i32): void {
  const wRow = type == F32 ? <usize>cols << 2 : <usize>cols << 1, xRow = <usize>cols << 2;
  const tiled = nTokens & ~3;
  for (let t = 0; t < tiled; t += 4) {
    let r = r0;
    // baseline F16 tiles are 1 row × 4 tokens: with 2 rows the conversions' registers spill (measured slower);
    // with fused multiply-adds (relaxed build) 2 rows fit and run 1.45× faster
    for (; (type != F16 || ASC_FEATURE_RELAXED_SIMD) && r + 2 <= r1; r += 2) floatTile(type, 2, 4, out, wc + <usize>(r - r0) * wRow, x + <usize>t * xRow, rows, cols, r, t);
    for (; r < r1; r++) floatTile(type, 1, 4, out, wc + <usize>(r - r0) * wRow, x + <usize>t * xRow, rows, cols, r, t);
  }
  for (let t = tiled; t < nTokens; t++) { // tokens past the last full tile
    for (let r = r0; r < r1; r++) floatTile(type, 1, 1, out, wc + <usize>(r - r0) * wRow, x + <usize>t * xRow, rows, cols, r, t);
  }
}

/** out (nTokens, rows) = x (nTokens, cols) · wᵀ for rows rowStart..rowEnd; F32 weights. */
export function matmulF32(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32): void {
  floatRows(F32, out, w, x, rows, cols, nTokens, rowStart, rowEnd, 0);
}

/**
 * As matmulF32 with F16 weights; x holds activations already rounded to f16. scratch: 0, or (prefill) this
 * thread's matmulFloatScratchBytes(cols) bytes. Summed in llama.cpp's order (matmul-f16.ts).
 */
export function matmulF16(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, scratch: usize): void {
  matmulF16Ggml(out, w, x, rows, cols, nTokens, rowStart, rowEnd, scratch);
}

/** As matmulF16 with BF16 weights; x holds activations already rounded to bf16. */
export function matmulBF16(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, scratch: usize): void {
  floatRows(BF16, out, w, x, rows, cols, nTokens, rowStart, rowEnd, scratch);
}

/** Bytes of per-thread scratch matmulF16/matmulBF16 use in prefill: one chunk of weight rows widened to f32. */
export function matmulFloatScratchBytes(cols: i32): i32 {
  return ROW_CHUNK * cols * 4 + 256; // + matmul-f16.ts's stash of 16 vectors
}
