/**
 * Rotary position embedding, in place, with cos/sin supplied per (token, pair) by the caller (the JS side
 * computes them with the reference's double-precision Math.cos/sin, so both backends rotate by identical
 * f32 factors). The rotation is ggml's fused multiply-add form: x0·c exact in f64, x1·s rounded to f32, the
 * difference rounded once (the reference's fmaF32 but for the rare f64 midpoint).
 * "normal" (neox = 0) rotates adjacent pairs (2i, 2i+1); "neox" rotates (i, i + nRot/2).
 */

/** x (nTokens, nHeads, headDim); cs (nTokens, nRot/2, 2) holding (cos, sin). */
export function rope(x: usize, cs: usize, nTokens: i32, nHeads: i32, headDim: i32, nRot: i32, neox: i32): void {
  const half = nRot >> 1;
  for (let t = 0; t < nTokens; t++) {
    for (let h = 0; h < nHeads; h++) {
      const base = x + ((<usize>(t * nHeads + h) * <usize>headDim) << 2);
      for (let i = 0; i < half; i++) {
        const c = <f64>load<f32>(cs + ((<usize>(t * half + i)) << 3));
        const s = <f64>load<f32>(cs + ((<usize>(t * half + i)) << 3), 4);
        const ia: i32 = neox != 0 ? i : 2 * i;
        const ib: i32 = neox != 0 ? i + half : 2 * i + 1;
        const pa = base + (<usize>ia << 2);
        const pb = base + (<usize>ib << 2);
        const x0 = <f64>load<f32>(pa);
        const x1 = <f64>load<f32>(pb);
        // ggml's fused form (kernels/ts/rope.ts): the second product rounded to f32, the first exact in f64
        store<f32>(pa, <f32>(x0 * c - <f64><f32>(x1 * s)));
        store<f32>(pb, <f32>(x0 * s + <f64><f32>(x1 * c)));
      }
    }
  }
}
