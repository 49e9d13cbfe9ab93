/**
 * Q4_0 and Q8_0 weights repacked four rows at a time ("x4" layouts), for the one-token (decode) product. The
 * GGUF layout keeps a row's blocks together, so a one-row kernel reduces each block's sums across lanes and
 * converts each row's f16 scales on its own; four separate row streams would share the activation loads but
 * defeat the prefetcher (matmul-legacy.ts). Here the four rows of a quad are interleaved block by block in ONE
 * stream, each quad block the size of the four GGUF blocks (so the repacking runs in place):
 *   Q4_0, 72 bytes:  the four rows' f16 scales d (row 0 first), then groups k = 0..3 of sixteen bytes,
 *                    row r's GGUF quant bytes 4k..4k+3 at 4r;
 *   Q8_0, 136 bytes: the four scales, then groups k = 0..7 of sixteen bytes, row r's quants 4k..4k+3 at 4r.
 * A GGUF Q4_0 byte i holds element i (low nibble) and element i + 16 (high nibble), so group k's low nibbles
 * are elements 4k..4k+3 of the four rows and its high nibbles elements 16 + 4k..16 + 4k + 3: one splat of four
 * activation quants meets all four rows, the 8-bit dots leave one row per pair of i16 lanes, and a block's
 * four exact integer sums come out in the lanes of one vector (no horizontal reduction), its four scales from
 * one 8-byte load and one vector conversion (quadScales). Q8_0 widens each group to i16 (rows 0-1, rows 2-3) against a
 * splat of four i16 activation quants.
 * The f32 arithmetic is the one-row kernels' (matmul-legacy.ts: rowDotNarrow for Q4_0, fused; rowDot for
 * Q8_0, unfused), lane for lane: per row, the same exact S per block, the same d_w·d_x product, four running
 * sums by block residue mod 4, added as ((r0 + r1) + (r2 + r3)), then the last nb mod 4 blocks in order:
 * bitwise the same outputs. One block per loop iteration with the four sums rotating ran faster (V8) than
 * four blocks unrolled.
 */

import { f16Lo, f16x4Exact, storeTransposedI32 } from "./simd";
import { Q4_0, Q8_0 } from "./legacy-blocks";
import { quadsOf } from "./matmul-legacy-quads";

/** Bytes of one block of a quad: four GGUF Q4_0 blocks of 18 bytes; four Q8_0 blocks of 34. */
const QUAD_BLOCK: usize = 72, Q8_QUAD_BLOCK: usize = 136;

/**
 * Rewrites rows 0..rows-1 of the Q4_0 matrix at w (GGUF layout, rows a multiple of 4) into the x4 layout in
 * place, one quad at a time through tmp (4·rowBytes bytes of scratch).
 */
export function repackQ4x4(w: usize, rows: i32, cols: i32, tmp: usize): void {
  repackX4(18, w, rows, cols, tmp);
}

/**
 * Rewrites the Q8_0 matrix at w (GGUF layout, rows a multiple of 4) into its x4 layout in place through tmp
 * (4·rowBytes): quad block b (136 bytes) = the four rows' f16 scales, then groups k = 0..7 of sixteen bytes,
 * row r's quants 4k..4k+3 at 4r.
 */
export function repackQ8x4(w: usize, rows: i32, cols: i32, tmp: usize): void {
  repackX4(34, w, rows, cols, tmp);
}

/**
 * Both repacks (block: 18 for Q4_0, 34 for Q8_0, a constant after inlining): per quad of rows, each block's four
 * f16 scales, then its quant bytes in 16-byte runs, each run's four 32-bit groups transposed across the rows.
 */
@inline function repackX4(block: usize, w: usize, rows: i32, cols: i32, tmp: usize): void {
  const nb = cols >> 5, rowBytes = <usize>nb * block, quadBlock = 4 * block;
  for (let q = 0; q < rows >> 2; q++) {
    const wq = w + <usize>q * 4 * rowBytes;
    memory.copy(tmp, wq, 4 * rowBytes);
    for (let b = 0; b < nb; b++) {
      const b0 = tmp + <usize>b * block, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
      const o = wq + <usize>b * quadBlock;
      store<u16>(o, load<u16>(b0)); store<u16>(o, load<u16>(b1), 2);
      store<u16>(o, load<u16>(b2), 4); store<u16>(o, load<u16>(b3), 6);
      for (let h: usize = 0; h < (block - 2) >> 4; h++) {
        storeTransposedI32(v128.load(b0 + 2 + 16 * h), v128.load(b1 + 2 + 16 * h), v128.load(b2 + 2 + 16 * h), v128.load(b3 + 2 + 16 * h), o + 8 + 64 * h, 16);
      }
    }
  }
}

