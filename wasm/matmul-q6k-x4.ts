/**
 * Q6_K weights repacked four rows at a time ("q6_Kx4", relaxed build), for the one-token product: the q4_Kx4
 * approach (matmul-kquants-x4.ts) for Q6_K, which Q4_K_M files use for some matrices. Quad super-block, 840
 * bytes (four GGUF super-blocks of 210, so the repacking runs in place):
 *   0..7      the four rows' d (f16);
 *   8..71     their i8 scales by pairs of sub-blocks: byte 8p + 2r + e = row r's scale of sub-block 2p + e;
 *   72..839   16 units of 48 bytes in the order the kernel reads them, unit 8h + j (h = 0, 1; j = 0..7) holding
 *             ql group 16h + j, ql group 16h + 8 + j and qh group 8h + j, where ql group G holds row r's ql
 *             bytes 4G..4G+3 at 4r and qh group H its qh bytes 4H..4H+3 (in separate ql and qh regions the
 *             decode ran ~15% slower than GGUF order from memory, though faster in cache).
 * In GGUF Q6_K, half h (128 elements) has ql bytes 64h.. and qh bytes 32h..: for l < 32, ql byte 64h + l holds
 * elements 128h + l (low nibble) and 128h + 64 + l (high), ql byte 64h + 32 + l elements 128h + 32 + l and
 * 128h + 96 + l, and qh byte 32h + l the top two bits of the four, at bits 0, 2, 4, 6. So ql groups 16h + j and
 * 16h + 8 + j with qh group 8h + j give four vectors of four elements of four rows (elements 128h + 4j + 32k,
 * k = 0..3), each met by one splat of four activation quants in the 8-bit dot: row r's pair sums in i16 lanes
 * 2r, 2r + 1. Two such steps add in i16 (|Σ| ≤ 4·63·128 < 2^15), then one i32x4.dot_i16x8_s with the sub-block's
 * four scales (each twice) adds Σ sc·q·x per row. The offset of 32 comes off as 32·Σ sc·bsum, with each i32
 * lane of a scale-pair vector against two per-16 activation sums.
 * The f32 arithmetic is kRow's for one token (acc + f32(S)·(d_w·d_x) per super-block) with the same exact S,
 * lane for lane: the same bits. Prefill (any batch) runs Q6_K's prefill quads (matmul-kquant-quads.ts), their
 * records built straight from the quads (q6Kx4QuadRecord): the row kernels read GGUF rows only, and putting each
 * chunk back in GGUF order for them made short batches slower than GGUF order (0.82x at 4 tokens).
 */

import { f16ToF32, f16x4Exact, storeTransposedI32 } from "./simd";
import { kquadScratchBytes, R_D, R6_MIN, R6_Q, R6_SC } from "./matmul-kquant-quads";

/** Bytes of one quad super-block, and the offsets of its scales, ql groups and qh groups. */
export const Q6K_QUAD_SUPER: usize = 840;
const SC: usize = 8, QU: usize = 72;

/** Offset in a quad super-block of ql group G (qh: false) or qh group G (qh: true). */
@inline function groupAt(G: usize, qh: bool): usize {
  return qh ? QU + 48 * G + 32 : QU + 48 * (((G >> 4) << 3) + (G & 7)) + ((G & 8) << 1);
}

/** Rewrites the Q6_K matrix at w (GGUF layout, rows a multiple of 4) into q6_Kx4 in place, through tmp (4·rowBytes). */
export function repackQ6Kx4(w: usize, rows: i32, cols: i32, tmp: usize): void {
  const nb = cols >> 8, rowBytes = <usize>nb * 210;
  for (let q = 0; q < rows >> 2; q++) {
    const wq = w + <usize>q * 4 * rowBytes;
    memory.copy(tmp, wq, 4 * rowBytes);
    for (let b = 0; b < nb; b++) {
      const s0 = tmp + <usize>b * 210, s1 = s0 + rowBytes, s2 = s1 + rowBytes, s3 = s2 + rowBytes;
      const o = wq + <usize>b * Q6K_QUAD_SUPER;
      store<u16>(o, load<u16>(s0, 208)); store<u16>(o, load<u16>(s1, 208), 2); store<u16>(o, load<u16>(s2, 208), 4); store<u16>(o, load<u16>(s3, 208), 6);
      for (let p: usize = 0; p < 8; p++) {
        store<u16>(o + SC + 8 * p, load<u16>(s0 + 192 + 2 * p)); store<u16>(o + SC + 8 * p, load<u16>(s1 + 192 + 2 * p), 2);
        store<u16>(o + SC + 8 * p, load<u16>(s2 + 192 + 2 * p), 4); store<u16>(o + SC + 8 * p, load<u16>(s3 + 192 + 2 * p), 6);
      }
      for (let h: usize = 0; h < 8; h++) {
        // ql groups 4h..4h+3: consecutive units (48 bytes apart), as are qh groups 4h..4h+3 below
        storeTransposedI32(v128.load(s0 + 16 * h), v128.load(s1 + 16 * h), v128.load(s2 + 16 * h), v128.load(s3 + 16 * h), o + groupAt(4 * h, false), 48);
      }
      for (let h: usize = 0; h < 4; h++) {
        storeTransposedI32(v128.load(s0 + 128 + 16 * h), v128.load(s1 + 128 + 16 * h), v128.load(s2 + 128 + 16 * h), v128.load(s3 + 128 + 16 * h), o + groupAt(4 * h, true), 48);
      }
    }
  }
}

