/**
 * Prefill of Q4_K, Q5_K and Q6_K products (relaxed build) on weight rows repacked four at a time ("quads"), as
 * matmul-legacy-quads.ts does for the 32-element types: a SIMD lane is a weight row, one activation broadcast
 * (four i8 quants of one token) meets sixteen unsigned weight bytes (four elements of four rows) in one
 * i16x8.relaxed_dot_i8x16_i7x16_s, and the pair sums add up in i16 over as many 8-bit dots as the quants'
 * size allows (groupsPerSum: Q4_K a whole 32-element sub-block, Q5_K half of one, Q6_K half of its 16-element
 * sub-block) before one i32x4.dot_i16x8_s applies the four rows' sub-block scales. The row kernels
 * (matmul-kquants-narrow.ts q45SuperNarrow, q6SuperNarrow) need that i16 dot every two 8-bit dots (Q6_K: every one).
 * Per row and token the integers are the row kernels' (S = Σ sc·q·x and M = Σ m·bsum per super-block; Q6_K
 * S − 32·Σ sc·bsum16; exact) and the float steps are addSuper's in the same order (acc + S·(d_w·d_x), then
 * − M·(dmin_w·d_x), unfused), so the outputs are bitwise those of kRowTile. One kernel for the three types,
 * `type` a constant after inlining (quadsQ4K, quadsQ5K, quadsQ6K).
 * Each chunk of rows is repacked once into the thread's scratch, then every tile of four tokens passes over it;
 * the repack unpacks every quant to a byte (Q5_K's fifth bit, Q6_K's top two bits merged in).
 * Quads go in pairs (A, B; a last odd quad is paired with itself, and a last partial quad repeats its last row),
 * one record per super-block, A's field then B's at a constant offset so that one pointer reaches both.
 * Q4_K/Q5_K: d_w (f32 ×4) A, B; dmin_w A, B; the eight sub-blocks' scale vectors (i16: each row's scale twice,
 * matching the pair sums) A, B in turn; four min vectors per quad (sub-blocks 2p and 2p + 1 of each row,
 * against a token's two 32-element sums); then 64 groups of quants, group k holding elements 4k..4k+3 of the
 * four rows. Q6_K: d_w A, B; sixteen scale vectors (signed); eight "min" vectors of the same scales, two
 * sub-blocks each, against the 16-element sums (the offset of 32); the quants as Q4_K's.
 * The activations come as quad tiles (kquadTiles): per super-block the four tokens' quants group by group
 * (token t's elements 4k..4k+3 at 16k + 4t), their d_x, each token's eight 32-element sums and its sixteen
 * 16-element sums (i16).
 */

import { f16ToF32, storeTransposedI32, storeRowLanes } from "./simd";
import { q8kRowBytes } from "./activation-rounding";
import { scalesAndMins } from "./matmul-kquants";
import { x4QuadRecord } from "./matmul-kquants-x4";
import { q6Kx4QuadRecord } from "./matmul-q6k-x4";

// ggml type ids, as matmul-kquants.ts
const Q4_K: i32 = 12, Q5_K: i32 = 13, Q6_K: i32 = 14;

/** Quad tile: bytes of the quants, offsets of d_x, the 32-element sums and the 16-element sums, bytes per super-block (also read by matmul-q2k-quads.ts). */
export const QT_D: usize = 1024, QT_BS: usize = QT_D + 16, QT_BS16: usize = QT_BS + 64, QT_BYTES: usize = QT_BS16 + 128;
/** Pair record offsets (Q4_K/Q5_K; Q6_K: rSc..rBytes): d_w, dmin_w, scale vectors, min vectors, quants. */
export const R_D: usize = 0, R_DMIN: usize = 32;
/** Bytes of the largest pair record (Q6_K's), per super-block. */
const R_MAX: usize = 800 + 2048;
/** Q4_K's record offsets (matmul-kquants-x4.ts builds Q4_K records from its x4 quads): scale vectors, min vectors, quants. */
export const R_SC: usize = 64, R_MIN: usize = 320, R_Q: usize = 448;
/** Q6_K's (matmul-q6k-x4.ts builds Q6_K records from its x4 quads). */
export const R6_SC: usize = 32, R6_MIN: usize = 544, R6_Q: usize = 800;
/** Scratch ahead of the records: the f32 running sums (two quads × four tokens), the i32 sums S, the repack's bytes. */
const ACC: usize = 0, SUMS: usize = 128, TMP: usize = 256, HEAD: usize = 320;
const ROW_CHUNK: i32 = 16;

