/**
 * RMSNorm and LayerNorm with the reference's arithmetic (src/kernels/ts/norm.ts).
 * RMSNorm: squares in f32, summed in f64, mean rounded to f32, scale = 1/sqrt(mean + eps) in f32 (ggml's
 * order), then x·scale·gain in f32. Rows tokenStart..tokenEnd only, so threads could split a batch.
 */

/**
 * Σ over the dim f32 values at xr of (x − c)², or of x − c when square is false, each term rounded to f32 and
 * added in f64: lanes 0-1 and 2-3 of each group of four in two f64x2 sums, those two added, then the tail in
 * order (x − 0 is x exactly, so c = 0 gives the plain sums).
 */
@inline function rowSumF64(xr: usize, dim: i32, c: f32, square: bool): f64 {
  const cv = f32x4.splat(c);
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= dim; i += 4) {
    const d = f32x4.sub(v128.load(xr + (<usize>i << 2)), cv);
    const t = square ? f32x4.mul(d, d) : d;
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(t));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(t, t, 2, 3, 0, 1)));
  }
  const both = f64x2.add(s0, s1);
  let sum = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
  for (; i < dim; i++) {
    const d = load<f32>(xr + (<usize>i << 2)) - c;
    sum += <f64>(square ? d * d : d);
  }
  return sum;
}

export function rmsNorm(out: usize, x: usize, weight: usize, eps: f64, dim: i32, tokenStart: i32, tokenEnd: i32): void {
  for (let t = tokenStart; t < tokenEnd; t++) {
    const xr = x + ((<usize>t * <usize>dim) << 2);
    const or = out + ((<usize>t * <usize>dim) << 2);
    const sum = rowSumF64(xr, dim, 0, true);
    // ggml's rounding order: mean = f32(Σ / dim), f32(mean + eps), sqrtf, 1.0f / that (kernels/ts/norm.ts)
    const mean = <f32>(sum / <f64>dim);
    const scale = <f32>1.0 / Mathf.sqrt(mean + <f32>eps);
    const sv = f32x4.splat(scale);
    let i = 0;
    for (; i + 4 <= dim; i += 4) {
      const o = <usize>i << 2;
      v128.store(or + o, f32x4.mul(f32x4.mul(v128.load(xr + o), sv), v128.load(weight + o)));
    }
    for (; i < dim; i++) {
      const o = <usize>i << 2;
      store<f32>(or + o, load<f32>(xr + o) * scale * load<f32>(weight + o));
    }
  }
}

/**
 * LayerNorm with ggml_norm's arithmetic, then the gain and bias: mean = f32(Σx in f64) / dim in f32; centred
 * values in f32, their f32 squares summed in f64; variance and scale = 1/sqrt(variance + eps) in f32; then
 * ((x − mean)·scale)·gain + bias, each step rounded to f32. Rows tokenStart..tokenEnd only.
 */
export function layerNorm(out: usize, x: usize, weight: usize, bias: usize, eps: f64, dim: i32, tokenStart: i32, tokenEnd: i32): void {
  const epsF = <f32>eps;
  for (let t = tokenStart; t < tokenEnd; t++) {
    const xr = x + ((<usize>t * <usize>dim) << 2);
    const or = out + ((<usize>t * <usize>dim) << 2);
    const mean = <f32>rowSumF64(xr, dim, 0, false) / <f32>dim;
    const mv = f32x4.splat(mean);
    const variance = <f32>(rowSumF64(xr, dim, mean, true) / <f64>dim);
    const scale = <f32>1.0 / Mathf.sqrt(variance + epsF);
    const sv = f32x4.splat(scale);
    let i = 0;
    for (; i + 4 <= dim; i += 4) {
      const o = <usize>i << 2;
      const y = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + o), mv), sv), v128.load(weight + o));
      v128.store(or + o, f32x4.add(y, v128.load(bias + o)));
    }
    for (; i < dim; i++) {
      const o = <usize>i << 2;
      store<f32>(or + o, (load<f32>(xr + o) - mean) * scale * load<f32>(weight + o) + load<f32>(bias + o));
    }
  }
}
