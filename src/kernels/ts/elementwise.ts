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