/** Offset of the scale vectors: one per sub-block (32 elements; Q6_K: 16), each row's scale in two i16 lanes. */
@inline function rSc(type: i32): usize { return type == Q6_K ? R6_SC : R_SC; }
/** Offset of the min vectors (Q6_K: the same scales two sub-blocks to a vector, for its offset of 32). */
@inline function rMin(type: i32): usize { return type == Q6_K ? R6_MIN : R_MIN; }
/** Offset of the quants, then bytes per super-block. */
@inline function rQ(type: i32): usize { return type == Q6_K ? R6_Q : R_Q; }
@inline function rBytes(type: i32): usize { return rQ(type) + 2048; }
@inline function blockBytes(type: i32): usize { return type == Q4_K ? 144 : type == Q5_K ? 176 : 210; }
/**
 * 8-bit dots whose i16 pair sums add up before a widening i16 dot: |pair| ≤ 2·q_max·127, so 8 for Q4_K
 * (8·2·15·127 < 2^15), 4 for Q5_K (4·2·31·127), 2 for Q6_K (2·2·63·127); groups of four elements per scale: 8, 8, 4.
 */
@inline function groupsPerSum(type: i32): usize { return type == Q4_K ? 8 : type == Q5_K ? 4 : 2; }
@inline function groupsPerScale(type: i32): usize { return type == Q6_K ? 4 : 8; }

/**
 * Quad tiles of narrow q8_k rows x (quantizeQ8K, narrow) at tiles: kquadTileBytes(cols, nTokens) bytes;
 * a last partial tile repeats its last token.
 */
export function kquadTiles(x: usize, tiles: usize, cols: i32, nTokens: i32): void {
  const nb = cols >> 8, xRow = <usize>q8kRowBytes(cols, true);
  const dOff = <usize>cols, bsOff = dOff + (<usize>nb << 2);
  for (let t = 0; t < (nTokens + 3) >> 2; t++) {
    const r0 = x + <usize>min(4 * t, nTokens - 1) * xRow, r1 = x + <usize>min(4 * t + 1, nTokens - 1) * xRow;
    const r2 = x + <usize>min(4 * t + 2, nTokens - 1) * xRow, r3 = x + <usize>min(4 * t + 3, nTokens - 1) * xRow;
    for (let b = 0; b < nb; b++) {
      const p = tiles + (<usize>t * <usize>nb + <usize>b) * QT_BYTES, q = <usize>b << 8;
      for (let g: usize = 0; g < 16; g++) { // sixteen elements of each token: groups 4g..4g+3
        storeTransposedI32(v128.load(r0 + q + (g << 4)), v128.load(r1 + q + (g << 4)), v128.load(r2 + q + (g << 4)),
          v128.load(r3 + q + (g << 4)), p + (g << 6), 16);
      }
      const d = dOff + (<usize>b << 2), bs = bsOff + (<usize>b << 5);
      store<f32>(p + QT_D, load<f32>(r0 + d)); store<f32>(p + QT_D, load<f32>(r1 + d), 4);
      store<f32>(p + QT_D, load<f32>(r2 + d), 8); store<f32>(p + QT_D, load<f32>(r3 + d), 12);
      storeSums(r0 + bs, p, 0); storeSums(r1 + bs, p, 1); storeSums(r2 + bs, p, 2); storeSums(r3 + bs, p, 3);
    }
  }
}

/**
 * Token t's sums of super-block record p from its sixteen 16-element sums at bs: those (Q6_K) and the eight
 * 32-element sums (i16, |sum| ≤ 32·127; Q4_K/Q5_K).
 */
