/**
 * Prefill of Q4_K products (relaxed build) on weight rows repacked four at a time ("quads"), as
 * matmul-legacy-quads.ts does for the 32-element types: a SIMD lane is a weight row, one activation broadcast
 * (four i8 quants of one token) meets sixteen unsigned weight bytes (four elements of four rows) in one
 * i16x8.relaxed_dot_i8x16_i7x16_s, and the pair sums add up in i16 over a whole 32-element sub-block
 * (8·2·15·127 < 2^15) before one i32x4.dot_i16x8_s applies the four rows' sub-block scales. The row kernel
 * (matmul-kquants-narrow.ts q45SuperNarrow) needs that i16 dot every two 8-bit dots; here it is one in eight.
 * Per row and token the integers are the row kernel's (S = Σ sc·q·x and M = Σ m·bsum per super-block, exact)
 * and the float steps are addSuper's in the same order (acc + S·(d_w·d_x), then − M·(dmin_w·d_x), unfused),
 * so the outputs are bitwise those of kRowTile.
 * Each chunk of rows is repacked once into the thread's scratch, then every tile of four tokens passes over it.
 * Quads go in pairs (A, B; a last odd quad is paired with itself, and a last partial quad repeats its last row),
 * one record per super-block, A's field then B's at a constant offset so that one pointer reaches both:
 * d_w (f32 ×4) A, B; dmin_w A, B; the eight sub-blocks' scale vectors (i16: each row's scale twice, matching
 * the pair sums) A, B in turn; four min vectors per quad (sub-blocks 2p and 2p + 1 of each row, against a
 * token's two 32-element sums); then 64 groups of quants, group k holding elements 4k..4k+3 of the four rows.
 * The activations come as quad tiles (kquadTiles): per super-block the four tokens' quants group by group
 * (token t's elements 4k..4k+3 at 16k + 4t), their d_x, and each token's eight 32-element sums (i16).
 */

import { f16ToF32, storeTransposedI32 } from "./simd";
import { q8kRowBytes } from "./activation-rounding";
import { scalesAndMins } from "./matmul-kquants";
import { x4QuadRecord } from "./matmul-kquants-x4";

/** Quad tile: bytes of the quants, offsets of d_x and of the 32-element sums, bytes per super-block. */
const QT_D: usize = 1024, QT_BS: usize = QT_D + 16, QT_BYTES: usize = QT_BS + 64;
/** Pair record offsets: d_w, dmin_w, scale vectors, min vectors, quants; bytes per super-block. */
export const R_D: usize = 0, R_DMIN: usize = 32, R_SC: usize = 64, R_MIN: usize = 320, R_Q: usize = 448, R_BYTES: usize = R_Q + 2048;
/** Scratch ahead of the records: the f32 running sums (two quads × four tokens), the i32 sums S, the repack's bytes. */
const ACC: usize = 0, SUMS: usize = 128, TMP: usize = 256, HEAD: usize = 320;
const ROW_CHUNK: i32 = 16;

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
      storeSums32(r0 + bs, p + QT_BS); storeSums32(r1 + bs, p + QT_BS + 16);
      storeSums32(r2 + bs, p + QT_BS + 32); storeSums32(r3 + bs, p + QT_BS + 48);
    }
  }
}

/** The eight 32-element sums (i16) of a super-block from its sixteen 16-element sums at bs (|sum| ≤ 32·127). */
@inline function storeSums32(bs: usize, out: usize): void {
  v128.store(out, i16x8.narrow_i32x4_s(i32x4.extadd_pairwise_i16x8_s(v128.load(bs)), i32x4.extadd_pairwise_i16x8_s(v128.load(bs, 16))));
}

/** Bytes kquadTiles writes for nTokens rows of `cols`. */
export function kquadTileBytes(cols: i32, nTokens: i32): i32 {
  return ((nTokens + 3) >> 2) * (cols >> 8) * <i32>QT_BYTES;
}

/** Bytes of per-thread scratch kquantQuadsOf needs for rows of `cols`: one chunk's records and the sums. */
export function kquadScratchBytes(cols: i32): i32 {
  return <i32>HEAD + (ROW_CHUNK >> 3) * (cols >> 8) * <i32>R_BYTES;
}

