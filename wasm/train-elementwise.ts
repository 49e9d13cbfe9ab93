/**
 * Element-wise kernels training needs beyond inference: GELU (tanh approximation, as GPT-2 and ggml) forward
 * and backward, and SwiGLU's backward. Four lanes at a time with simd.ts's exp4; tanh(u) = 1 − 2/(e^(2u) + 1).
 * Backward kernels add into their gradient outputs (the tape accumulates).
 */

import { exp4 } from "./simd";

const C: f32 = 0.7978845608028654; // sqrt(2/π)
const A: f32 = 0.044715;

@inline function tanhOfGeluArg(x: v128): v128 {
  const u = f32x4.mul(f32x4.splat(C), f32x4.add(x, f32x4.mul(f32x4.splat(A), f32x4.mul(x, f32x4.mul(x, x)))));
  const e = exp4(f32x4.add(u, u));
  return f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
}

/** Stores the first min(4, n − i) lanes of v at p[i..]. */
@inline function store4(p: usize, i: i32, n: i32, v: v128): void {
  if (i + 4 <= n) { v128.store(p + (<usize>i << 2), v); return; }
  if (i < n) store<f32>(p + (<usize>i << 2), f32x4.extract_lane(v, 0));
  if (i + 1 < n) store<f32>(p + (<usize>(i + 1) << 2), f32x4.extract_lane(v, 1));
  if (i + 2 < n) store<f32>(p + (<usize>(i + 2) << 2), f32x4.extract_lane(v, 2));
}

/** Loads up to four lanes of p[i..n), zero beyond n. */
@inline function loadTail(p: usize, i: i32, n: i32): v128 {
  if (i + 4 <= n) return v128.load(p + (<usize>i << 2));
  let v = f32x4.splat(0);
  if (i < n) v = f32x4.replace_lane(v, 0, load<f32>(p + (<usize>i << 2)));
  if (i + 1 < n) v = f32x4.replace_lane(v, 1, load<f32>(p + (<usize>(i + 1) << 2)));
  if (i + 2 < n) v = f32x4.replace_lane(v, 2, load<f32>(p + (<usize>(i + 2) << 2)));
  return v;
}

/** out (n) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) */
export function gelu(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const v = loadTail(x, i, n);
    store4(out, i, n, f32x4.mul(f32x4.mul(f32x4.splat(0.5), v), f32x4.add(f32x4.splat(1), tanhOfGeluArg(v))));
  }
}

/** dx (n) += dy · gelu'(x), gelu'(x) = ½(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²) */
export function geluBackward(dx: usize, x: usize, dy: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const v = loadTail(x, i, n);
    const t = tanhOfGeluArg(v);
    const half = f32x4.splat(0.5);
    const slope = f32x4.mul(f32x4.splat(C), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(3 * A), f32x4.mul(v, v))));
    const d = f32x4.add(f32x4.mul(half, f32x4.add(f32x4.splat(1), t)),
      f32x4.mul(f32x4.mul(f32x4.mul(half, v), f32x4.sub(f32x4.splat(1), f32x4.mul(t, t))), slope));
    store4(dx, i, n, f32x4.add(loadTail(dx, i, n), f32x4.mul(loadTail(dy, i, n), d)));
  }
}

/** With s = σ(gate): dGate (n) += dy · up · s·(1 + gate·(1 − s)); dUp (n) += dy · gate · s. */
export function swigluBackward(dGate: usize, dUp: usize, gate: usize, up: usize, dy: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const g = loadTail(gate, i, n), u = loadTail(up, i, n), d = loadTail(dy, i, n);
    const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.neg(g))));
    const ds = f32x4.mul(s, f32x4.add(f32x4.splat(1), f32x4.mul(g, f32x4.sub(f32x4.splat(1), s))));
    store4(dGate, i, n, f32x4.add(loadTail(dGate, i, n), f32x4.mul(f32x4.mul(d, u), ds)));
    store4(dUp, i, n, f32x4.add(loadTail(dUp, i, n), f32x4.mul(d, f32x4.mul(g, s))));
  }
}