@inline function storeSums(bs: usize, p: usize, t: usize): void {
  const lo = v128.load(bs), hi = v128.load(bs, 16);
  v128.store(p + QT_BS + (t << 4), i16x8.narrow_i32x4_s(i32x4.extadd_pairwise_i16x8_s(lo), i32x4.extadd_pairwise_i16x8_s(hi)));
  v128.store(p + QT_BS16 + (t << 5), lo);
  v128.store(p + QT_BS16 + (t << 5), hi, 16);
}

/** Bytes kquadTiles writes for nTokens rows of `cols`. */
export function kquadTileBytes(cols: i32, nTokens: i32): i32 {
  return ((nTokens + 3) >> 2) * (cols >> 8) * <i32>QT_BYTES;
}

/**
 * The fewest tokens for which a product of `type` (ggml id) runs on quads, 0 for a type without them: each chunk
 * of rows is repacked once per product, about a tile's worth of the quads' work or more, so with fewer tokens
 * the row kernels (kRowTile) are faster (bench: one thread, relaxed, quads against rows: 4 tokens Q4_K 69 vs
 * 80, Q5_K 54 vs 66, Q6_K 55 vs 64 GFLOP/s; 8 tokens Q5_K 73 vs 66, Q6_K 67 vs 63, noisy; 20 tokens Q6_K 83 vs
 * 64). prepareMatmul (the quad tiles) and rowsOf (the kernel) both ask here.
 */
export function kquadMinTokens(type: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 0;
  return type == Q4_K || type == Q5_K ? 8 : type == Q6_K ? 12 : 0;
}

/** Bytes of per-thread scratch kquantQuadsOf needs for rows of `cols` (any type): one chunk's records and the sums. */
export function kquadScratchBytes(cols: i32): i32 {
  return <i32>HEAD + (ROW_CHUNK >> 3) * (cols >> 8) * <i32>R_MAX;
}

/**
 * Elements 16k..16k+15 (unsigned) of the Q4_K/Q5_K super-block at wb: 64-element chunk c = k >> 2 holds
 * sub-block 2c in the low nibbles of its 32 bytes and 2c + 1 in the high ones, Q5_K's fifth bit being bit 2c
 * (2c + 1) of qh[i] for element i of the sub-block. (Q6_K: repackQ6Quants.)
 */
@inline function quants16(type: i32, wb: usize, k: usize): v128 {
  const m4 = i8x16.splat(15), i0 = (k & 1) << 4;
  const c = k >> 2, high = (k >> 1) & 1;
  const q = v128.load(wb + (type == Q4_K ? 16 : 48) + (c << 5) + i0);
  const nib = high != 0 ? v128.and(i16x8.shr_u(q, 4), m4) : v128.and(q, m4);
  if (type == Q4_K) return nib;
  const hb = v128.and(i16x8.shr_u(v128.load(wb + 16 + i0), <i32>(2 * c + high)), i8x16.splat(1));
  return v128.or(nib, i16x8.shl(hb, 4));
}

/**
 * Super-block b of the quad whose rows are at w0..w3 (GGUF layout of `type`) into side `side` (0: A, 1: B) of
 * the pair record at o; tmp: 64 bytes of scratch.
 */