/**
 * Super-block b of the quad whose rows are at w0..w3 (GGUF Q4_K, 144 bytes a super-block) into side `side`
 * (0: A, 1: B) of the pair record at o; tmp: 64 bytes of scratch.
 */
@inline function repackQuadSuper(w0: usize, w1: usize, w2: usize, w3: usize, o: usize, side: usize, tmp: usize): void {
  const s = side << 4;
  store<f32>(o + R_D + s, f16ToF32(load<u16>(w0))); store<f32>(o + R_D + s, f16ToF32(load<u16>(w1)), 4);
  store<f32>(o + R_D + s, f16ToF32(load<u16>(w2)), 8); store<f32>(o + R_D + s, f16ToF32(load<u16>(w3)), 12);
  store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w0, 2))); store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w1, 2)), 4);
  store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w2, 2)), 8); store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w3, 2)), 12);
  // each row's scales (bytes 0..7) and mins (8..15) to tmp, then spread: row r's scale of sub-block j at lanes 2r,
  // 2r + 1 of vector j; its mins of sub-blocks 2p, 2p + 1 at lanes 2r, 2r + 1 of min vector p (once per chunk)
  v128.store(tmp, scalesAndMins(w0 + 4)); v128.store(tmp, scalesAndMins(w1 + 4), 16);
  v128.store(tmp, scalesAndMins(w2 + 4), 32); v128.store(tmp, scalesAndMins(w3 + 4), 48);
  for (let r: usize = 0; r < 4; r++) {
    const sm = tmp + (r << 4);
    for (let j: usize = 0; j < 8; j++) {
      const sc = <u32>load<u8>(sm + j), v = o + R_SC + (j << 5) + s + (r << 2);
      store<u32>(v, sc | (sc << 16));
    }
    for (let p: usize = 0; p < 4; p++) {
      store<u32>(o + R_MIN + (p << 5) + s + (r << 2), <u32>load<u8>(sm + 8 + 2 * p) | (<u32>load<u8>(sm + 9 + 2 * p) << 16));
    }
  }
  // quants: 64-element chunk c holds sub-blocks 2c (low nibbles of its 32 bytes) and 2c + 1 (high nibbles)
  const m4 = i8x16.splat(15);
  for (let c: usize = 0; c < 4; c++) {
    const qa0 = v128.load(w0 + 16 + (c << 5)), qb0 = v128.load(w0 + 32 + (c << 5));
    const qa1 = v128.load(w1 + 16 + (c << 5)), qb1 = v128.load(w1 + 32 + (c << 5));
    const qa2 = v128.load(w2 + 16 + (c << 5)), qb2 = v128.load(w2 + 32 + (c << 5));
    const qa3 = v128.load(w3 + 16 + (c << 5)), qb3 = v128.load(w3 + 32 + (c << 5));
    const q = o + R_Q + s + (c << 9); // group 16c
    storeTransposedI32(v128.and(qa0, m4), v128.and(qa1, m4), v128.and(qa2, m4), v128.and(qa3, m4), q, 32);
    storeTransposedI32(v128.and(qb0, m4), v128.and(qb1, m4), v128.and(qb2, m4), v128.and(qb3, m4), q + 128, 32);
    storeTransposedI32(v128.and(i16x8.shr_u(qa0, 4), m4), v128.and(i16x8.shr_u(qa1, 4), m4), v128.and(i16x8.shr_u(qa2, 4), m4),
      v128.and(i16x8.shr_u(qa3, 4), m4), q + 256, 32);
    storeTransposedI32(v128.and(i16x8.shr_u(qb0, 4), m4), v128.and(i16x8.shr_u(qb1, 4), m4), v128.and(i16x8.shr_u(qb2, 4), m4),
      v128.and(i16x8.shr_u(qb3, 4), m4), q + 384, 32);
  }
}

