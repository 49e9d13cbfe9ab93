/**
 * Q4_K weights repacked four rows at a time ("q4_Kx4", relaxed build), for the one-token (decode) product: the
 * layout of matmul-legacy-x4.ts carried over to 256-element super-blocks. The one-row kernel (matmul-kquants.ts
 * kRow → q45DecodeNarrow) spends more of each super-block on its edges than on its dots: unpacking the 12
 * bytes of 6-bit scales and minimums, one horizontal sum for S and one for M, two f16 lookups and its own
 * float steps, all per row. Here four rows share them, with rows in lanes. Quad super-block, 576 bytes (the
 * four GGUF super-blocks' size, so the repacking runs in place):
 *   0..15    the four rows' d (f16, row 0 first), then their dmin;
 *   16..63   their 64 six-bit scales and minimums, packed for a vector decode (A, B, C below);
 *   64..575  32 groups of 16 bytes, group G holding row r's GGUF quant bytes 4G..4G+3 at 4r.
 * A GGUF Q4_K quant byte i of chunk c (bytes 32c..32c+31) holds element 64c + i (low nibble, sub-block 2c) and
 * 64c + 32 + i (high nibble, sub-block 2c + 1), so group G = 8c + k meets one splat of the four activation
 * quants 64c + 4k.. with its low nibbles and one of 64c + 32 + 4k.. with its high: the 8-bit dots leave row r
 * in i16 lanes 2r, 2r + 1, a sub-block's eight groups add in i16 (|Σ| ≤ 16·15·128), and one i32x4.dot_i16x8_s
 * against the four rows' scales of that sub-block (each twice) gives the rows' Σ sc·q·x in i32 lanes.
 * Scales and minimums: value v (6 bits) = scale of row r, sub-block j at v = 4j + r; minimum at v = 32 + 8r + j.
 * A byte i = low 4 bits of value i | those of value 16 + i above; B the same for values 32 + i, 48 + i; C byte i
 * = the top 2 bits of values i, 16 + i, 32 + i, 48 + i at bits 0, 2, 4, 6. One load, mask and shift per field
 * rebuilds all 64 (unpackScales).
 * The f32 arithmetic is kRow's for one token, lane for lane: per super-block acc = (acc + f32(S)·(d_w·d_x)) −
 * f32(M)·(dmin_w·d_x), unfused, with the same exact integers S and M, so outputs are the same bits (f16 → f32
 * of d and dmin by f16x4Exact, exact for every pattern as the row kernel's f16Lookup).
 */

import { f16ToF32, f16x4Exact, reduce4I32, storeTransposedI32 } from "./simd";
import { scalesAndMins } from "./matmul-kquants";
import { R_D, R_DMIN, R_MIN, R_Q, R_SC } from "./matmul-kquant-quads";

/** Bytes of one quad super-block: four GGUF Q4_K super-blocks of 144. */
export const Q4K_QUAD_SUPER: usize = 576;
/** Offsets in a quad super-block: packed scales, quant groups. */
const SCALES: usize = 16, QUANTS: usize = 64;

/**
 * Rewrites the Q4_K matrix at w (GGUF layout, rows a multiple of 4) into the q4_Kx4 layout in place, one quad
 * of rows at a time through tmp (4·rowBytes bytes of scratch).
 */
export function repackQ4Kx4(w: usize, rows: i32, cols: i32, tmp: usize): void {
  const nb = cols >> 8, rowBytes = <usize>nb * 144;
  for (let q = 0; q < rows >> 2; q++) {
    const wq = w + <usize>q * 4 * rowBytes;
    memory.copy(tmp, wq, 4 * rowBytes);
    for (let b = 0; b < nb; b++) {
      const s0 = tmp + <usize>b * 144, s1 = s0 + rowBytes, s2 = s1 + rowBytes, s3 = s2 + rowBytes;
      const o = wq + <usize>b * Q4K_QUAD_SUPER;
      store<u16>(o, load<u16>(s0)); store<u16>(o, load<u16>(s1), 2); store<u16>(o, load<u16>(s2), 4); store<u16>(o, load<u16>(s3), 6);
      store<u16>(o, load<u16>(s0, 2), 8); store<u16>(o, load<u16>(s1, 2), 10); store<u16>(o, load<u16>(s2, 2), 12); store<u16>(o, load<u16>(s3, 2), 14);
      packScales(scalesAndMins(s0 + 4), scalesAndMins(s1 + 4), scalesAndMins(s2 + 4), scalesAndMins(s3 + 4), o + SCALES);
      for (let h: usize = 0; h < 8; h++) {
        storeTransposedI32(v128.load(s0 + 16 + 16 * h), v128.load(s1 + 16 + 16 * h), v128.load(s2 + 16 + 16 * h), v128.load(s3 + 16 + 16 * h), o + QUANTS + 64 * h, 16);
      }
    }
  }
}

