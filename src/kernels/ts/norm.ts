/**
 * RMSNorm (Llama) and LayerNorm (GPT-2) as ggml computes them: sums of f32 values and of f32 squares are taken
 * in double, everything else in f32. The learned gain (and LayerNorm's bias) is applied after the
 * normalization, each a separate f32 operation, as llama.cpp's graph multiplies and adds them.
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
    // ggml's rounding order: mean = f32(Σ / dim), then f32(mean + eps), sqrtf, and 1.0f / that, each in f32
    // (rounding once after the double division and sqrt instead moves a norm output by an ulp now and then,
    // which an f16 or 8-bit activation rounding downstream can turn into a whole step)
    const scale = Math.fround(1 / Math.fround(Math.sqrt(Math.fround(Math.fround(sum / dim) + Math.fround(eps)))));
    for (let i = 0; i < dim; i++) out[base + i] = Math.fround((x[base + i] as number) * scale) * (weight[i] as number);
  }
}

/**
 * out (nTokens, dim) = (x − mean(x)) / sqrt(var(x) + eps) · weight + bias, per row (ggml_norm, then mul and
 * add): the mean is the f32 of a double sum divided in f32; the centred values are f32, their squares are
 * summed in double; the variance and 1/sqrt(variance + eps) are f32.
 */
export function layerNorm(out: Float32Array, x: Float32Array, weight: Float32Array, bias: Float32Array, eps: number,
  nTokens: number, dim: number): void {
  const fr = Math.fround;
  const epsF = fr(eps);
  for (let t = 0; t < nTokens; t++) {
    const base = t * dim;
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += x[base + i] as number;
    const mean = fr(fr(sum) / dim);
    let sq = 0;
    for (let i = 0; i < dim; i++) {
      const d = fr((x[base + i] as number) - mean);
      sq += fr(d * d);
    }
    const scale = fr(1 / fr(Math.sqrt(fr(fr(sq / dim) + epsF))));
    for (let i = 0; i < dim; i++) {
      const d = fr((x[base + i] as number) - mean);
      out[base + i] = fr(fr(d * scale) * (weight[i] as number)) + (bias[i] as number);
    }
  }
}
