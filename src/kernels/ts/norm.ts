/**
 * RMSNorm as ggml computes it: the mean of squares is summed in double, the scale is 1/sqrt(mean + eps)
 * in f32, then x·scale is multiplied by the learned gain.
 */

/** out (nTokens, dim) = x / sqrt(mean(x²) + eps) · weight */
export function rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, eps: number, nTokens: number, dim: number): void {
  for (let t = 0; t < nTokens; t++) {
    const base = t * dim;
    let sum = 0;
    for (let i = 0; i < dim; i++) {
      const v = x[base + i] as number;
      sum += Math.fround(v * v);
    }
    const scale = Math.fround(1 / Math.sqrt(Math.fround(sum / dim + eps)));
    for (let i = 0; i < dim; i++) out[base + i] = Math.fround((x[base + i] as number) * scale) * (weight[i] as number);
  }
}