/** The exact Σ (q − 8)·x of one quad block at o against the narrow activation block at xb (Σx at sq): rows in lanes. */
@inline function quadBlockSums(o: usize, xb: usize, sq: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const m = i8x16.splat(15);
    const g0 = v128.load(o, 8), g1 = v128.load(o, 24), g2 = v128.load(o, 40), g3 = v128.load(o, 56);
    // each i16 lane sums 16 products of a 4-bit quant and an i8 quant: |Σ| ≤ 16·15·128, within i16
    let h = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xb), v128.and(g0, m));
    h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xb, 16), v128.and(i16x8.shr_u(g0, 4), m)));
    h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xb, 4), v128.and(g1, m)));
    h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xb, 20), v128.and(i16x8.shr_u(g1, 4), m)));
    h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xb, 8), v128.and(g2, m)));
    h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xb, 24), v128.and(i16x8.shr_u(g2, 4), m)));
    h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xb, 12), v128.and(g3, m)));
    h = i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xb, 28), v128.and(i16x8.shr_u(g3, 4), m)));
    return i32x4.sub(i32x4.extadd_pairwise_i16x8_s(h), i32x4.shl(v128.load32_splat(sq), 3));
  }
  return i32x4.splat(0);
}

/**
 * The four rows' d_w·d_x of the quad block at o (d_x at xd), as f32x4, the scales converted as the one-row
 * kernels convert them: in the loop over groups of four blocks by f16Lo (as their f16At4), in the last nb mod 4
 * blocks (tail) exactly (simd.ts f16x4Exact, as their f16ToF32). The two differ on ±inf/NaN scales only (f16Lo
 * makes them finite). f16x4Exact throughout would also spare f16-subnormal scales f16Lo's f32-subnormal
 * multiply (a microcode assist per block), but it cost a third of Q4_0's decode speed (about a tenth of
 * Q8_0's) on normal scales, and the one-row kernels pay the same assists in their f16At4.
 */
@inline function quadScales(tail: bool, o: usize, xd: usize): v128 {
  const h = v128.load64_zero(o);
  return f32x4.mul(tail ? f16x4Exact(i32x4.extend_low_i16x8_s(h)) : f16Lo(h), v128.load32_splat(xd));
}

/**
 * Decode, x4 layout: rows rowStart..rowEnd (multiples of 4) of the Q4_0 matrix at w against one narrow
 * activation row xq (relaxed build), outputs at out[r].
 */
@inline function matvecQ4x4(out: usize, w: usize, xq: usize, cols: i32, rowStart: i32, rowEnd: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const nb = cols >> 5, quadBytes = <usize>nb * QUAD_BLOCK;
    const xd = xq + <usize>cols, sq = xd + (<usize>nb << 2);
    for (let r = rowStart; r < rowEnd; r += 4) {
      let o = w + <usize>(r >> 2) * quadBytes;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let b = 0;
      // one block an iteration, the four sums rotating (a0 always takes the next block): after a multiple of
      // four blocks each a_k again holds the blocks ≡ k mod 4
      for (const n4 = nb & ~3; b < n4; b++, o += QUAD_BLOCK) {
        const t = f32x4.relaxed_madd(f32x4.convert_i32x4_s(quadBlockSums(o, xq + (<usize>b << 5), sq + (<usize>b << 2))), quadScales(false, o, xd + (<usize>b << 2)), a0);
        a0 = a1; a1 = a2; a2 = a3; a3 = t;
      }
      let v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
      for (; b < nb; b++, o += QUAD_BLOCK) {
        v = f32x4.add(v, f32x4.mul(f32x4.convert_i32x4_s(quadBlockSums(o, xq + (<usize>b << 5), sq + (<usize>b << 2))), quadScales(true, o, xd + (<usize>b << 2))));
      }
      v128.store(out + (<usize>r << 2), v);
    }
  }
}