@inline function repackQuadSuper(type: i32, w0: usize, w1: usize, w2: usize, w3: usize, o: usize, side: usize, tmp: usize): void {
  const os = o + (side << 4);
  if (type == Q6_K) {
    store<f32>(os + R_D, f16ToF32(load<u16>(w0, 208))); store<f32>(os + R_D, f16ToF32(load<u16>(w1, 208)), 4);
    store<f32>(os + R_D, f16ToF32(load<u16>(w2, 208)), 8); store<f32>(os + R_D, f16ToF32(load<u16>(w3, 208)), 12);
    // the sixteen i8 scales of each row widened to i16: min vector p holds sub-blocks 2p, 2p + 1 of the four rows
    const v0 = v128.load(w0 + 192), v1 = v128.load(w1 + 192), v2 = v128.load(w2 + 192), v3 = v128.load(w3 + 192);
    storeTransposedI32(i16x8.extend_low_i8x16_s(v0), i16x8.extend_low_i8x16_s(v1), i16x8.extend_low_i8x16_s(v2),
      i16x8.extend_low_i8x16_s(v3), os + rMin(Q6_K), 32);
    storeTransposedI32(i16x8.extend_high_i8x16_s(v0), i16x8.extend_high_i8x16_s(v1), i16x8.extend_high_i8x16_s(v2),
      i16x8.extend_high_i8x16_s(v3), os + rMin(Q6_K) + 128, 32);
    spreadScales(os + rMin(Q6_K), 32, os + rSc(Q6_K), 8);
    repackQ6Quants(w0, w1, w2, w3, os + rQ(Q6_K));
    return;
  }
  repackScalesAndMins(w0, w1, w2, w3, os, tmp);
  for (let k: usize = 0; k < 16; k++) { // group 4k + j holds elements 16k + 4j..16k + 4j + 3 of the four rows
    storeTransposedI32(quants16(type, w0, k), quants16(type, w1, k), quants16(type, w2, k), quants16(type, w3, k), os + rQ(type) + (k << 7), 32);
  }
}

/**
 * Scale vectors from n pair vectors at src (`stride` bytes apart; i16 lanes 2r, 2r + 1: row r's scales of
 * sub-blocks 2p, 2p + 1) to dst: vector 2p with each row's first scale twice, 2p + 1 with its second.
 */
@inline function spreadScales(src: usize, stride: usize, dst: usize, n: usize): void {
  for (let p: usize = 0; p < n; p++) {
    const m = v128.load(src + p * stride);
    v128.store(dst + (p << 6), i8x16.shuffle(m, m, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13));
    v128.store(dst + (p << 6), i8x16.shuffle(m, m, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15), 32);
  }
}

/** Q6_K's quants of the four rows w0..w3 into the record's groups at q (side included), as quants16 with constant shifts. */
@inline function repackQ6Quants(w0: usize, w1: usize, w2: usize, w3: usize, q: usize): void {
  for (let h: usize = 0; h < 2; h++) {
    for (let i0: usize = 0; i0 < 32; i0 += 16) { // elements i0..i0 + 15 of each 32 of half h: groups k = 8h + 2u + i0/16
      const off = (h << 6) + i0, hOff = 128 + (h << 5) + i0, g = q + (((h << 3) + (i0 >> 4)) << 7);
      q6Quarter(w0, w1, w2, w3, off, hOff, g);
    }
  }
}

/**
 * The four quarters u (32 elements apart) of one Q6_K 16-element slice of rows w0..w3 (ql at off, off + 32; qh at
 * hOff) into groups at g, g + 256·u; each 2-bit field of qh moved to bits 4-5 by a 16-bit shift and one mask.
 */
