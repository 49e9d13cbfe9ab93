/**
 * Element-wise kernels: SwiGLU gate, residual add, softmax. Softmax sums in double like ggml's
 * ggml_vec_soft_max_f32, so probabilities agree with llama.cpp to the last few ulps.
 */

/** out (n) = silu(gate) · up, silu(x) = x / (1 + e^−x) */
export function swiglu(out: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i] as number;
    out[i] = Math.fround(g / (1 + Math.exp(-g))) * (up[i] as number);
  }
}

/** acc (n) += x */
export function addInPlace(acc: Float32Array, x: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) + (x[i] as number);
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
