/**
 * The entries of the K-quant x4 layouts (q4_Kx4: matmul-kquants-x4.ts, q6_Kx4: matmul-q6k-x4.ts), relaxed build:
 * matmulKQuant's arguments and outputs, bit for bit, for matrices whose rows were repacked four at a time. One
 * token streams the quads: one loop over quads of rows and their super-blocks for both layouts (matvecKx4), `type`
 * a constant after inlining that picks the per-super-block body (superQ4Kx4, superQ6Kx4) and the quad
 * super-block's size. Several tokens go to the prefill quads, which build their records from either layout. The
 * bodies, repacks and record builders stay in their own files; this file holds only what the two layouts share.
 */

import { Q4K_QUAD_SUPER, superQ4Kx4 } from "./matmul-kquants-x4";
import { Q6K_QUAD_SUPER, superQ6Kx4 } from "./matmul-q6k-x4";
import { kquantQuadsOfX4 } from "./matmul-kquant-quads";

// ggml type ids, as matmul-kquants.ts
const Q4_K: i32 = 12, Q6_K: i32 = 14;

/**
 * Decode: rows rowStart..rowEnd (multiples of 4) of the `type` matrix at w in its x4 layout against one narrow q8_k
 * activation row xq (quants, then each super-block's d_x, then its sixteen per-16 sums), outputs at out[r]; sp:
 * the thread's scratch, which the bodies use to keep V8 from spilling.
 */
@inline function matvecKx4(type: i32, out: usize, w: usize, xq: usize, cols: i32, rowStart: i32, rowEnd: i32, sp: usize): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const quadSuper = type == Q4_K ? Q4K_QUAD_SUPER : Q6K_QUAD_SUPER;
    const nb = cols >> 8, quadBytes = <usize>nb * quadSuper;
    const xd = xq + <usize>cols, bs = xd + (<usize>nb << 2);
    for (let r = rowStart; r < rowEnd; r += 4) {
      let o = w + <usize>(r >> 2) * quadBytes;
      let acc = f32x4.splat(0);
      for (let b = 0; b < nb; b++, o += quadSuper) {
        const x = xq + (<usize>b << 8), xdb = xd + (<usize>b << 2), bsb = bs + (<usize>b << 5);
        acc = type == Q4_K ? superQ4Kx4(acc, o, x, xdb, bsb, sp) : superQ6Kx4(acc, o, x, xdb, bsb, sp);
      }
      v128.store(out + (<usize>r << 2), acc);
    }
  }
}

/**
 * matmulKQuant (matmul-kquants.ts) for a `type` matrix in its x4 layout, rows rowStart..rowEnd multiples of 4:
 * one token streams the quads (matvecKx4); several, whatever their number, go through the prefill quads
 * (matmul-kquant-quads.ts; tiles: the quad tiles), which build their records from the quads
 * (kquantQuadsOfX4). The baseline build traps rather than compute garbage.
 */
@inline function matmulKx4(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32,
  tiles: usize, scratch: usize): void {
  if (!ASC_FEATURE_RELAXED_SIMD) unreachable();
  if (nTokens == 1) {
    matvecKx4(type, out, w, x, cols, rowStart, rowEnd, scratch);
    return;
  }
  if (ASC_FEATURE_RELAXED_SIMD) kquantQuadsOfX4(type, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}

/** matmulKx4 for Q4_K weights in the q4_Kx4 layout. */
export function matmulQ4Kx4(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32,
  tiles: usize, scratch: usize): void {
  matmulKx4(Q4_K, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}

/** matmulKx4 for Q6_K weights in the q6_Kx4 layout. */
export function matmulQ6Kx4(out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32,
  tiles: usize, scratch: usize): void {
  matmulKx4(Q6_K, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}