@inline function q6Quarter(w0: usize, w1: usize, w2: usize, w3: usize, off: usize, hOff: usize, g: usize): void {
  const m4 = i8x16.splat(15), m30 = i8x16.splat(0x30);
  const a0 = v128.load(w0 + off), a1 = v128.load(w1 + off), a2 = v128.load(w2 + off), a3 = v128.load(w3 + off);
  const b0 = v128.load(w0 + off, 32), b1 = v128.load(w1 + off, 32), b2 = v128.load(w2 + off, 32), b3 = v128.load(w3 + off, 32);
  const h0 = v128.load(w0 + hOff), h1 = v128.load(w1 + hOff), h2 = v128.load(w2 + hOff), h3 = v128.load(w3 + hOff);
  storeTransposedI32(v128.or(v128.and(a0, m4), v128.and(i16x8.shl(h0, 4), m30)), v128.or(v128.and(a1, m4), v128.and(i16x8.shl(h1, 4), m30)),
    v128.or(v128.and(a2, m4), v128.and(i16x8.shl(h2, 4), m30)), v128.or(v128.and(a3, m4), v128.and(i16x8.shl(h3, 4), m30)), g, 32);
  storeTransposedI32(v128.or(v128.and(b0, m4), v128.and(i16x8.shl(h0, 2), m30)), v128.or(v128.and(b1, m4), v128.and(i16x8.shl(h1, 2), m30)),
    v128.or(v128.and(b2, m4), v128.and(i16x8.shl(h2, 2), m30)), v128.or(v128.and(b3, m4), v128.and(i16x8.shl(h3, 2), m30)), g + 256, 32);
  storeTransposedI32(v128.or(v128.and(i16x8.shr_u(a0, 4), m4), v128.and(h0, m30)), v128.or(v128.and(i16x8.shr_u(a1, 4), m4), v128.and(h1, m30)),
    v128.or(v128.and(i16x8.shr_u(a2, 4), m4), v128.and(h2, m30)), v128.or(v128.and(i16x8.shr_u(a3, 4), m4), v128.and(h3, m30)), g + 512, 32);
  storeTransposedI32(v128.or(v128.and(i16x8.shr_u(b0, 4), m4), v128.and(i16x8.shr_u(h0, 2), m30)),
    v128.or(v128.and(i16x8.shr_u(b1, 4), m4), v128.and(i16x8.shr_u(h1, 2), m30)),
    v128.or(v128.and(i16x8.shr_u(b2, 4), m4), v128.and(i16x8.shr_u(h2, 2), m30)),
    v128.or(v128.and(i16x8.shr_u(b3, 4), m4), v128.and(i16x8.shr_u(h3, 2), m30)), g + 768, 32);
}

/** Q4_K/Q5_K: the four rows' d_w, dmin_w, scale and min vectors into one side of a pair record (o: plus the side). */
@inline function repackScalesAndMins(w0: usize, w1: usize, w2: usize, w3: usize, o: usize, tmp: usize): void {
  store<f32>(o + R_D, f16ToF32(load<u16>(w0))); store<f32>(o + R_D, f16ToF32(load<u16>(w1)), 4);
  store<f32>(o + R_D, f16ToF32(load<u16>(w2)), 8); store<f32>(o + R_D, f16ToF32(load<u16>(w3)), 12);
  store<f32>(o + R_DMIN, f16ToF32(load<u16>(w0, 2))); store<f32>(o + R_DMIN, f16ToF32(load<u16>(w1, 2)), 4);
  store<f32>(o + R_DMIN, f16ToF32(load<u16>(w2, 2)), 8); store<f32>(o + R_DMIN, f16ToF32(load<u16>(w3, 2)), 12);
  // each row's 6-bit scales (bytes 0..7) and mins (8..15) widened to i16; min vector p: the four rows' mins of
  // sub-blocks 2p, 2p + 1; the scales transposed the same way (to tmp), then spread one sub-block to a vector
  const s0 = scalesAndMins(w0 + 4), s1 = scalesAndMins(w1 + 4), s2 = scalesAndMins(w2 + 4), s3 = scalesAndMins(w3 + 4);
  storeTransposedI32(i16x8.extend_high_i8x16_u(s0), i16x8.extend_high_i8x16_u(s1), i16x8.extend_high_i8x16_u(s2),
    i16x8.extend_high_i8x16_u(s3), o + rMin(Q4_K), 32);
  storeTransposedI32(i16x8.extend_low_i8x16_u(s0), i16x8.extend_low_i8x16_u(s1), i16x8.extend_low_i8x16_u(s2),
    i16x8.extend_low_i8x16_u(s3), tmp, 16);
  spreadScales(tmp, 16, o + rSc(Q4_K), 4);
}

/**
 * Token t's (constant) f32 step for both quads of a super-block, as kRowTile's addSuper. Q4_K/Q5_K: M from the
 * min vectors and the token's 32-element sums, then acc + S·(d_w·d_x) − M·(dmin_w·d_x) per lane. Q6_K: its
 * offset O = Σ sc·bsum from the min vectors and the 16-element sums, then acc + (S − 32·O)·(d_w·d_x).
 */
