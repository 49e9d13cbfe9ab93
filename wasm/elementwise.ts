/**
 * Element-wise kernels: SwiGLU, residual and bias adds, softmax (sum in f64 like ggml), inference's GELU
 * (through f16 and a table, as ggml), and the KV-cache store with f32 → f16 conversion. Four lanes at a time
 * where it pays; exp is simd.ts's exp4, within a few ulp of Math.exp.
 */

import { tanhF32x4 } from "./exp-f64";
import { exp4, expF32, f32ToF16, hmaxF32 } from "./simd";
import { silu4Ggml, siluScalar } from "./ggml-math";

/**
 * out (n) = silu(gate) · up as ggml_vec_swiglu_f32 computes it on AVX-512 (the reference's ts/elementwise.ts):
 * whole groups of 16 through ggml_v_silu, the rest through ggml_silu_f32. Groups start at element 0, so a
 * thread's share must start at a multiple of 16 (pool-protocol.ts splits on 16).
 */
export function swiglu(out: usize, gate: usize, up: usize, n: i32): void {
  const nVec = n & ~15;
  for (let i = 0; i < nVec; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(silu4Ggml(v128.load(gate + o)), v128.load(up + o)));
  }
  for (let i = nVec; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, siluScalar(load<f32>(gate + o)) * load<f32>(up + o));
  }
}

/** out (n) = gelu(gate) · up, gelu through the f16 table as in geluRounded (ggml_vec_geglu_f32). */
export function geglu(out: usize, gate: usize, up: usize, n: i32, table: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(gate + o);
    if (tableLanes(g)) {
      v128.store(out + o, f32x4.mul(geluTable4(g, table), v128.load(up + o)));
      continue;
    }
    for (let j = i; j < i + 4; j++) gegluScalar(out, gate, up, j, table);
  }
  for (; i < n; i++) gegluScalar(out, gate, up, i, table);
}

@inline function gegluScalar(out: usize, gate: usize, up: usize, i: i32, table: usize): void {
  const o = <usize>i << 2;
  const g = load<f32>(gate + o), u = load<f32>(up + o);
  store<f32>(out + o, g <= -10 ? 0 : g >= 10 ? g * u : load<f32>(table + (<usize>f32ToF16(g) << 2)) * u);
}

/** True when every lane has 2^-14 ≤ |x| < 10 (not NaN): where geluTable4 gives the scalar path's bits. */
@inline function tableLanes(x: v128): bool {
  const a = v128.and(x, i32x4.splat(0x7fffffff)); // 10 is 0x41200000; the bits less 2^-14's, unsigned, below the span
  return i32x4.all_true(i32x4.lt_u(i32x4.sub(a, i32x4.splat(0x38800000)), i32x4.splat(0x41200000 - 0x38800000)));
}

/**
 * gelu of four lanes through the f16 table (as geluRounded) for lanes where tableLanes holds: their f16 bits come
 * from f16Normal (storeF16's vector rounding), then the four table entries are loaded one by one. Elsewhere (zero,
 * tiny, |x| ≥ 10, NaN) the callers take the four lanes the scalar way.
 */
@inline function geluTable4(x: v128, table: usize): v128 {
  const at = i32x4.add(i32x4.shl(f16Normal(x, v128.and(x, i32x4.splat(0x7fffffff))), 2), i32x4.splat(<i32>table));
  let v = v128.load32_zero(<usize>i32x4.extract_lane(at, 0));
  v = v128.load32_lane(<usize>i32x4.extract_lane(at, 1), v, 1);
  v = v128.load32_lane(<usize>i32x4.extract_lane(at, 2), v, 2);
  return v128.load32_lane(<usize>i32x4.extract_lane(at, 3), v, 3);
}

/** x (n) ← x · s (ggml_scale) */
export function scaleInPlace(x: usize, s: f32, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.mul(v128.load(p), sv));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, load<f32>(p) * s);
  }
}

/** x (n) ← cap · tanh(x · (1/cap)), llama.cpp's scale, tanh, scale in f32 (invCap = f32(1/cap)). */
export function softcap(x: usize, cap: f32, invCap: f32, n: i32): void {
  // tanh from f64, rounded once (as the reference): four lanes at a time by exp-f64.ts, the tail by Math.tanh
  const iv = f32x4.splat(invCap), cv = f32x4.splat(cap);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    v128.store(p, f32x4.mul(tanhF32x4(f32x4.mul(v128.load(p), iv)), cv));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, <f32>Math.tanh(<f64>(load<f32>(p) * invCap)) * cap);
  }
}

