/**
 * Products with F16 weights in llama.cpp's own order of additions (x86 AVX-512 build), as the reference's
 * ts/matmul.ts and ts/ggml-f16-dot.ts sum them, so both backends give llama.cpp's f16 products to the bit:
 *  - one token, or a shape tinyBLAS refuses: ggml_vec_dot_f16's 64 lanes per row (ggml-math.ts dotF16Vec64);
 *  - two or more tokens with cols % 16 == 0 and rows % 4 == 0: tinyBLAS's 16 lanes over the whole row, then
 *    _mm512_reduce_add_ps's tree.
 * Activations arrive rounded to f16 and scaled by 2^112, weights are read as w · 2^-112 (matmul-float.ts's ldw),
 * so every product is the exact f16 × f16 product in f32 and only the order of the sums matters.
 * Prefill tiles: one weight row × four tokens, the 16 lanes of each output held as four f32x4 vectors summed in
 * two passes (vectors 0 and 2, then 1 and 3) to stay within the registers; each chunk of ROW_CHUNK weight rows
 * is widened to f32 once into per-thread scratch when there is some, as matmul-float.ts does.
 */

import { dotF16Tiled16, dotF16Vec64, f16x4Scaled, maddExact } from "./ggml-math";
import { ROW_CHUNK, widenRows } from "./matmul-float";

const F32: i32 = 0, F16: i32 = 1;

/** Four weights at element i of a row at p: widened f32 scratch (F32) or f16 bits (F16), both as w · 2^-112. */
@inline function ldw(type: i32, p: usize, i: i32): v128 {
  return type == F32 ? v128.load(p + (<usize>i << 2)) : f16x4Scaled(p + (<usize>i << 1));
}

@inline function ldx(x: usize, i: i32): v128 {
  return v128.load(x + (<usize>i << 2));
}

/** (c0 + c2) + (c1 + c3) of one vector: the last steps of _mm512_reduce_add_ps. */
@inline function hsumTree(c: v128): f32 {
  return (f32x4.extract_lane(c, 0) + f32x4.extract_lane(c, 2)) + (f32x4.extract_lane(c, 1) + f32x4.extract_lane(c, 3));
}

/**
 * Outputs of one weight row (at w, row r) with four tokens (from token t at x): each output's 16 lanes are four
 * vectors, 0 and 2 summed in a first pass over the row, 1 and 3 in a second (16 accumulators at once would spill).
 */
@inline function tile16x4(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, r: i32, t: i32): void {
  const xRow = <usize>cols << 2;
  const x0 = x, x1 = x + xRow, x2 = x + 2 * xRow, x3 = x + 3 * xRow;
  // pass 1: vectors 0 (elements 0..3 of each 16) and 2 (8..11), four tokens
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let i = 0; i < cols; i += 16) {
    const w0 = ldw(type, w, i), w2 = ldw(type, w, i + 8);
    a0 = maddExact(a0, w0, ldx(x0, i)); c0 = maddExact(c0, w2, ldx(x0, i + 8));
    a1 = maddExact(a1, w0, ldx(x1, i)); c1 = maddExact(c1, w2, ldx(x1, i + 8));
    a2 = maddExact(a2, w0, ldx(x2, i)); c2 = maddExact(c2, w2, ldx(x2, i + 8));
    a3 = maddExact(a3, w0, ldx(x3, i)); c3 = maddExact(c3, w2, ldx(x3, i + 8));
  }
  const p0 = f32x4.add(a0, c0), p1 = f32x4.add(a1, c1), p2 = f32x4.add(a2, c2), p3 = f32x4.add(a3, c3);
  // pass 2: vectors 1 (elements 4..7) and 3 (12..15)
  a0 = f32x4.splat(0); a1 = f32x4.splat(0); a2 = f32x4.splat(0); a3 = f32x4.splat(0);
  c0 = f32x4.splat(0); c1 = f32x4.splat(0); c2 = f32x4.splat(0); c3 = f32x4.splat(0);
  for (let i = 0; i < cols; i += 16) {
    const w1 = ldw(type, w, i + 4), w3 = ldw(type, w, i + 12);
    a0 = maddExact(a0, w1, ldx(x0, i + 4)); c0 = maddExact(c0, w3, ldx(x0, i + 12));
    a1 = maddExact(a1, w1, ldx(x1, i + 4)); c1 = maddExact(c1, w3, ldx(x1, i + 12));
    a2 = maddExact(a2, w1, ldx(x2, i + 4)); c2 = maddExact(c2, w3, ldx(x2, i + 12));
    a3 = maddExact(a3, w1, ldx(x3, i + 4)); c3 = maddExact(c3, w3, ldx(x3, i + 12));
  }
  // reduce: (v0 + v2) + (v1 + v3), then the tree
  const step = <usize>rows << 2;
  const o = out + ((<usize>t * <usize>rows + <usize>r) << 2);
  store<f32>(o, hsumTree(f32x4.add(p0, f32x4.add(a0, c0))));
  store<f32>(o + step, hsumTree(f32x4.add(p1, f32x4.add(a1, c1))));
  store<f32>(o + 2 * step, hsumTree(f32x4.add(p2, f32x4.add(a2, c2))));
  store<f32>(o + 3 * step, hsumTree(f32x4.add(p3, f32x4.add(a3, c3))));
}