/**
 * Stores the A, B, C vectors (48 bytes at p) of four rows' scales and minimums, sm0..sm3 as scalesAndMins
 * gives them (bytes 0..7: scales of sub-blocks 0..7, 8..15: minimums).
 */
@inline function packScales(sm0: v128, sm1: v128, sm2: v128, sm3: v128, p: usize): void {
  // scales by (sub-block, row): t01 / t23 pair rows 0, 1 / 2, 3 per sub-block, then sc0 = sub-blocks 0..3, sc1 = 4..7
  const t01 = i8x16.shuffle(sm0, sm1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const t23 = i8x16.shuffle(sm2, sm3, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const sc0 = i8x16.shuffle(t01, t23, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
  const sc1 = i8x16.shuffle(t01, t23, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
  // minimums by (row, sub-block): rows 0, 1 then rows 2, 3
  const mn0 = i8x16.shuffle(sm0, sm1, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  const mn1 = i8x16.shuffle(sm2, sm3, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  const m4 = i8x16.splat(15);
  v128.store(p, v128.or(v128.and(sc0, m4), i8x16.shl(v128.and(sc1, m4), 4)));
  v128.store(p, v128.or(v128.and(mn0, m4), i8x16.shl(v128.and(mn1, m4), 4)), 16);
  const top = v128.or(v128.or(i8x16.shr_u(sc0, 4), i8x16.shl(i8x16.shr_u(sc1, 4), 2)),
    v128.or(i8x16.shl(i8x16.shr_u(mn0, 4), 4), i8x16.shl(i8x16.shr_u(mn1, 4), 6)));
  v128.store(p, top, 32);
}

/** Field f (0..3: scales of sub-blocks 0..3, 4..7, minimums of rows 0-1, 2-3) of the packed scales at p, 6-bit bytes. */
@inline function unpackScales(p: usize, f: i32): v128 {
  const m4 = i8x16.splat(15), m30 = i8x16.splat(0x30);
  // 16-bit shifts, then byte masks: bits crossing into the other byte of a lane never reach the kept ones
  const lo = f < 2 ? v128.load(p) : v128.load(p, 16), c = v128.load(p, 32);
  const low = (f & 1) == 0 ? v128.and(lo, m4) : v128.and(i16x8.shr_u(lo, 4), m4);
  const top = f == 0 ? i16x8.shl(c, 4) : f == 1 ? i16x8.shl(c, 2) : f == 2 ? c : i16x8.shr_u(c, 2);
  return v128.or(low, v128.and(top, m30));
}

/** h + the 8-bit dot of the four activation quants at (splat) with the nibbles n (0..15), rows in i16 lane pairs. */
@inline function dot4(h: v128, splat: v128, n: v128): v128 {
  return i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(splat, n));
}

/**
 * Chunk c (constant) of a quad super-block at o: sub-blocks 2c (low nibbles, activation quants at xl) and
 * 2c + 1 (high nibbles, at xl + 32) of the four rows, scaled by sLo / sHi (i16, row r's scale at lanes 2r,
 * 2r + 1). Written out with constant offsets (folded into the loads). After every two groups the sums are
 * stored to the thread's scratch (sp): V8 then loads the next groups' operands after them, instead of all of
 * a chunk's 24 first and spilling them (as q45DecodeNarrow).
 */
@inline function chunk(S: v128, o: usize, x: usize, c: i32, sLo: v128, sHi: v128, sp: usize): v128 {
  const q = o + QUANTS + (<usize>c << 7), xl = x + (<usize>c << 6), m4 = i8x16.splat(15);
  let g0 = v128.load(q), g1 = v128.load(q, 16);
  let hl = dot4(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xl), v128.and(g0, m4)), v128.load32_splat(xl, 4), v128.and(g1, m4));
  let hh = dot4(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xl, 32), v128.and(i16x8.shr_u(g0, 4), m4)), v128.load32_splat(xl, 36), v128.and(i16x8.shr_u(g1, 4), m4));
  v128.store(sp, hl); v128.store(sp, hh, 16);
  g0 = v128.load(q, 32); g1 = v128.load(q, 48);
  hl = dot4(dot4(hl, v128.load32_splat(xl, 8), v128.and(g0, m4)), v128.load32_splat(xl, 12), v128.and(g1, m4));
  hh = dot4(dot4(hh, v128.load32_splat(xl, 40), v128.and(i16x8.shr_u(g0, 4), m4)), v128.load32_splat(xl, 44), v128.and(i16x8.shr_u(g1, 4), m4));
  v128.store(sp, hl); v128.store(sp, hh, 16);
  g0 = v128.load(q, 64); g1 = v128.load(q, 80);
  hl = dot4(dot4(hl, v128.load32_splat(xl, 16), v128.and(g0, m4)), v128.load32_splat(xl, 20), v128.and(g1, m4));
  hh = dot4(dot4(hh, v128.load32_splat(xl, 48), v128.and(i16x8.shr_u(g0, 4), m4)), v128.load32_splat(xl, 52), v128.and(i16x8.shr_u(g1, 4), m4));
  v128.store(sp, hl); v128.store(sp, hh, 16);
  g0 = v128.load(q, 96); g1 = v128.load(q, 112);
  hl = dot4(dot4(hl, v128.load32_splat(xl, 24), v128.and(g0, m4)), v128.load32_splat(xl, 28), v128.and(g1, m4));
  hh = dot4(dot4(hh, v128.load32_splat(xl, 56), v128.and(i16x8.shr_u(g0, 4), m4)), v128.load32_splat(xl, 60), v128.and(i16x8.shr_u(g1, 4), m4));
  const r = i32x4.add(S, i32x4.add(i32x4.dot_i16x8_s(hl, sLo), i32x4.dot_i16x8_s(hh, sHi)));
  v128.store(sp, r, 32);
  return r;
}

/** Row r's scale at i16 lanes 2r, 2r + 1, for the sub-block whose four scales are i16 lanes 0..3 (hi: 4..7) of w. */
@inline function scalePairsLo(w: v128): v128 {
  return i8x16.shuffle(w, w, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7);
}
@inline function scalePairsHi(w: v128): v128 {
  return i8x16.shuffle(w, w, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15);
}

/** The exact Σ sc·q·x of the quad super-block at o against the narrow activation quants at x, rows in lanes. */
@inline function quadSums(o: usize, x: usize, sp: usize): v128 {
  const sc0 = unpackScales(o + SCALES, 0), sc1 = unpackScales(o + SCALES, 1);
  let w = i16x8.extend_low_i8x16_u(sc0);
  let S = chunk(i32x4.splat(0), o, x, 0, scalePairsLo(w), scalePairsHi(w), sp);
  w = i16x8.extend_high_i8x16_u(sc0);
  S = chunk(S, o, x, 1, scalePairsLo(w), scalePairsHi(w), sp);
  w = i16x8.extend_low_i8x16_u(sc1);
  S = chunk(S, o, x, 2, scalePairsLo(w), scalePairsHi(w), sp);
  w = i16x8.extend_high_i8x16_u(sc1);
  return chunk(S, o, x, 3, scalePairsLo(w), scalePairsHi(w), sp);
}

/** The exact Σ_j m_j·(Σ of sub-block j's activation quants) of the quad super-block at o, rows in lanes (bs: per-16 sums). */
@inline function quadMins(o: usize, bs: usize): v128 {
  // sub-block sums (two per-16 sums each, |Σ| ≤ 32·128) as i16 lanes 0..7
  const sums = i16x8.narrow_i32x4_s(i32x4.extadd_pairwise_i16x8_s(v128.load(bs)), i32x4.extadd_pairwise_i16x8_s(v128.load(bs, 16)));
  const mn0 = unpackScales(o + SCALES, 2), mn1 = unpackScales(o + SCALES, 3);
  return reduce4I32(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(mn0), sums), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(mn0), sums),
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(mn1), sums), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(mn1), sums));
}

