/**
 * Element-wise kernels: SwiGLU gate, residual and bias adds, softmax, GELU. Softmax sums in double like ggml's
 * ggml_vec_soft_max_f32, so probabilities agree with llama.cpp to the last few ulps. Inference's GELU
 * (`geluRounded`) goes through f16 as ggml's CPU backend does; training's (`gelu`) is the exact formula.
 */

import { f16ToF32, f32ToF16, roundToF16 } from "../../tensor/f16.js";
import { siluScalar, siluVec } from "./ggml-math.js";

/**
 * out (n) = silu(gate) · up, silu(x) = x / (1 + e^−x), as ggml_vec_swiglu_f32 computes it on AVX-512: whole groups
 * of 16 through ggml_v_silu (its polynomial e^x), the rest through ggml_silu_f32 (libm's expf). ggml starts the
 * groups at each row; here they start at element 0, the same wherever the row length is a multiple of 16.
 */
export function swiglu(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  const nVec = n - (n % 16);
  for (let i = 0; i < nVec; i++) out[i] = Math.fround(siluVec(gate[i] as number) * (up[i] as number));
  for (let i = nVec; i < n; i++) out[i] = Math.fround(siluScalar(gate[i] as number) * (up[i] as number));
}

/** out (n) = gelu(gate) · up, gelu through ggml's f16 table as in `geluRounded` (ggml_vec_geglu_f32). */
export function geglu(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  const table = geluF16Table();
  for (let i = 0; i < n; i++) {
    const g = gate[i] as number, u = up[i] as number;
    out[i] = g <= -10 ? 0 : g >= 10 ? g * u : (table[f32ToF16(g)] as number) * u;
  }
}

/** x (n) ← f32(x · f32(s)) */
export function scale(x: Float32Array, s: number, n: number): void {
  const f = Math.fround(s);
  for (let i = 0; i < n; i++) x[i] = (x[i] as number) * f;
}

/** x (n) ← f32(f32(tanh(f32(x · f32(1/cap)))) · cap): llama.cpp's scale, tanh, scale. */
export function softcap(x: Float32Array, cap: number, n: number): void {
  const inv = Math.fround(1 / cap), c = Math.fround(cap);
  for (let i = 0; i < n; i++) x[i] = Math.fround(Math.tanh(Math.fround((x[i] as number) * inv))) * c;
}

/** acc (n) += x */
export function addInPlace(acc: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) + (x[i] as number);
}

/** x (nTokens, dim) += bias (dim), on every row. */
export function addBias(x: Float32Array, bias: Float32Array, nTokens: number, dim: number): void {
  for (let t = 0; t < nTokens; t++) {
    const base = t * dim;
    for (let i = 0; i < dim; i++) x[base + i] = (x[base + i] as number) + (bias[i] as number);
  }
}

/** x (n) ← softmax(x), stable (max subtracted). */
export function softmax(x: Float32Array, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, x[i] as number);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.fround(Math.exp((x[i] as number) - max));
    x[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) x[i] = (x[i] as number) * inv;
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/** out (n) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) */
export function gelu(out: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    out[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + GELU_A * v * v * v)));
  }
}

/**
 * GELU of every f16 value (indexed by its bits), as ggml's CPU backend tabulates it at start-up: the tanh
 * formula evaluated in f32 in C's order (0.5·x · (1 + tanh(√(2/π)·x · (1 + 0.044715·x·x)))), rounded to f16.
 * Built on first use (65536 entries, 256 KiB).
 */
let geluTable: Float32Array | undefined;
export function geluF16Table(): Float32Array {
  if (geluTable !== undefined) return geluTable;
  const fr = Math.fround;
  const c = fr(0.7978845608028654), a = fr(0.044715);
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const x = f16ToF32(h);
    const inner = fr(fr(c * x) * fr(1 + fr(fr(a * x) * x)));
    table[h] = roundToF16(fr(fr(0.5 * x) * fr(1 + fr(Math.tanh(inner)))));
  }
  geluTable = table;
  return table;
}

/**
 * out (n) = gelu(x) as llama.cpp's CPU backend computes it at inference: x rounded to f16 and looked up in
 * `geluF16Table` (so the result is an f16 value), except x ≤ −10 → 0 and x ≥ 10 → x.
 */
export function geluRounded(out: Float32Array, x: Float32Array, n: number): void {
  const table = geluF16Table();
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    out[i] = v <= -10 ? 0 : v >= 10 ? v : (table[f32ToF16(v)] as number);
  }
}

/** dx (n) += dy · gelu'(x) */
export function geluBackward(dx: Float32Array, x: Float32Array, dy: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    const t = Math.tanh(GELU_C * (v + GELU_A * v * v * v));
    const d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_A * v * v);
    dx[i] = (dx[i] as number) + (dy[i] as number) * d;
  }
}

/** dGate (n) += dy · up · s·(1 + gate·(1 − s)), dUp (n) += dy · gate · s, with s = σ(gate) */
export function swigluBackward(dGate: Float32Array, dUp: Float32Array, gate: Float32Array, up: Float32Array, dy: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i] as number, d = dy[i] as number;
    const s = 1 / (1 + Math.exp(-g));
    dGate[i] = (dGate[i] as number) + d * (up[i] as number) * s * (1 + g * (1 - s));
    dUp[i] = (dUp[i] as number) + d * g * s;
  }
}

/** out (n) = max(x, 0). */
export function relu(out: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    out[i] = v > 0 ? v : 0;
  }
}