/** Rows r..r + n − 1 (n ≤ 4) of token t's outputs from the four lanes v. */
@inline function storeQuad(out: usize, v: v128, rows: i32, r: i32, t: i32, n: i32): void {
  const o = out + ((<usize>t * <usize>rows + <usize>r) << 2);
  if (n == 4) { v128.store(o, v); return; }
  store<f32>(o, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(o, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(o, f32x4.extract_lane(v, 2), 8);
}

/**
 * Token t's (constant) f32 step for both quads of a super-block: M from the min vectors and the token's
 * 32-element sums, then acc + S·(d_w·d_x) − M·(dmin_w·d_x) per lane, as kRowTile's addSuper.
 */
@inline function superStep(o: usize, p: usize, sc: usize, t: i32): void {
  const bs = p + QT_BS + (<usize>t << 4);
  let mA = i32x4.dot_i16x8_s(v128.load(o + R_MIN), v128.load32_splat(bs));
  let mB = i32x4.dot_i16x8_s(v128.load(o + R_MIN + 16), v128.load32_splat(bs));
  for (let k: usize = 1; k < 4; k++) {
    const b2 = v128.load32_splat(bs + (k << 2));
    mA = i32x4.add(mA, i32x4.dot_i16x8_s(v128.load(o + R_MIN + (k << 5)), b2));
    mB = i32x4.add(mB, i32x4.dot_i16x8_s(v128.load(o + R_MIN + (k << 5) + 16), b2));
  }
  const dx = v128.load32_splat(p + QT_D + (<usize>t << 2));
  const acc = sc + ACC + (<usize>t << 5), sums = sc + SUMS + (<usize>t << 5);
  let a = f32x4.add(v128.load(acc), f32x4.mul(f32x4.convert_i32x4_s(v128.load(sums)), f32x4.mul(v128.load(o + R_D), dx)));
  let b = f32x4.add(v128.load(acc, 16), f32x4.mul(f32x4.convert_i32x4_s(v128.load(sums, 16)), f32x4.mul(v128.load(o + R_D + 16), dx)));
  a = f32x4.sub(a, f32x4.mul(f32x4.convert_i32x4_s(mA), f32x4.mul(v128.load(o + R_DMIN), dx)));
  b = f32x4.sub(b, f32x4.mul(f32x4.convert_i32x4_s(mB), f32x4.mul(v128.load(o + R_DMIN + 16), dx)));
  v128.store(acc, a);
  v128.store(acc, b, 16);
}

/** sums at s + (i32 lanes) the scaled i16 sums h against scale vector sv. */
@inline function addScaled(s: usize, h: v128, sv: v128): void {
  v128.store(s, i32x4.add(v128.load(s), i32x4.dot_i16x8_s(h, sv)));
}

/**
 * A pair of quads (records from pr; rows rA.. (nA real), rB.. (nB real, 0: none)) against the four tokens of
 * one quad tile (tokens t.., n real): per sub-block the i16 sums of both quads and four tokens in registers
 * (the loop over its eight groups keeps six operands live, as quadTile), then the scales, into S in scratch.
 */
@inline function pairTile(pr: usize, tile: usize, nb: i32, sc: usize, out: usize, rows: i32, rA: i32, rB: i32, t: i32, nA: i32, nB: i32, n: i32): void {
  const z = i32x4.splat(0);
  for (let i: usize = 0; i < 128; i += 16) v128.store(sc + ACC + i, z);
  let o = pr, p = tile;
  for (let b = 0; b < nb; b++, o += R_BYTES, p += QT_BYTES) {
    for (let i: usize = 0; i < 128; i += 16) v128.store(sc + SUMS + i, z);
    let w = o + R_Q, x = p;
    for (let j: usize = 0; j < 8; j++) {
      let hA0 = z, hA1 = z, hA2 = z, hA3 = z, hB0 = z, hB1 = z, hB2 = z, hB3 = z;
      for (const end = x + 128; x < end; x += 16, w += 32) {
        const wA = v128.load(w), wB = v128.load(w, 16);
        const u0 = v128.load32_splat(x), u1 = v128.load32_splat(x, 4), u2 = v128.load32_splat(x, 8), u3 = v128.load32_splat(x, 12);
        hA0 = i16x8.add(hA0, i16x8.relaxed_dot_i8x16_i7x16_s(u0, wA)); hB0 = i16x8.add(hB0, i16x8.relaxed_dot_i8x16_i7x16_s(u0, wB));
        hA1 = i16x8.add(hA1, i16x8.relaxed_dot_i8x16_i7x16_s(u1, wA)); hB1 = i16x8.add(hB1, i16x8.relaxed_dot_i8x16_i7x16_s(u1, wB));
        hA2 = i16x8.add(hA2, i16x8.relaxed_dot_i8x16_i7x16_s(u2, wA)); hB2 = i16x8.add(hB2, i16x8.relaxed_dot_i8x16_i7x16_s(u2, wB));
        hA3 = i16x8.add(hA3, i16x8.relaxed_dot_i8x16_i7x16_s(u3, wA)); hB3 = i16x8.add(hB3, i16x8.relaxed_dot_i8x16_i7x16_s(u3, wB));
      }
      const sA = v128.load(o + R_SC + (j << 5)), sB = v128.load(o + R_SC + (j << 5), 16), s = sc + SUMS;
      addScaled(s, hA0, sA); addScaled(s + 16, hB0, sB);
      addScaled(s + 32, hA1, sA); addScaled(s + 48, hB1, sB);
      addScaled(s + 64, hA2, sA); addScaled(s + 80, hB2, sB);
      addScaled(s + 96, hA3, sA); addScaled(s + 112, hB3, sB);
    }
    superStep(o, p, sc, 0); superStep(o, p, sc, 1); superStep(o, p, sc, 2); superStep(o, p, sc, 3);
  }
  for (let j = 0; j < n; j++) {
    storeQuad(out, v128.load(sc + ACC + (<usize>j << 5)), rows, rA, t + j, nA);
    if (nB > 0) storeQuad(out, v128.load(sc + ACC + (<usize>j << 5) + 16), rows, rB, t + j, nB);
  }
}

/**
 * Prefill rows rowStart..rowEnd of a Q4_K matrix w (GGUF layout) against every tile of the quad tiles
 * (kquadTiles), chunk by chunk: each chunk of rows repacked into scratch (kquadScratchBytes), then each pair of
 * its quads over each tile.
 */
export function kquantQuadsOf(out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  quadsOf(false, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}

/** kquantQuadsOf for a matrix in the q4_Kx4 layout (matmul-kquants-x4.ts; rows in whole quads): records from its quads. */
export function kquantQuadsOfX4(out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  quadsOf(true, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}

@inline function quadsOf(x4: bool, out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  const nb = cols >> 8, rowBytes = <usize>nb * 144, recs = scratch + HEAD, pairBytes = <usize>nb * R_BYTES;
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd), quads = (r1 - r0 + 3) >> 2;
    for (let q = 0; q < quads; q++) { // quad q into side q & 1 of pair q >> 1; a partial quad repeats its last row
      const ra = r0 + 4 * q, last = r1 - 1;
      if (x4) { // rowBytes·4 bytes a quad, 576 a quad super-block
        const src = w + <usize>(ra >> 2) * 4 * rowBytes, o = recs + <usize>(q >> 1) * pairBytes;
        for (let b: usize = 0; b < <usize>nb; b++) {
          x4QuadRecord(src + b * 576, o + b * R_BYTES, <usize>(q & 1));
          if (q == quads - 1 && (q & 1) == 0) x4QuadRecord(src + b * 576, o + b * R_BYTES, 1); // paired with itself
        }
        continue;
      }
      const w0 = w + <usize>ra * rowBytes, w1 = w + <usize>min(ra + 1, last) * rowBytes;
      const w2 = w + <usize>min(ra + 2, last) * rowBytes, w3 = w + <usize>min(ra + 3, last) * rowBytes;
      const o = recs + <usize>(q >> 1) * pairBytes;
      for (let b: usize = 0; b < <usize>nb; b++) {
        const wb = b * 144, ob = o + b * R_BYTES;
        repackQuadSuper(w0 + wb, w1 + wb, w2 + wb, w3 + wb, ob, <usize>(q & 1), scratch + TMP);
        if (q == quads - 1 && (q & 1) == 0) repackQuadSuper(w0 + wb, w1 + wb, w2 + wb, w3 + wb, ob, 1, scratch + TMP); // paired with itself
      }
    }
    for (let t = 0; t < nTokens; t += 4) {
      const n = min(4, nTokens - t), tile = tiles + <usize>(t >> 2) * <usize>nb * QT_BYTES;
      for (let q = 0; q < quads; q += 2) {
        const rA = r0 + 4 * q, rB = rA + 4;
        pairTile(recs + <usize>(q >> 1) * pairBytes, tile, nb, scratch, out, rows, rA, rB, t, min(4, r1 - rA), q + 1 < quads ? min(4, r1 - rB) : 0, n);
      }
    }
  }
}
