/**
 * Matrix products with float weights: F32 (activations as they are), F16 (activations pre-rounded to f16 by
 * roundRowsF16) and BF16 (pre-rounded to bf16). Weights are widened to f32 in registers; products and sums
 * are f32, four lanes × four accumulators, so results differ from the reference only in summation order.
 * Every entry point computes out (nTokens, rows) for weight rows rowStart..rowEnd only, so threads can split
 * a product by rows. It does not round activations (activation-rounding.ts does).
 */

import { f16Lo, f16Hi, f16ToF32, hsumF32 } from "./simd";

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

@inline function bf16Lo(h8: v128): v128 { return i32x4.shl(i32x4.extend_low_i16x8_u(h8), 16); }
@inline function bf16Hi(h8: v128): v128 { return i32x4.shl(i32x4.extend_high_i16x8_u(h8), 16); }

/** Σ w[i]·x[i], bf16 weights, f32 activations. */
export function dotBF16(w: usize, x: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const h0 = v128.load(w + (<usize>i << 1));
    const h1 = v128.load(w + (<usize>i << 1), 16);
    const o = x + (<usize>i << 2);
    a0 = f32x4.add(a0, f32x4.mul(bf16Lo(h0), v128.load(o)));
    a1 = f32x4.add(a1, f32x4.mul(bf16Hi(h0), v128.load(o, 16)));
    a2 = f32x4.add(a2, f32x4.mul(bf16Lo(h1), v128.load(o, 32)));
    a3 = f32x4.add(a3, f32x4.mul(bf16Hi(h1), v128.load(o, 48)));
  }
  let s = hsumF32(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; i < n; i++) s += reinterpret<f32>(<u32>load<u16>(w + (<usize>i << 1)) << 16) * load<f32>(x + (<usize>i << 2));
  return s;
}

/** out (nTokens, rows) = x (nTokens, cols) · wᵀ for rows rowStart..rowEnd; F32 weights. */
export function matmulF32(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = rowStart; r < rowEnd; r++) {
    const wr = w + <usize>r * rowBytes;
    for (let t = 0; t < nTokens; t++) {
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), dotF32(wr, x + <usize>t * rowBytes, cols));
    }
  }
}

/** As matmulF32 with F16 weights; x holds activations already rounded to f16. */
export function matmulF16(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32): void {
  const rowBytes = <usize>cols << 1;
  for (let r = rowStart; r < rowEnd; r++) {
    const wr = w + <usize>r * rowBytes;
    for (let t = 0; t < nTokens; t++) {
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), dotF16(wr, x + ((<usize>t * <usize>cols) << 2), cols));
    }
  }
}

/** As matmulF32 with BF16 weights; x holds activations already rounded to bf16. */
export function matmulBF16(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32): void {
  const rowBytes = <usize>cols << 1;
  for (let r = rowStart; r < rowEnd; r++) {
    const wr = w + <usize>r * rowBytes;
    for (let t = 0; t < nTokens; t++) {
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), dotBF16(wr, x + ((<usize>t * <usize>cols) << 2), cols));
    }
  }
}
