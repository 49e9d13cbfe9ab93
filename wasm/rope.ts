/**
 * Rotary position embedding, in place, with cos/sin supplied per (token, pair) by the caller (the JS side
 * computes them with the reference's double-precision Math.cos/sin, so both backends rotate by identical
 * f32 factors). The rotation is ggml's fused multiply-add form: x0·c exact in f64, x1·s rounded to f32, the
 * difference rounded once (the reference's fmaF32 but for the rare f64 midpoint).
 * "normal" (neox = 0) rotates adjacent pairs (2i, 2i+1); "neox" rotates (i, i + nRot/2).
 * Four pairs go through at a time: an f32 product is the f64 product rounded once (24-bit operands multiply
 * exactly in f64), so f32x4.mul gives the rounded x1·s, and the f64 steps run two lanes at a time in f64x2 with
 * the scalar code's operations, so every element is bitwise the one-pair-at-a-time result.
 */

/**
 * x (nTokens, nHeads, headDim); cs (nTokens, nRot/2, 2) holding (cos, sin). Tokens t0..t1 only (thread split).
 */
export function rope(x: usize, cs: usize, t0: i32, t1: i32, nHeads: i32, headDim: i32, nRot: i32, neox: i32): void {
  const half = nRot >> 1, quads = half & ~3;
  for (let t = t0; t < t1; t++) {
    const ct = cs + ((<usize>(t * half)) << 3);
    for (let h = 0; h < nHeads; h++) {
      const base = x + ((<usize>(t * nHeads + h) * <usize>headDim) << 2);
      for (let i = 0; i < quads; i += 4) {
        const c01 = v128.load(ct + (<usize>i << 3)), c23 = v128.load(ct + (<usize>i << 3), 16);
        const c = v128.shuffle<f32>(c01, c23, 0, 2, 4, 6), s = v128.shuffle<f32>(c01, c23, 1, 3, 5, 7);
        if (neox != 0) {
          const pa = base + (<usize>i << 2), pb = base + (<usize>(i + half) << 2);
          const x0 = v128.load(pa), x1 = v128.load(pb);
          v128.store(pa, rotA(x0, x1, c, s));
          v128.store(pb, rotB(x0, x1, c, s));
        } else {
          const p = base + (<usize>(2 * i) << 2);
          const u = v128.load(p), w = v128.load(p, 16);
          const x0 = v128.shuffle<f32>(u, w, 0, 2, 4, 6), x1 = v128.shuffle<f32>(u, w, 1, 3, 5, 7);
          const a = rotA(x0, x1, c, s), b = rotB(x0, x1, c, s);
          v128.store(p, v128.shuffle<f32>(a, b, 0, 4, 1, 5));
          v128.store(p, v128.shuffle<f32>(a, b, 2, 6, 3, 7), 16);
        }
      }
      for (let i = quads; i < half; i++) {
        const c = <f64>load<f32>(ct + (<usize>i << 3));
        const s = <f64>load<f32>(ct + (<usize>i << 3), 4);
        const pa = base + (<usize>(neox != 0 ? i : 2 * i) << 2);
        const pb = base + (<usize>(neox != 0 ? i + half : 2 * i + 1) << 2);
        const x0 = <f64>load<f32>(pa);
        const x1 = <f64>load<f32>(pb);
        // ggml's fused form (kernels/ts/rope.ts): the second product rounded to f32, the first exact in f64
        store<f32>(pa, <f32>(x0 * c - <f64><f32>(x1 * s)));
        store<f32>(pb, <f32>(x0 * s + <f64><f32>(x1 * c)));
      }
    }
  }
}

/** Lanes 2, 3 of v in lanes 0, 1 (for the f64x2 steps on the high half). */
@inline function high(v: v128): v128 {
  return v128.shuffle<f32>(v, v, 2, 3, 0, 1);
}

/** f32(f64(a)·f64(b) op f64(r)) lane by lane, op a subtraction (sub) or an addition, in two f64x2 halves. */
@inline function mulThen(a: v128, b: v128, r: v128, sub: bool): v128 {
  const pl = f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b));
  const ph = f64x2.mul(f64x2.promote_low_f32x4(high(a)), f64x2.promote_low_f32x4(high(b)));
  const rl = f64x2.promote_low_f32x4(r), rh = f64x2.promote_low_f32x4(high(r));
  const lo = f32x4.demote_f64x2_zero(sub ? f64x2.sub(pl, rl) : f64x2.add(pl, rl));
  const hi = f32x4.demote_f64x2_zero(sub ? f64x2.sub(ph, rh) : f64x2.add(ph, rh));
  return v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
}

/** The first element of each pair: x0·c − f32(x1·s). */
@inline function rotA(x0: v128, x1: v128, c: v128, s: v128): v128 {
  return mulThen(x0, c, f32x4.mul(x1, s), true);
}

/** The second: x0·s + f32(x1·c). */
@inline function rotB(x0: v128, x1: v128, c: v128, s: v128): v128 {
  return mulThen(x0, s, f32x4.mul(x1, c), false);
}