/** Weight rows per prefill chunk: matmul-legacy.ts's ROW_CHUNK, so legacyScratchBytes covers the scratch. */
const ROW_CHUNK: i32 = 16;

/**
 * matmulLegacy (matmul-legacy.ts) for a Q4_0 matrix in the x4 layout, rows rowStart..rowEnd multiples of 4:
 * one token streams the quads (matvecQ4x4), several go through the prefill quads (matmul-legacy-quads.ts),
 * which read the x4 blocks directly. Same arguments, same outputs, bit for bit. Relaxed build only (the
 * layout exists only where the narrow kernels run): the baseline build traps rather than compute garbage.
 */
export function matmulQ4x4(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32,
  meta: usize, scratch: usize): void {
  if (!ASC_FEATURE_RELAXED_SIMD) unreachable();
  if (nTokens == 1) {
    matvecQ4x4(out, w, x, cols, rowStart, rowEnd);
    return;
  }
  const rowBytes = <usize>(cols >> 5) * 18;
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    quadsOf(Q4_0, out, w, rows, cols, nTokens, r0, (min(r0 + ROW_CHUNK, rowEnd) - r0) >> 2, rowBytes, meta, scratch, true);
  }
}


/** Σ q·x of one Q8_0 quad block at o against the wide (i16) activation block at xb: rows in lanes, exact. */
@inline function q8QuadSums(o: usize, xb: usize): v128 {
  let p = i32x4.splat(0), q = p; // p: rows 0, 1 (two partial sums each), q: rows 2, 3
  for (let k: usize = 0; k < 8; k++) {
    const g = v128.load(o + 8 + (k << 4)), xs = v128.load64_splat(xb + (k << 3));
    p = i32x4.add(p, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(g), xs));
    q = i32x4.add(q, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(g), xs));
  }
  return i32x4.add(i32x4.shuffle(p, q, 0, 2, 4, 6), i32x4.shuffle(p, q, 1, 3, 5, 7));
}

/**
 * Decode, Q8_0 x4 layout (both builds): rowDot's arithmetic (matmul-legacy.ts), unfused like it, with the
 * four running sums by block residue rotating as in matvecQ4x4; rows rowStart..rowEnd multiples of 4.
 */
@inline function matvecQ8x4(out: usize, w: usize, xq: usize, cols: i32, rowStart: i32, rowEnd: i32): void {
  const nb = cols >> 5, quadBytes = <usize>nb * Q8_QUAD_BLOCK;
  const xd = xq + (<usize>cols << 1);
  for (let r = rowStart; r < rowEnd; r += 4) {
    let o = w + <usize>(r >> 2) * quadBytes;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let b = 0;
    for (const n4 = nb & ~3; b < n4; b++, o += Q8_QUAD_BLOCK) {
      const t = f32x4.add(a0, f32x4.mul(f32x4.convert_i32x4_s(q8QuadSums(o, xq + (<usize>b << 6))), quadScales(false, o, xd + (<usize>b << 2))));
      a0 = a1; a1 = a2; a2 = a3; a3 = t;
    }
    let v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
    for (; b < nb; b++, o += Q8_QUAD_BLOCK) {
      v = f32x4.add(v, f32x4.mul(f32x4.convert_i32x4_s(q8QuadSums(o, xq + (<usize>b << 6))), quadScales(true, o, xd + (<usize>b << 2))));
    }
    v128.store(out + (<usize>r << 2), v);
  }
}

/** matmulQ4x4 for Q8_0 in its x4 layout (both builds: Q8_0 takes wide activation rows in each). */
export function matmulQ8x4(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32,
  meta: usize, scratch: usize): void {
  if (nTokens == 1) {
    matvecQ8x4(out, w, x, cols, rowStart, rowEnd);
    return;
  }
  const rowBytes = <usize>(cols >> 5) * 34;
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    quadsOf(Q8_0, out, w, rows, cols, nTokens, r0, (min(r0 + ROW_CHUNK, rowEnd) - r0) >> 2, rowBytes, meta, scratch, true);
  }
}