@inline function superStep(type: i32, o: usize, p: usize, sc: usize, t: i32): void {
  const pairs: usize = type == Q6_K ? 8 : 4, bs = p + (type == Q6_K ? QT_BS16 + (<usize>t << 5) : QT_BS + (<usize>t << 4));
  let mA = i32x4.dot_i16x8_s(v128.load(o + rMin(type)), v128.load32_splat(bs));
  let mB = i32x4.dot_i16x8_s(v128.load(o + rMin(type) + 16), v128.load32_splat(bs));
  for (let k: usize = 1; k < pairs; k++) {
    const b2 = v128.load32_splat(bs + (k << 2));
    mA = i32x4.add(mA, i32x4.dot_i16x8_s(v128.load(o + rMin(type) + (k << 5)), b2));
    mB = i32x4.add(mB, i32x4.dot_i16x8_s(v128.load(o + rMin(type) + (k << 5) + 16), b2));
  }
  const dx = v128.load32_splat(p + QT_D + (<usize>t << 2));
  const acc = sc + ACC + (<usize>t << 5), sums = sc + SUMS + (<usize>t << 5);
  let sA = v128.load(sums), sB = v128.load(sums, 16);
  if (type == Q6_K) { sA = i32x4.sub(sA, i32x4.shl(mA, 5)); sB = i32x4.sub(sB, i32x4.shl(mB, 5)); }
  let a = f32x4.add(v128.load(acc), f32x4.mul(f32x4.convert_i32x4_s(sA), f32x4.mul(v128.load(o + R_D), dx)));
  let b = f32x4.add(v128.load(acc, 16), f32x4.mul(f32x4.convert_i32x4_s(sB), f32x4.mul(v128.load(o + R_D + 16), dx)));
  if (type != Q6_K) {
    a = f32x4.sub(a, f32x4.mul(f32x4.convert_i32x4_s(mA), f32x4.mul(v128.load(o + R_DMIN), dx)));
    b = f32x4.sub(b, f32x4.mul(f32x4.convert_i32x4_s(mB), f32x4.mul(v128.load(o + R_DMIN + 16), dx)));
  }
  v128.store(acc, a);
  v128.store(acc, b, 16);
}

/** The 8-bit dot: four i8 activations u (splat) against sixteen unsigned weight bytes w, eight i16 pair sums. */
@inline function dot8(u: v128, w: v128): v128 {
  return i16x8.relaxed_dot_i8x16_i7x16_s(u, w);
}

/** sums at s + (i32 lanes) the scaled i16 sums h against scale vector sv. */
@inline function addScaled(s: usize, h: v128, sv: v128): void {
  v128.store(s, i32x4.add(v128.load(s), i32x4.dot_i16x8_s(h, sv)));
}

/**
 * One token's sub-block of Q6_K (four groups, activations at x + 16k) against one quad's weights w..w4 into its
 * sums at s, scale sv: two widenings (two 8-bit dots to one i16 dot each), one load and store of the sums.
 */
@inline function pairToken4(s: usize, x: usize, w: v128, w2: v128, w3: v128, w4: v128, sv: v128): void {
  const u = v128.load32_splat(x), u2 = v128.load32_splat(x, 16), u3 = v128.load32_splat(x, 32), u4 = v128.load32_splat(x, 48);
  const lo = i32x4.dot_i16x8_s(i16x8.add(dot8(u, w), dot8(u2, w2)), sv), hi = i32x4.dot_i16x8_s(i16x8.add(dot8(u3, w3), dot8(u4, w4)), sv);
  v128.store(s, i32x4.add(v128.load(s), i32x4.add(lo, hi)));
}

/**
 * A pair of quads (records from pr; rows rA.. (nA real), rB.. (nB real, 0: none)) against the four tokens of
 * one quad tile (tokens t.., n real): the i16 sums of both quads and four tokens in registers over as many groups
 * as groupsPerSum allows (the loop over them keeps six operands live, as quadTile), then the scales, into S in
 * scratch. Q6_K, whose sums widen every two groups, goes token by token instead (pairToken4): with all eight
 * i16 sums and sixteen splats in flight V8 spilled, and as a loop of two it kept counters and stack checks.
 */