/** Sub-block g's four scales (constant g), each twice: i16 lanes 2r, 2r + 1 = row r's, from the pair vector. */
@inline function scalePairs(o: usize, g: i32): v128 {
  // a swizzle with constant indices, all in range: V8 emits one pshufb (a shuffle of 16-bit lanes took two)
  const v = v128.load8x8_s(o + SC + (<usize>(g >> 1) << 3));
  return (g & 1) == 0 ? i8x16.swizzle(v, i8x16(0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13))
    : i8x16.swizzle(v, i8x16(2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15));
}

/** h + the 8-bit dot of the four activation quants splat with the 6-bit quants q (0..63), rows in i16 lane pairs. */
@inline function dot4(h: v128, splat: v128, q: v128): v128 {
  return i16x8.add(h, i16x8.relaxed_dot_i8x16_i7x16_s(splat, q));
}

/** Quadrant k's (constant) 6-bit quants of four rows from the ql group a (k even: low nibbles, odd: high) and qh group hv. */
@inline function quants(a: v128, hv: v128, k: i32): v128 {
  const m4 = i8x16.splat(15), m30 = i8x16.splat(0x30);
  const lo = k < 2 ? v128.and(a, m4) : v128.and(i16x8.shr_u(a, 4), m4);
  const top = k == 0 ? i16x8.shl(hv, 4) : k == 1 ? i16x8.shl(hv, 2) : k == 2 ? hv : i16x8.shr_u(hv, 2);
  return v128.or(lo, v128.and(top, m30));
}

/**
 * Steps j = 2jp, 2jp + 1 of half h (constants) of the quad super-block at o against the activation quants at x
 * (the super-block's 256): S + Σ sc·q·x of those elements (128h + 4j + 32k: sub-block g + 2k), rows in lanes.
 * Each step loads its two ql groups and its qh group once; the first step's four i16 sums go through the
 * thread's scratch (sp + 16..79) and the second's running S to sp, one store per quadrant: V8 then loads each
 * quadrant's operands (splat, scales) when it uses them instead of all first and spilling them.
 */
@inline function steps(S: v128, o: usize, x: usize, h: i32, jp: i32, sp: usize): v128 {
  const j = 2 * jp, xh = x + (<usize>h << 7) + (<usize>j << 2), g = 8 * h + (jp >> 1);
  const u = o + QU + 48 * <usize>(8 * h + j); // units 8h + j, 8h + j + 1
  let a = v128.load(u), b = v128.load(u, 16), hv = v128.load(u, 32);
  v128.store(sp, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xh), quants(a, hv, 0)), 16);
  v128.store(sp, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xh, 32), quants(b, hv, 1)), 32);
  v128.store(sp, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xh, 64), quants(a, hv, 2)), 48);
  v128.store(sp, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xh, 96), quants(b, hv, 3)), 64);
  a = v128.load(u, 48); b = v128.load(u, 64); hv = v128.load(u, 80);
  let r = i32x4.add(S, i32x4.dot_i16x8_s(dot4(v128.load(sp, 16), v128.load32_splat(xh, 4), quants(a, hv, 0)), scalePairs(o, g)));
  v128.store(sp, r);
  r = i32x4.add(r, i32x4.dot_i16x8_s(dot4(v128.load(sp, 32), v128.load32_splat(xh, 36), quants(b, hv, 1)), scalePairs(o, g + 2)));
  v128.store(sp, r);
  r = i32x4.add(r, i32x4.dot_i16x8_s(dot4(v128.load(sp, 48), v128.load32_splat(xh, 68), quants(a, hv, 2)), scalePairs(o, g + 4)));
  v128.store(sp, r);
  r = i32x4.add(r, i32x4.dot_i16x8_s(dot4(v128.load(sp, 64), v128.load32_splat(xh, 100), quants(b, hv, 3)), scalePairs(o, g + 6)));
  v128.store(sp, r);
  return r;
}