/** acc (n) += x */
export function addInPlace(acc: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(acc + o, f32x4.add(v128.load(acc + o), v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(acc + o, load<f32>(acc + o) + load<f32>(x + o));
  }
}

/** x (n) ← softmax(x), max subtracted; the sum of exponentials is taken in f64. */
export function softmax(x: usize, n: i32): void {
  let m = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) m = f32x4.max(m, v128.load(x + (<usize>i << 2)));
  let mx = hmaxF32(m);
  for (; i < n; i++) mx = max(mx, load<f32>(x + (<usize>i << 2)));
  const mv = f32x4.splat(mx);
  let sum: f64 = 0;
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const e = exp4(f32x4.sub(v128.load(x + o), mv));
    v128.store(x + o, e);
    sum += <f64>f32x4.extract_lane(e, 0) + <f64>f32x4.extract_lane(e, 1) + <f64>f32x4.extract_lane(e, 2) + <f64>f32x4.extract_lane(e, 3);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const e = expF32(load<f32>(x + o) - mx);
    store<f32>(x + o, e);
    sum += <f64>e;
  }
  const inv = 1.0 / sum;
  for (i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, <f32>(<f64>load<f32>(x + o) * inv));
  }
}

/**
 * dst (n) f16 bits ← src (n) f32, round to nearest even: f32ToF16's normal-range steps on eight lanes at a time
 * where all eight are in f16's normal range (2^-14 ≤ |x| < 65520), f32ToF16 lane by lane elsewhere.
 */
export function storeF16(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const x0 = v128.load(src + (<usize>i << 2)), x1 = v128.load(src + (<usize>i << 2), 16);
    const a0 = v128.and(x0, i32x4.splat(0x7fffffff)), a1 = v128.and(x1, i32x4.splat(0x7fffffff));
    const span = i32x4.splat(0x477ff000 - 0x38800000), lo = i32x4.splat(0x38800000);
    if (i32x4.all_true(v128.and(i32x4.lt_u(i32x4.sub(a0, lo), span), i32x4.lt_u(i32x4.sub(a1, lo), span)))) {
      v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_u(f16Normal(x0, a0), f16Normal(x1, a1)));
      continue;
    }
    for (let j = i; j < i + 8; j++) store<u16>(dst + (<usize>j << 1), <u16>f32ToF16(load<f32>(src + (<usize>j << 2))));
  }
  for (; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>f32ToF16(load<f32>(src + (<usize>i << 2))));
}

/** f16 bits of four lanes in f16's normal range (a: their magnitude bits), as f32ToF16 computes them, in i32 lanes. */
@inline function f16Normal(x: v128, a: v128): v128 {
  const b = i32x4.sub(a, i32x4.splat(0x38000000)); // re-bias 127 → 15
  const h = i32x4.shr_u(i32x4.add(i32x4.add(b, i32x4.splat(0x0fff)), v128.and(i32x4.shr_u(b, 13), i32x4.splat(1))), 13);
  return v128.or(h, v128.and(i32x4.shr_u(x, 16), i32x4.splat(0x8000)));
}

/** x (nTokens, dim) += bias (dim), on every row. */
export function addBias(x: usize, bias: usize, nTokens: i32, dim: i32): void {
  for (let t = 0; t < nTokens; t++) addInPlace(x + ((<usize>t * <usize>dim) << 2), bias, dim);
}

/**
 * out (n) = gelu(x) as ggml's CPU backend computes it at inference: table (65536 f32, indexed by f16 bits,
 * filled by the JS side from the reference's table) at f16(x), except x ≤ −10 → 0 and x ≥ 10 → x.
 */
export function geluRounded(out: usize, x: usize, n: i32, table: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    if (tableLanes(v)) {
      v128.store(out + (<usize>i << 2), geluTable4(v, table));
      continue;
    }
    for (let j = i; j < i + 4; j++) geluScalar(out, x, j, table);
  }
  for (; i < n; i++) geluScalar(out, x, i, table);
}

@inline function geluScalar(out: usize, x: usize, i: i32, table: usize): void {
  const o = <usize>i << 2;
  const v = load<f32>(x + o);
  store<f32>(out + o, v <= -10 ? 0 : v >= 10 ? v : load<f32>(table + (<usize>f32ToF16(v) << 2)));
}