@inline function pairTile(type: i32, pr: usize, tile: usize, nb: i32, sc: usize, out: usize, rows: i32, rA: i32, rB: i32, t: i32, nA: i32, nB: i32, n: i32): void {
  const z = i32x4.splat(0), gw = groupsPerSum(type), gs = groupsPerScale(type);
  for (let i: usize = 0; i < 128; i += 16) v128.store(sc + ACC + i, z);
  let o = pr, p = tile;
  for (let b = 0; b < nb; b++, o += rBytes(type), p += QT_BYTES) {
    for (let i: usize = 0; i < 128; i += 16) v128.store(sc + SUMS + i, z);
    let w = o + rQ(type), x = p;
    for (let g: usize = 0; g < 64; g += gw) {
      const sv = o + rSc(type) + ((g / gs) << 5), s = sc + SUMS;
      if (gw == 2) { // Q6_K: a whole sub-block (two widenings, one scale) per token; its loads come after the previous token's stores
        const wA = v128.load(w), wB = v128.load(w, 16), wA2 = v128.load(w, 32), wB2 = v128.load(w, 48);
        const wA3 = v128.load(w, 64), wB3 = v128.load(w, 80), wA4 = v128.load(w, 96), wB4 = v128.load(w, 112);
        const sA = v128.load(sv), sB = v128.load(sv, 16);
        pairToken4(s, x, wA, wA2, wA3, wA4, sA); pairToken4(s + 16, x, wB, wB2, wB3, wB4, sB);
        pairToken4(s + 32, x + 4, wA, wA2, wA3, wA4, sA); pairToken4(s + 48, x + 4, wB, wB2, wB3, wB4, sB);
        pairToken4(s + 64, x + 8, wA, wA2, wA3, wA4, sA); pairToken4(s + 80, x + 8, wB, wB2, wB3, wB4, sB);
        pairToken4(s + 96, x + 12, wA, wA2, wA3, wA4, sA); pairToken4(s + 112, x + 12, wB, wB2, wB3, wB4, sB);
        x += 64; w += 128; g += 2;
        continue;
      }
      let hA0 = z, hA1 = z, hA2 = z, hA3 = z, hB0 = z, hB1 = z, hB2 = z, hB3 = z;
      for (const end = x + (gw << 4); x < end; x += 16, w += 32) {
        const wA = v128.load(w), wB = v128.load(w, 16);
        const u0 = v128.load32_splat(x), u1 = v128.load32_splat(x, 4), u2 = v128.load32_splat(x, 8), u3 = v128.load32_splat(x, 12);
        hA0 = i16x8.add(hA0, dot8(u0, wA)); hB0 = i16x8.add(hB0, dot8(u0, wB)); hA1 = i16x8.add(hA1, dot8(u1, wA)); hB1 = i16x8.add(hB1, dot8(u1, wB));
        hA2 = i16x8.add(hA2, dot8(u2, wA)); hB2 = i16x8.add(hB2, dot8(u2, wB)); hA3 = i16x8.add(hA3, dot8(u3, wA)); hB3 = i16x8.add(hB3, dot8(u3, wB));
      }
      const sA = v128.load(sv), sB = v128.load(sv, 16);
      addScaled(s, hA0, sA); addScaled(s + 16, hB0, sB);
      addScaled(s + 32, hA1, sA); addScaled(s + 48, hB1, sB);
      addScaled(s + 64, hA2, sA); addScaled(s + 80, hB2, sB);
      addScaled(s + 96, hA3, sA); addScaled(s + 112, hB3, sB);
    }
    superStep(type, o, p, sc, 0); superStep(type, o, p, sc, 1); superStep(type, o, p, sc, 2); superStep(type, o, p, sc, 3);
  }
  for (let j = 0; j < n; j++) {
    storeRowLanes(out, v128.load(sc + ACC + (<usize>j << 5)), rows, rA, t + j, nA);
    if (nB > 0) storeRowLanes(out, v128.load(sc + ACC + (<usize>j << 5) + 16), rows, rB, t + j, nB);
  }
}

/**
 * Prefill rows rowStart..rowEnd of a Q4_K, Q5_K or Q6_K (ggml type id) matrix w (GGUF layout) against every
 * tile of the quad tiles (kquadTiles), chunk by chunk: each chunk of rows repacked into scratch
 * (kquadScratchBytes), then each pair of its quads over each tile.
 */
