/**
 * Products with F16 weights in llama.cpp's own order of additions (x86 AVX-512 build), as the reference's
 * ts/matmul.ts and ts/ggml-f16-dot.ts sum them, so both backends give llama.cpp's f16 products to the bit:
 *  - one token, or a shape tinyBLAS refuses: ggml_vec_dot_f16's 64 lanes per row (ggml-math.ts dotF16Vec64);
 *  - two or more tokens with cols % 16 == 0 and rows % 4 == 0: tinyBLAS's 16 lanes over the whole row, then
 *    _mm512_reduce_add_ps's tree.
 * Activations arrive rounded to f16 and scaled by 2^112, weights are read as w · 2^-112 (matmul-float.ts's ldw),
 * so every product is the exact f16 × f16 product in f32 and only the order of the sums matters.
 * Prefill tiles: two weight rows × four tokens, the 16 lanes of each output held as four f32x4 vectors summed one
 * pass each (tile16); each chunk of ROW_CHUNK weight rows is widened to f32 once into per-thread scratch when
 * there is some, as matmul-float.ts does.
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
 * Outputs of R weight rows (R = 1 or 2, from row r at w) with four tokens (from token t at x). Each output's
 * 16 lanes are four vectors; vector v sums elements 4v..4v+3 of every 16, so one pass per vector (strided loads
 * from L1) keeps the old tile's register blocking: each weight vector serves four tokens, each activation vector
 * R rows (fewer loads per multiply-add than four vectors at once for fewer outputs, which ran 2.5× slower).
 * Passes run v = 0, 2, 1, 3 and park their sums in `stash` (16 vectors): B0 = A0 + A2, B1 = A1 + A3, C = B0 + B1.
 */
@inline function tile16(type: i32, R: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, r: i32, t: i32, stash: usize): void {
  const wRow = type == F32 ? <usize>cols << 2 : <usize>cols << 1, xRow = <usize>cols << 2;
  const w0 = w, w1 = w + wRow;
  const x0 = x, x1 = x + xRow, x2 = x + 2 * xRow, x3 = x + 3 * xRow;
  for (let pass = 0; pass < 4; pass++) {
    const v = pass == 0 ? 0 : pass == 1 ? 2 : pass == 2 ? 1 : 3;
    let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
    let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
    for (let i = v << 2; i < cols; i += 16) {
      const wa = ldw(type, w0, i);
      const y0 = ldx(x0, i), y1 = ldx(x1, i), y2 = ldx(x2, i), y3 = ldx(x3, i);
      a00 = maddExact(a00, wa, y0); a01 = maddExact(a01, wa, y1); a02 = maddExact(a02, wa, y2); a03 = maddExact(a03, wa, y3);
      if (R == 2) {
        const wb = ldw(type, w1, i);
        a10 = maddExact(a10, wb, y0); a11 = maddExact(a11, wb, y1); a12 = maddExact(a12, wb, y2); a13 = maddExact(a13, wb, y3);
      }
    }
    const st = stash + (pass >= 2 ? 128 : 0); // B0 in the first 8 vectors, B1 in the next 8
    if ((pass & 1) == 0) {
      v128.store(st, a00); v128.store(st, a01, 16); v128.store(st, a02, 32); v128.store(st, a03, 48);
      v128.store(st, a10, 64); v128.store(st, a11, 80); v128.store(st, a12, 96); v128.store(st, a13, 112);
    } else {
      v128.store(st, f32x4.add(v128.load(st), a00)); v128.store(st, f32x4.add(v128.load(st, 16), a01), 16);
      v128.store(st, f32x4.add(v128.load(st, 32), a02), 32); v128.store(st, f32x4.add(v128.load(st, 48), a03), 48);
      v128.store(st, f32x4.add(v128.load(st, 64), a10), 64); v128.store(st, f32x4.add(v128.load(st, 80), a11), 80);
      v128.store(st, f32x4.add(v128.load(st, 96), a12), 96); v128.store(st, f32x4.add(v128.load(st, 112), a13), 112);
    }
  }
  const step = <usize>rows << 2;
  const o = out + ((<usize>t * <usize>rows + <usize>r) << 2);
  for (let k = 0; k < R; k++) {
    const sk = stash + (<usize>k << 6), ok = o + (<usize>k << 2);
    store<f32>(ok, hsumTree(f32x4.add(v128.load(sk), v128.load(sk, 128))));
    store<f32>(ok + step, hsumTree(f32x4.add(v128.load(sk, 16), v128.load(sk, 144))));
    store<f32>(ok + 2 * step, hsumTree(f32x4.add(v128.load(sk, 32), v128.load(sk, 160))));
    store<f32>(ok + 3 * step, hsumTree(f32x4.add(v128.load(sk, 48), v128.load(sk, 176))));
  }
}

/** Every token of weight rows r0..r1 (row r0 at wc, rows of `type`), tinyBLAS's order. */
@inline function chunk16(type: i32, out: usize, wc: usize, x: usize, rows: i32, cols: i32, nTokens: i32, r0: i32, r1: i32, stash: usize): void {
  const wRow = type == F32 ? <usize>cols << 2 : <usize>cols << 1, xRow = <usize>cols << 2;
  const tiled = nTokens & ~3;
  for (let t = 0; t < tiled; t += 4) {
    let r = r0;
    for (; r + 2 <= r1; r += 2) tile16(type, 2, out, wc + <usize>(r - r0) * wRow, x + <usize>t * xRow, rows, cols, r, t, stash);
    for (; r < r1; r++) tile16(type, 1, out, wc + <usize>(r - r0) * wRow, x + <usize>t * xRow, rows, cols, r, t, stash);
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
      chunk16(F32, out, scratch, x, rows, cols, nTokens, r0, r1, scratch + <usize>ROW_CHUNK * xRow);
    } else { // fewer than 4 tokens (no scratch): no 4-token tiles, so no stash
      chunk16(F16, out, w + <usize>r0 * wRow, x, rows, cols, nTokens, r0, r1, 0);
    }
  }
}