/** Every token of weight rows r0..r1 (row r0 at wc, rows of `type`), tinyBLAS's order. */
@inline function chunk16(type: i32, out: usize, wc: usize, x: usize, rows: i32, cols: i32, nTokens: i32, r0: i32, r1: i32): void {
  const wRow = type == F32 ? <usize>cols << 2 : <usize>cols << 1, xRow = <usize>cols << 2;
  const tiled = nTokens & ~3;
  for (let t = 0; t < tiled; t += 4) {
    for (let r = r0; r < r1; r++) tile16x4(type, out, wc + <usize>(r - r0) * wRow, x + <usize>t * xRow, rows, cols, r, t);
  }
  for (let t = tiled; t < nTokens; t++) {
    for (let r = r0; r < r1; r++) {
      const w = wc + <usize>(r - r0) * wRow, xt = x + <usize>t * xRow;
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), type == F32 ? dotF32Tiled16(w, xt, cols) : dotF16Tiled16(w, xt, cols, true));
    }
  }
}

/** dotF16Tiled16 over a widened (f32, w · 2^-112) row. */
@inline function dotF32Tiled16(w: usize, x: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let i = 0; i < n; i += 16) {
    a0 = maddExact(a0, ldw(F32, w, i), ldx(x, i)); a1 = maddExact(a1, ldw(F32, w, i + 4), ldx(x, i + 4));
    a2 = maddExact(a2, ldw(F32, w, i + 8), ldx(x, i + 8)); a3 = maddExact(a3, ldw(F32, w, i + 12), ldx(x, i + 12));
  }
  return hsumTree(f32x4.add(f32x4.add(a0, a2), f32x4.add(a1, a3)));
}

/**
 * out (nTokens, rows) = x (nTokens, cols) · wᵀ for F16 weight rows rowStart..rowEnd, x rounded to f16 and scaled
 * by 2^112 (roundRowsF16); scratch: 0, or this thread's matmulFloatScratchBytes(cols) bytes.
 */
export function matmulF16Ggml(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, scratch: usize): void {
  const wRow = <usize>cols << 1, xRow = <usize>cols << 2;
  if (nTokens < 2 || (cols & 15) != 0 || (rows & 3) != 0) { // ggml_vec_dot_f16, one output at a time
    for (let r = rowStart; r < rowEnd; r++) {
      for (let t = 0; t < nTokens; t++) {
        store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), dotF16Vec64(w + <usize>r * wRow, x + <usize>t * xRow, cols, true));
      }
    }
    return;
  }
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd);
    if (scratch != 0) {
      widenRows(F16, scratch, w, cols, r0, r1);
      chunk16(F32, out, scratch, x, rows, cols, nTokens, r0, r1);
    } else {
      chunk16(F16, out, w + <usize>r0 * wRow, x, rows, cols, nTokens, r0, r1);
    }
  }
}