export function kquantQuadsOf(type: i32, out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  if (type == Q4_K) quadsQ4K(out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
  else if (type == Q5_K) quadsQ5K(out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
  else quadsQ6K(out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}

// one function per type, each with its constants folded in (kept apart rather than inlined into one dispatcher)
function quadsQ4K(out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  quadsOf(Q4_K, false, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}
function quadsQ5K(out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  quadsOf(Q5_K, false, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}
function quadsQ6K(out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  quadsOf(Q6_K, false, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}

/**
 * kquantQuadsOf for a Q4_K or Q6_K matrix in its x4 layout (q4_Kx4: matmul-kquants-x4.ts, q6_Kx4: matmul-q6k-x4.ts;
 * rows in whole quads): the records built from its quads (x4Record).
 */
export function kquantQuadsOfX4(type: i32, out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  if (type == Q4_K) quadsQ4Kx4(out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
  else quadsQ6Kx4(out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}
function quadsQ4Kx4(out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  quadsOf(Q4_K, true, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}
function quadsQ6Kx4(out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  quadsOf(Q6_K, true, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}

/** Quad super-block o of an x4 layout (four GGUF super-blocks' bytes) into side `side` of the pair record at rec. */
@inline function x4Record(type: i32, o: usize, rec: usize, side: usize): void {
  if (type == Q4_K) x4QuadRecord(o, rec, side);
  else q6Kx4QuadRecord(o, rec, side);
}

@inline function quadsOf(type: i32, x4: bool, out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  const nb = cols >> 8, rowBytes = <usize>nb * blockBytes(type), recs = scratch + HEAD, pairBytes = <usize>nb * rBytes(type);
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd), quads = (r1 - r0 + 3) >> 2;
    for (let q = 0; q < quads; q++) { // quad q into side q & 1 of pair q >> 1; a partial quad repeats its last row
      const ra = r0 + 4 * q, last = r1 - 1;
      if (x4) { // rowBytes·4 bytes a quad, four GGUF super-blocks' bytes a quad super-block
        const src = w + <usize>(ra >> 2) * 4 * rowBytes, o = recs + <usize>(q >> 1) * pairBytes, qs = 4 * blockBytes(type);
        for (let b: usize = 0; b < <usize>nb; b++) {
          x4Record(type, src + b * qs, o + b * rBytes(type), <usize>(q & 1));
          if (q == quads - 1 && (q & 1) == 0) x4Record(type, src + b * qs, o + b * rBytes(type), 1); // paired with itself
        }
        continue;
      }
      const w0 = w + <usize>ra * rowBytes, w1 = w + <usize>min(ra + 1, last) * rowBytes;
      const w2 = w + <usize>min(ra + 2, last) * rowBytes, w3 = w + <usize>min(ra + 3, last) * rowBytes;
      const o = recs + <usize>(q >> 1) * pairBytes;
      for (let b: usize = 0; b < <usize>nb; b++) {
        const wb = b * blockBytes(type), ob = o + b * rBytes(type);
        repackQuadSuper(type, w0 + wb, w1 + wb, w2 + wb, w3 + wb, ob, <usize>(q & 1), scratch + TMP);
        if (q == quads - 1 && (q & 1) == 0) repackQuadSuper(type, w0 + wb, w1 + wb, w2 + wb, w3 + wb, ob, 1, scratch + TMP); // paired with itself
      }
    }
    for (let t = 0; t < nTokens; t += 4) {
      const n = min(4, nTokens - t), tile = tiles + <usize>(t >> 2) * <usize>nb * QT_BYTES;
      for (let q = 0; q < quads; q += 2) {
        const rA = r0 + 4 * q, rB = rA + 4;
        pairTile(type, recs + <usize>(q >> 1) * pairBytes, tile, nb, scratch, out, rows, rA, rB, t, min(4, r1 - rA), q + 1 < quads ? min(4, r1 - rB) : 0, n);
      }
    }
  }
}