/**
 * Decode body of the q4_Kx4 layout (matmul-kx4.ts runs the rows and super-blocks): acc + one quad super-block at
 * o against the narrow q8_k activations of its 256 elements (quants at x, d_x at xd, per-16 sums at bs), rows
 * in lanes, as kRow's float steps.
 */
@inline export function superQ4Kx4(acc: v128, o: usize, x: usize, xd: usize, bs: usize, sp: usize): v128 {
  const S = quadSums(o, x, sp), M = quadMins(o, bs);
  const dx = v128.load32_splat(xd), dd = v128.load(o);
  const d = f16x4Exact(i32x4.extend_low_i16x8_s(dd)), dmin = f16x4Exact(i32x4.extend_high_i16x8_s(dd));
  acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(S), f32x4.mul(d, dx)));
  return f32x4.sub(acc, f32x4.mul(f32x4.convert_i32x4_s(M), f32x4.mul(dmin, dx)));
}

/**
 * Quad super-block o (q4_Kx4) into side `side` (0, 1) of a prefill pair record at rec (matmul-kquant-quads.ts):
 * its d and dmin as f32 (f16ToF32, as the GGUF rows' repack), each row's sub-block scales twice per i32 lane,
 * its minimums of sub-blocks 2p, 2p + 1 per i32 lane, and its quant groups split into low and high nibbles
 * (group 8c + k: elements 64c + 4k.. and 64c + 32 + 4k.., the record's groups 16c + k and 16c + 8 + k). The same
 * record as from the four GGUF rows, with no transposes.
 */