/** Σ sc·bsum of the quad super-block at o against the sixteen per-16 activation sums at bs, rows in lanes. */
@inline function offsetSums(o: usize, bs: usize): v128 {
  const lo = v128.load(bs), hi = v128.load(bs, 16); // i32 lane p: the sums of sub-blocks 2p, 2p + 1
  let v = i32x4.dot_i16x8_s(v128.load8x8_s(o + SC), i32x4.shuffle(lo, lo, 0, 0, 0, 0));
  v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load8x8_s(o + SC + 8), i32x4.shuffle(lo, lo, 1, 1, 1, 1)));
  v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load8x8_s(o + SC + 16), i32x4.shuffle(lo, lo, 2, 2, 2, 2)));
  v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load8x8_s(o + SC + 24), i32x4.shuffle(lo, lo, 3, 3, 3, 3)));
  v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load8x8_s(o + SC + 32), i32x4.shuffle(hi, hi, 0, 0, 0, 0)));
  v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load8x8_s(o + SC + 40), i32x4.shuffle(hi, hi, 1, 1, 1, 1)));
  v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load8x8_s(o + SC + 48), i32x4.shuffle(hi, hi, 2, 2, 2, 2)));
  return i32x4.add(v, i32x4.dot_i16x8_s(v128.load8x8_s(o + SC + 56), i32x4.shuffle(hi, hi, 3, 3, 3, 3)));
}

/** The exact Σ sc·(q − 32)·x of the quad super-block at o (activation quants at x, per-16 sums at bs), rows in lanes. */
@inline function quadSums(o: usize, x: usize, bs: usize, sp: usize): v128 {
  let S = steps(i32x4.splat(0), o, x, 0, 0, sp);
  S = steps(S, o, x, 0, 1, sp); S = steps(S, o, x, 0, 2, sp); S = steps(S, o, x, 0, 3, sp);
  S = steps(S, o, x, 1, 0, sp); S = steps(S, o, x, 1, 1, sp); S = steps(S, o, x, 1, 2, sp); S = steps(S, o, x, 1, 3, sp);
  return i32x4.sub(S, i32x4.shl(offsetSums(o, bs), 5));
}

/**
 * Decode body of the q6_Kx4 layout (matmul-kx4.ts runs the rows and super-blocks): acc + one quad super-block at
 * o against the narrow q8_k activations of its 256 elements (quants at x, d_x at xd, per-16 sums at bs), rows
 * in lanes, as kRow's float step.
 */
@inline export function superQ6Kx4(acc: v128, o: usize, x: usize, xd: usize, bs: usize, sp: usize): v128 {
  const S = quadSums(o, x, bs, sp);
  const d = f16x4Exact(i32x4.extend_low_i16x8_s(v128.load64_zero(o)));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(S), f32x4.mul(d, v128.load32_splat(xd))));
}

/**
 * Quad super-block o (q6_Kx4) into side `side` (0, 1) of a Q6_K prefill pair record at rec (matmul-kquant-quads.ts):
 * the four d as f32 (f16ToF32, as the GGUF rows' repack), each scale pair vector sign-extended (the record's min
 * vector p is the layout's pair p as i16) and spread one sub-block to a vector, and the quants of each unit
 * (quants, as the decode takes them): unit 8h + j's quadrant k holds elements 128h + 32k + 4j.. of the four rows,
 * the record's group 32h + 8k + j. The same record as from the four GGUF rows, with no transposes.
 */
@inline export function q6Kx4QuadRecord(o: usize, rec: usize, side: usize): void {
  const s = side << 4;
  for (let r: usize = 0; r < 4; r++) store<f32>(rec + R_D + s + (r << 2), f16ToF32(load<u16>(o + (r << 1))));
  for (let p: usize = 0; p < 8; p++) {
    const m = v128.load8x8_s(o + SC + (p << 3)); // i16 lanes 2r, 2r + 1: row r's scales of sub-blocks 2p, 2p + 1
    v128.store(rec + R6_MIN + s + (p << 5), m);
    v128.store(rec + R6_SC + s + (p << 6), i8x16.shuffle(m, m, 0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13));
    v128.store(rec + R6_SC + s + (p << 6), i8x16.shuffle(m, m, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15), 32);
  }
  for (let u: usize = 0; u < 16; u++) {
    const un = o + QU + 48 * u, q = rec + R6_Q + s + ((((u >> 3) << 5) + (u & 7)) << 5);
    const a = v128.load(un), b = v128.load(un, 16), hv = v128.load(un, 32);
    v128.store(q, quants(a, hv, 0)); v128.store(q, quants(b, hv, 1), 256);
    v128.store(q, quants(a, hv, 2), 512); v128.store(q, quants(b, hv, 3), 768);
  }
}

/**
 * Bytes of matmulQ6Kx4's scratch (matmul-kx4.ts): for one token 48 + 64 (steps); for several, the prefill quads'
 * (kquadScratchBytes).
 */
export function q6Kx4ScratchBytes(cols: i32, nTokens: i32): i32 {
  return nTokens > 1 ? kquadScratchBytes(cols) : 48 + 64;
}