@inline export function x4QuadRecord(o: usize, rec: usize, side: usize): void {
  const s = side << 4;
  for (let r: usize = 0; r < 4; r++) {
    store<f32>(rec + R_D + s + (r << 2), f16ToF32(load<u16>(o + (r << 1))));
    store<f32>(rec + R_DMIN + s + (r << 2), f16ToF32(load<u16>(o + 8 + (r << 1))));
  }
  const sc0 = unpackScales(o + SCALES, 0), sc1 = unpackScales(o + SCALES, 1);
  let w = i16x8.extend_low_i8x16_u(sc0);
  v128.store(rec + R_SC + s, scalePairsLo(w)); v128.store(rec + R_SC + s, scalePairsHi(w), 32);
  w = i16x8.extend_high_i8x16_u(sc0);
  v128.store(rec + R_SC + s, scalePairsLo(w), 64); v128.store(rec + R_SC + s, scalePairsHi(w), 96);
  w = i16x8.extend_low_i8x16_u(sc1);
  v128.store(rec + R_SC + s, scalePairsLo(w), 128); v128.store(rec + R_SC + s, scalePairsHi(w), 160);
  w = i16x8.extend_high_i8x16_u(sc1);
  v128.store(rec + R_SC + s, scalePairsLo(w), 192); v128.store(rec + R_SC + s, scalePairsHi(w), 224);
  // row r's minimums as i16 lanes j: min vector p is i32 lane p of each row (a 4x4 transpose)
  const mn0 = unpackScales(o + SCALES, 2), mn1 = unpackScales(o + SCALES, 3);
  storeTransposedI32(i16x8.extend_low_i8x16_u(mn0), i16x8.extend_high_i8x16_u(mn0), i16x8.extend_low_i8x16_u(mn1),
    i16x8.extend_high_i8x16_u(mn1), rec + R_MIN + s, 32);
  const m4 = i8x16.splat(15);
  for (let c: usize = 0; c < 4; c++) {
    for (let k: usize = 0; k < 8; k++) {
      const g = v128.load(o + QUANTS + (c << 7) + (k << 4)), q = rec + R_Q + s + (((c << 4) + k) << 5);
      v128.store(q, v128.and(g, m4));
      v128.store(q, v128.and(i16x8.shr_u(g, 4), m4), 256);
    }
  }
}
