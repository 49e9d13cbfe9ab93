/**
 * Prefill of Q2_K, Q3_K and IQ4_XS products (both builds) on weight rows repacked four at a time ("quads", as
 * matmul-legacy-quads.ts): a SIMD lane is a weight row. Each chunk of rows is repacked once into the thread's
 * scratch with every weight already multiplied by its integer sub-block scale, as i16 (Q3_K: (q − 4·[high bit
 * clear])·sc, |·| ≤ 128; IQ4_XS: level·(ls − 32), |·| ≤ 4064), so one i32x4.dot_i16x8_s of two elements of four
 * rows against one token's two i16 activation quants (broadcast) gives exact integer terms, and the scales
 * cost nothing per tile. (The row kernels this replaced applied the sign or the high bit per token and an i16
 * dot with the scale every sixteen elements: 40–50 GFLOP/s a thread where these run 65–75.)
 * The float steps are theirs (llama.cpp's ggml_vec_dot_q3_K_q8_K / iq4_xs on x86): per super-block, eight i32
 * lane sums per row and token, lane m (m < 4) the elements 4m..4m+3 of the first sixteen of every 32 and lane
 * 4 + m of the second sixteen; acc_m = fma(lane_m, d_w·d_x, acc_m); at the end (acc_4..7 + acc_0..3), then
 * (l0 + l2) + (l1 + l3). The integer lane sums are exact in any order, so the outputs are bitwise the row
 * kernels'. To keep the lanes apart, the records and tiles are laid out lane by lane: for lane L the sixteen
 * pairs of elements (32j + 4L + {0, 2}, j = 0..7) of the super-block follow each other, and a pass over one
 * lane's pairs ends in that lane's f32 step.
 * Records (per pair of quads A, B and super-block): d_w of A's four rows and of B's (f32), then 128 groups of
 * 32 bytes (A's four rows × two i16, then B's), group 16L + 2j + k the pair at elements 32j + 4L + 2k.
 * Tiles (wideQuadTiles, per four tokens and super-block): the same 128 groups of the four tokens' i16 pairs
 * (16 bytes each), then d_x of the four, then their 16-element sums.
 * Q2_K here in the baseline build only (the relaxed build's Q2_K runs on 8-bit dots, matmul-q2k-quads.ts, with the
 * same integers and q2Step; no lanes: llama.cpp's repacked gemm/gemv keep S = Σ sc·q·x and M = Σ m·bsum per row and
 * acc = fma(S, d_w·d_x, acc), accm = fma(M, dmin_w·d_x, accm), per 128 elements for whole tiles of four tokens
 * and per super-block otherwise, as matmul-lowbit.ts q2Accumulate): weights q·sc (0..45) as i16, pairs in element
 * order (group k = elements 2k, 2k + 1), and per record dmin_w and each row's mins as i16 pairs (groups 2p,
 * 2p + 1) for one i16 dot against a token's two 16-element sums.
 */

import { f16ToF32, storeRowLanes, storeTransposedAt, storeTransposedI32 } from "./simd";
import { fma4 } from "./ggml-math";
import { narrowActivations, q8kRowBytes } from "./activation-rounding";
import { iq4Scales, q3Scales } from "./matmul-lowbit";

const Q2_K: i32 = 10, Q3_K: i32 = 11, IQ4_XS: i32 = 23;

/** Tile: bytes of the pairs, offsets of d_x and of the 16-element sums (i16, Q2_K), bytes per super-block. */
const WT_D: usize = 2048, WT_BS: usize = WT_D + 16, WT_BYTES: usize = WT_BS + 128;
/** Record: d_w; Q2_K's dmin_w and min vectors (matmul-q2k-quads.ts's records share these three fields). */
export const R_DMIN: usize = 32, R_MIN: usize = 64;
/** Record: offset of the pairs (after Q2_K's mins) and bytes per super-block. */
@inline function wrQ(type: i32): usize {
  return type == Q2_K ? 320 : 32;
}
@inline function wrBytes(type: i32): usize {
  return wrQ(type) + 4096;
}
/**
 * Scratch: f32 sums (four tokens × two quads × eight lanes; Q2_K: acc, accm), d_w·d_x (four tokens × two quads), i32
 * sums (two sets), the repack's bytes.
 */
const ACC: usize = 0, DV: usize = 1024, SUMS: usize = 1152, TMP: usize = SUMS + 256, HEAD: usize = TMP + 2048 + 64;
const ROW_CHUNK: i32 = 16;

/** Group index (16L + 2j + k) of the pair at elements 2q, 2q + 1 of 32-element block j (q = 0..15). */
@inline function groupOf(j: i32, q: i32): i32 {
  return ((q >> 1) << 4) + 2 * j + (q & 1);
}

/**
 * Wide quad tiles of the q8_k rows x (quantizeQ8K: i8 quants in the relaxed build, i16 in the baseline, as
 * narrowActivations says) for `type` at tiles: wideQuadTileBytes(cols, nTokens) bytes; a last partial tile
 * repeats its last token.
 */
export function wideQuadTiles(type: i32, x: usize, tiles: usize, cols: i32, nTokens: i32): void {
  if (type == Q2_K) tilesOf(Q2_K, x, tiles, cols, nTokens);
  else tilesOf(IQ4_XS, x, tiles, cols, nTokens); // Q3_K's layout is IQ4_XS's
}

@inline function tilesOf(type: i32, x: usize, tiles: usize, cols: i32, nTokens: i32): void {
  const narrow = narrowActivations(type) != 0, nb = cols >> 8, xRow = <usize>q8kRowBytes(cols, narrow);
  const dOff = narrow ? <usize>cols : <usize>cols << 1, bsOff = dOff + (<usize>nb << 2);
  for (let t = 0; t < (nTokens + 3) >> 2; t++) {
    const r0 = x + <usize>min(4 * t, nTokens - 1) * xRow, r1 = x + <usize>min(4 * t + 1, nTokens - 1) * xRow;
    const r2 = x + <usize>min(4 * t + 2, nTokens - 1) * xRow, r3 = x + <usize>min(4 * t + 3, nTokens - 1) * xRow;
    for (let b = 0; b < nb; b++) {
      const p = tiles + (<usize>t * <usize>nb + <usize>b) * WT_BYTES, q = <usize>b << (narrow ? 8 : 9);
      for (let j = 0; j < 8; j++) { // block j's 32 quants of each token as i16: pairs 4c..4c+3 in vector c
        // lane by lane: pairs 4c, 4c + 1 to groups 32c + 2j (+1), 4c + 2, 4c + 3 to 32c + 16 + 2j (+1); Q2_K: group 16j + 4c + i
        const o = p + (type == Q2_K ? <usize>j << 8 : <usize>(2 * j) << 4), step: usize = type == Q2_K ? 64 : 512;
        const o1: usize = 16, o2: usize = type == Q2_K ? 32 : 256, o3: usize = type == Q2_K ? 48 : 272;
        for (let c: usize = 0; c < 4; c++) {
          storeTransposedAt(pairs4(r0 + q, j, c, narrow), pairs4(r1 + q, j, c, narrow), pairs4(r2 + q, j, c, narrow),
            pairs4(r3 + q, j, c, narrow), o + c * step, o1, o2, o3);
        }
      }
      const d = dOff + (<usize>b << 2);
      store<f32>(p + WT_D, load<f32>(r0 + d)); store<f32>(p + WT_D, load<f32>(r1 + d), 4);
      store<f32>(p + WT_D, load<f32>(r2 + d), 8); store<f32>(p + WT_D, load<f32>(r3 + d), 12);
      if (type == Q2_K) {
        const bs = bsOff + (<usize>b << 5);
        copy32(r0 + bs, p + WT_BS); copy32(r1 + bs, p + WT_BS + 32); copy32(r2 + bs, p + WT_BS + 64); copy32(r3 + bs, p + WT_BS + 96);
      }
    }
  }
}

/** Pairs 4c..4c+3 (elements 8c..8c+7) of 32-element block j of a super-block's quants at q, as i16. */
@inline function pairs4(q: usize, j: i32, c: usize, narrow: bool): v128 {
  if (!narrow) return v128.load(q + (<usize>j << 6) + (c << 4));
  const v = v128.load64_zero(q + (<usize>j << 5) + (c << 3));
  return i16x8.extend_low_i8x16_s(v);
}

@inline function copy32(src: usize, dst: usize): void {
  v128.store(dst, v128.load(src));
  v128.store(dst, v128.load(src, 16), 16);
}

/**
 * Tokens from which a product of `type` runs here rather than on matmul-lowbit-tile.ts's row tiles (relaxed
 * build; the baseline build has no row tiles): each chunk's repack costs about what one tile pass does, so a
 * short batch does not pay it back. Measured (bench/matmul.ts shapes, one thread, relaxed, GFLOP/s rows against
 * quads, load 3-5): 16 tokens Q3_K 45-48 / 51-56, IQ4_XS 46-49 / 57-58. Q2_K's quads (on 8-bit dots,
 * matmul-q2k-quads.ts) against its rows, kernel alone, medians of twelve, load 2.3: 4 tokens 64 / 58, 5: 43 /
 * 47, 6: 52 / 56, 7: 61 / 65, 8: 61 / 69, 12: 61 / 78. From 8, as Q4_K (the gain at 5-7 is small, and the
 * tests' 7-token products keep the row tiles covered).
 */
export function wideQuadMinTokens(type: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 2;
  return type == Q2_K ? 8 : 16;
}

/** Bytes wideQuadTiles writes for nTokens rows of `cols`. */
export function wideQuadTileBytes(cols: i32, nTokens: i32): i32 {
  return ((nTokens + 3) >> 2) * (cols >> 8) * <i32>WT_BYTES;
}

/** Bytes of per-thread scratch lowBitQuadsOf needs for rows of `cols`. */
export function wideQuadScratchBytes(cols: i32): i32 {
  return <i32>HEAD + (ROW_CHUNK >> 3) * (cols >> 8) * <i32>wrBytes(Q2_K);
}

@inline function blockBytes(type: i32): usize {
  return type == Q2_K ? 84 : type == Q3_K ? 110 : 136;
}

/** Sixteen i8 weights v times the i16 scale s, as i16 at out (elements 0..7) and out + 16 (8..15). */
@inline function storeScaled(v: v128, s: v128, out: usize): void {
  v128.store(out, i16x8.mul(i16x8.extend_low_i8x16_s(v), s));
  v128.store(out, i16x8.mul(i16x8.extend_high_i8x16_s(v), s), 16);
}

/**
 * The super-block at wb's 256 weights times their sub-block scales, as i16 at out (element e at out + 2e); sc:
 * 32 bytes of scratch for the scales. Q3_K: element 128h + 32j + l is bits 2j..2j+1 of qs[32h + l] minus 4
 * where bit 4h + j of hmask[l] is clear, scale e >> 4; IQ4_XS: sub-block p's low nibbles are its elements
 * 0..15, high nibbles 16..31, selecting levels.
 */
@inline function scaledInts(type: i32, wb: usize, out: usize, sc: usize): void {
  if (type == Q2_K) { // as Q3_K without the high bits: scale g in the low nibble of byte g
    const s4 = v128.and(v128.load(wb), i8x16.splat(15));
    v128.store(sc, i16x8.extend_low_i8x16_u(s4)); v128.store(sc, i16x8.extend_high_i8x16_u(s4), 16);
    for (let h = 0; h < 2; h++) {
      const qA = v128.load(wb + 16 + <usize>(32 * h)), qB = v128.load(wb + 32 + <usize>(32 * h));
      for (let j = 0; j < 4; j++) {
        const g = <usize>(8 * h + 2 * j), o = out + (<usize>(128 * h + 32 * j) << 1);
        storeScaled(v128.and(i16x8.shr_u(qA, 2 * j), i8x16.splat(3)), v128.load16_splat(sc + (g << 1)), o);
        storeScaled(v128.and(i16x8.shr_u(qB, 2 * j), i8x16.splat(3)), v128.load16_splat(sc + (g << 1) + 2), o + 32);
      }
    }
    return;
  }
  if (type == Q3_K) {
    v128.store(sc, q3Scales(wb + 96, false)); v128.store(sc, q3Scales(wb + 96, true), 16); // group g's at sc + 2g
    const hA = v128.load(wb), hB = v128.load(wb, 16), four = i8x16.splat(4), zero = i8x16.splat(0), m3 = i8x16.splat(3);
    for (let h = 0; h < 2; h++) {
      const qA = v128.load(wb + 32 + <usize>(32 * h)), qB = v128.load(wb + 48 + <usize>(32 * h));
      for (let j = 0; j < 4; j++) { // elements 128h + 32j + l: l < 16 from qA/hA (group 8h + 2j), else qB/hB
        const bit = i32x4.splat(0x01010101 << (4 * h + j));
        const mA = v128.and(i8x16.eq(v128.and(hA, bit), zero), four), mB = v128.and(i8x16.eq(v128.and(hB, bit), zero), four);
        const fA = v128.and(i16x8.shr_u(qA, 2 * j), m3), fB = v128.and(i16x8.shr_u(qB, 2 * j), m3);
        const g = <usize>(8 * h + 2 * j), o = out + (<usize>(128 * h + 32 * j) << 1);
        storeScaled(i8x16.sub(fA, mA), v128.load16_splat(sc + (g << 1)), o);
        storeScaled(i8x16.sub(fB, mB), v128.load16_splat(sc + (g << 1) + 2), o + 32);
      }
    }
    return;
  }
  v128.store(sc, iq4Scales(wb)); // sub-block p's at sc + 2p
  const levels = i8x16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113), m4 = i8x16.splat(15);
  for (let p = 0; p < 8; p++) {
    const raw = v128.load(wb + 8 + <usize>(16 * p)), s = v128.load16_splat(sc + (<usize>p << 1)), o = out + (<usize>(32 * p) << 1);
    storeScaled(i8x16.swizzle(levels, v128.and(raw, m4)), s, o);
    storeScaled(i8x16.swizzle(levels, v128.and(i16x8.shr_u(raw, 4), m4)), s, o + 32);
  }
}

/** Super-block b of the quad whose rows are at w0..w3 into side `side` of the pair record at o (tmp: scratch). */
@inline function repackWideSuper(type: i32, w0: usize, w1: usize, w2: usize, w3: usize, o: usize, side: usize, tmp: usize): void {
  const s = side << 4, dOff: usize = type == Q2_K ? 80 : type == Q3_K ? 108 : 0;
  store<f32>(o + s, f16ToF32(load<u16>(w0 + dOff))); store<f32>(o + s, f16ToF32(load<u16>(w1 + dOff)), 4);
  store<f32>(o + s, f16ToF32(load<u16>(w2 + dOff)), 8); store<f32>(o + s, f16ToF32(load<u16>(w3 + dOff)), 12);
  if (type == Q2_K) {
    store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w0 + 82))); store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w1 + 82)), 4);
    store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w2 + 82)), 8); store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w3 + 82)), 12);
    storeMins(w0, w1, w2, w3, o + s);
  }
  const sc = tmp + 2048;
  scaledInts(type, w0, tmp, sc); scaledInts(type, w1, tmp + 512, sc);
  scaledInts(type, w2, tmp + 1024, sc); scaledInts(type, w3, tmp + 1536, sc);
  // four pairs of each row at a time, transposed so that a group holds the four rows' pair
  const q = o + wrQ(type) + s;
  for (let j: usize = 0; j < 8; j++) {
    for (let c: usize = 0; c < 4; c++) { // pairs 4c..4c+3 of block j (groups as tilesOf's)
      const src = tmp + (j << 6) + (c << 4), a = v128.load(src), b = v128.load(src + 512), d = v128.load(src + 1024), e = v128.load(src + 1536);
      if (type == Q2_K) storeTransposedAt(a, b, d, e, q + ((16 * j + 4 * c) << 5), 32, 64, 96);
      else storeTransposedAt(a, b, d, e, q + (((c << 5) + 2 * j) << 5), 32, 512, 544);
    }
  }
}

/**
 * Q2_K: the mins of the quad whose rows' super-blocks are at w0..w3 (high nibbles of their sixteen scale bytes) into
 * the min vectors at o (side included): vector p holds row r's mins of groups 2p, 2p + 1 in i16 lanes 2r, 2r + 1,
 * i.e. i32 lane p of the row's mins widened to i16, transposed.
 */
@inline export function storeMins(w0: usize, w1: usize, w2: usize, w3: usize, o: usize): void {
  const m0 = mins16(w0), m1 = mins16(w1), m2 = mins16(w2), m3 = mins16(w3);
  storeTransposedI32(i16x8.extend_low_i8x16_u(m0), i16x8.extend_low_i8x16_u(m1), i16x8.extend_low_i8x16_u(m2),
    i16x8.extend_low_i8x16_u(m3), o + R_MIN, 32);
  storeTransposedI32(i16x8.extend_high_i8x16_u(m0), i16x8.extend_high_i8x16_u(m1), i16x8.extend_high_i8x16_u(m2),
    i16x8.extend_high_i8x16_u(m3), o + R_MIN + 128, 32);
}

@inline function mins16(w: usize): v128 {
  return v128.and(i16x8.shr_u(v128.load(w), 4), i8x16.splat(15));
}

/** Token t's side s output: hsum_float_8 of its eight lane sums, rows in lanes. */
@inline function laneTotal(sc: usize, t: i32, s: i32): v128 {
  const a = sc + ACC + (<usize>(2 * t + s) << 7);
  const r0 = f32x4.add(v128.load(a, 64), v128.load(a)), r1 = f32x4.add(v128.load(a, 80), v128.load(a, 16));
  const r2 = f32x4.add(v128.load(a, 96), v128.load(a, 32)), r3 = f32x4.add(v128.load(a, 112), v128.load(a, 48));
  return f32x4.add(f32x4.add(r0, r2), f32x4.add(r1, r3));
}

/**
 * The pairs from w (records, 32 bytes a group) and x (tiles, 16 bytes) up to x = end against both quads and
 * four tokens: eight i32 sums (side s of token t at dst + 32t + 16s), in registers through the loop (which keeps
 * six operands live, as quadTile).
 */
@inline function dotPass(w: usize, x: usize, end: usize, dst: usize): void {
  const z = i32x4.splat(0);
  let sA0 = z, sA1 = z, sA2 = z, sA3 = z, sB0 = z, sB1 = z, sB2 = z, sB3 = z;
  for (; x < end; x += 16, w += 32) {
    const wA = v128.load(w), wB = v128.load(w, 16);
    const u0 = v128.load32_splat(x), u1 = v128.load32_splat(x, 4), u2 = v128.load32_splat(x, 8), u3 = v128.load32_splat(x, 12);
    sA0 = i32x4.add(sA0, i32x4.dot_i16x8_s(wA, u0)); sB0 = i32x4.add(sB0, i32x4.dot_i16x8_s(wB, u0));
    sA1 = i32x4.add(sA1, i32x4.dot_i16x8_s(wA, u1)); sB1 = i32x4.add(sB1, i32x4.dot_i16x8_s(wB, u1));
    sA2 = i32x4.add(sA2, i32x4.dot_i16x8_s(wA, u2)); sB2 = i32x4.add(sB2, i32x4.dot_i16x8_s(wB, u2));
    sA3 = i32x4.add(sA3, i32x4.dot_i16x8_s(wA, u3)); sB3 = i32x4.add(sB3, i32x4.dot_i16x8_s(wB, u3));
  }
  v128.store(dst, sA0); v128.store(dst, sB0, 16); v128.store(dst, sA1, 32); v128.store(dst, sB1, 48);
  v128.store(dst, sA2, 64); v128.store(dst, sB2, 80); v128.store(dst, sA3, 96); v128.store(dst, sB3, 112);
}

/** d_w·x_d of both quads and the four tokens to DV (side s of token t at DV + 32t + 16s) from d_w at dw. */
@inline function storeDv(dw: usize, p: usize, sc: usize): void {
  const dA = v128.load(dw), dB = v128.load(dw, 16);
  for (let k: usize = 0; k < 4; k++) {
    const dx = v128.load32_splat(p + WT_D + (k << 2));
    v128.store(sc + DV + (k << 5), f32x4.mul(dA, dx));
    v128.store(sc + DV + (k << 5) + 16, f32x4.mul(dB, dx));
  }
}

/** Stores the tile's outputs (rows rA.. (nA real), rB.. (nB real, 0: none), tokens t.. (n real)), rows in lanes. */
@inline function storeTile(type: i32, sc: usize, out: usize, rows: i32, rA: i32, rB: i32, t: i32, nA: i32, nB: i32, n: i32): void {
  for (let j = 0; j < n; j++) {
    const a = type == Q2_K ? q2Total(sc + ACC, j, 0) : laneTotal(sc, j, 0);
    storeRowLanes(out, a, rows, rA, t + j, nA);
    if (nB > 0) storeRowLanes(out, type == Q2_K ? q2Total(sc + ACC, j, 1) : laneTotal(sc, j, 1), rows, rB, t + j, nB);
  }
}

/**
 * Q3_K, IQ4_XS: a pair of quads (records from pr) against the four tokens of one wide tile: per super-block and
 * lane, its sixteen pairs (dotPass), then the lane's f32 steps.
 */
@inline function pairTile(type: i32, pr: usize, tile: usize, nb: i32, sc: usize): void {
  const z = i32x4.splat(0);
  for (let i: usize = 0; i < 1024; i += 16) v128.store(sc + ACC + i, z);
  let o = pr, p = tile;
  for (let b = 0; b < nb; b++, o += wrBytes(type), p += WT_BYTES) {
    storeDv(o, p, sc);
    let w = o + wrQ(type), x = p;
    for (let L: usize = 0; L < 8; L++, w += 512, x += 256) {
      dotPass(w, x, x + 256, sc + SUMS);
      for (let k: usize = 0; k < 8; k++) { // side k & 1 of token k >> 1
        const a = sc + ACC + ((k << 3) + L << 4);
        v128.store(a, fma4(f32x4.convert_i32x4_s(v128.load(sc + SUMS + (k << 4))), v128.load(sc + DV + (k << 4)), v128.load(a)));
      }
    }
  }
}

/** Q2_K's output of token t, side s: acc − accm (acc: q2Step's). */
@inline export function q2Total(acc: usize, t: i32, s: i32): v128 {
  const a = acc + (<usize>(2 * t + s) << 5);
  return f32x4.sub(v128.load(a), v128.load(a, 16));
}

/**
 * Q2_K: for both quads and four tokens, acc = fma(S, d_w·d_x, acc) and accm = fma(M, dmin_w·d_x, accm) (at acc:
 * token t's side s at acc + 64t + 32s), S at sums (+ 32t + 16s) and M over min pairs p0..p1 − 1 (four or eight:
 * the groups of the elements S covers) from the record o (d_w, dmin_w and the mins as repackWideSuper's) and the
 * tile p, whose d_x are at p + tD and token t's 16-element sums at p + tBs + 32t (this file's tiles, or
 * kquadTiles' for matmul-q2k-quads.ts). Unrolled: as loops over tokens and pairs V8 kept their counters on the
 * stack and checked it every pass, which cost the 8-bit kernel about a third of its time.
 */
@inline export function q2Step(o: usize, p: usize, acc: usize, sums: usize, tD: usize, tBs: usize, p0: usize, p1: usize): void {
  q2StepToken(o, p, acc, sums, tD, tBs, p0, p1, 0); q2StepToken(o, p, acc, sums, tD, tBs, p0, p1, 1);
  q2StepToken(o, p, acc, sums, tD, tBs, p0, p1, 2); q2StepToken(o, p, acc, sums, tD, tBs, p0, p1, 3);
}

/** q2Step for token t, both quads (the token's sums splat once for both). */
@inline function q2StepToken(o: usize, p: usize, acc: usize, sums: usize, tD: usize, tBs: usize, p0: usize, p1: usize, t: usize): void {
  const bs = p + tBs + (t << 5) + (p0 << 2), mn = o + R_MIN + (p0 << 5);
  const b0 = v128.load32_splat(bs), b1 = v128.load32_splat(bs, 4), b2 = v128.load32_splat(bs, 8), b3 = v128.load32_splat(bs, 12);
  let mA = minSum4(mn, b0, b1, b2, b3), mB = minSum4(mn + 16, b0, b1, b2, b3);
  if (p1 - p0 == 8) {
    const c0 = v128.load32_splat(bs, 16), c1 = v128.load32_splat(bs, 20), c2 = v128.load32_splat(bs, 24), c3 = v128.load32_splat(bs, 28);
    mA = i32x4.add(mA, minSum4(mn + 128, c0, c1, c2, c3)); mB = i32x4.add(mB, minSum4(mn + 144, c0, c1, c2, c3));
  }
  const dx = v128.load32_splat(p + tD + (t << 2)), a = acc + (t << 6), s = sums + (t << 5);
  v128.store(a, fma4(f32x4.convert_i32x4_s(v128.load(s)), f32x4.mul(v128.load(o), dx), v128.load(a)));
  v128.store(a, fma4(f32x4.convert_i32x4_s(mA), f32x4.mul(v128.load(o + R_DMIN), dx), v128.load(a, 16)), 16);
  v128.store(a, fma4(f32x4.convert_i32x4_s(v128.load(s, 16)), f32x4.mul(v128.load(o, 16), dx), v128.load(a, 32)), 32);
  v128.store(a, fma4(f32x4.convert_i32x4_s(mB), f32x4.mul(v128.load(o + R_DMIN + 16), dx), v128.load(a, 48)), 48);
}

/** Σ of four min vectors (32 bytes apart from mn) against a token's four pairs of 16-element sums b0..b3 (splat; exact). */
@inline function minSum4(mn: usize, b0: v128, b1: v128, b2: v128, b3: v128): v128 {
  const a = i32x4.add(i32x4.dot_i16x8_s(v128.load(mn), b0), i32x4.dot_i16x8_s(v128.load(mn, 32), b1));
  const b = i32x4.add(i32x4.dot_i16x8_s(v128.load(mn, 64), b2), i32x4.dot_i16x8_s(v128.load(mn, 96), b3));
  return i32x4.add(a, b);
}

/**
 * Q2_K: a pair of quads against one wide tile of n tokens: the integer sums of each half super-block (dotPass);
 * a whole tile (n = 4) adds per half, as llama.cpp's gemm, else per super-block (its gemv).
 */
@inline function pairTileQ2(pr: usize, tile: usize, nb: i32, sc: usize, n: i32): void {
  const z = i32x4.splat(0);
  for (let i: usize = 0; i < 256; i += 16) v128.store(sc + ACC + i, z);
  let o = pr, p = tile;
  for (let b = 0; b < nb; b++, o += wrBytes(Q2_K), p += WT_BYTES) {
    const w = o + wrQ(Q2_K);
    dotPass(w, p, p + 1024, sc + SUMS);
    if (n == 4) {
      q2Step(o, p, sc + ACC, sc + SUMS, WT_D, WT_BS, 0, 4);
      dotPass(w + 2048, p + 1024, p + 2048, sc + SUMS);
      q2Step(o, p, sc + ACC, sc + SUMS, WT_D, WT_BS, 4, 8);
    } else {
      dotPass(w + 2048, p + 1024, p + 2048, sc + SUMS + 128);
      for (let i: usize = 0; i < 128; i += 16) v128.store(sc + SUMS + i, i32x4.add(v128.load(sc + SUMS + i), v128.load(sc + SUMS + 128 + i)));
      q2Step(o, p, sc + ACC, sc + SUMS, WT_D, WT_BS, 0, 8);
    }
  }
}

@inline function quadsOf(type: i32, out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  const nb = cols >> 8, rowBytes = <usize>nb * blockBytes(type), recs = scratch + HEAD, pairBytes = <usize>nb * wrBytes(type);
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd), quads = (r1 - r0 + 3) >> 2;
    for (let q = 0; q < quads; q++) { // quad q into side q & 1 of pair q >> 1; a partial quad repeats its last row
      const ra = r0 + 4 * q, last = r1 - 1;
      const w0 = w + <usize>ra * rowBytes, w1 = w + <usize>min(ra + 1, last) * rowBytes;
      const w2 = w + <usize>min(ra + 2, last) * rowBytes, w3 = w + <usize>min(ra + 3, last) * rowBytes;
      const o = recs + <usize>(q >> 1) * pairBytes;
      for (let b: usize = 0; b < <usize>nb; b++) {
        const wb = b * blockBytes(type), ob = o + b * wrBytes(type);
        repackWideSuper(type, w0 + wb, w1 + wb, w2 + wb, w3 + wb, ob, <usize>(q & 1), scratch + TMP);
        if (q == quads - 1 && (q & 1) == 0) repackWideSuper(type, w0 + wb, w1 + wb, w2 + wb, w3 + wb, ob, 1, scratch + TMP);
      }
    }
    for (let t = 0; t < nTokens; t += 4) {
      const n = min(4, nTokens - t), tile = tiles + <usize>(t >> 2) * <usize>nb * WT_BYTES;
      for (let q = 0; q < quads; q += 2) {
        const rA = r0 + 4 * q, rB = rA + 4, pr = recs + <usize>(q >> 1) * pairBytes;
        if (type == Q2_K) pairTileQ2(pr, tile, nb, scratch, n);
        else pairTile(type, pr, tile, nb, scratch);
        storeTile(type, scratch, out, rows, rA, rB, t, min(4, r1 - rA), q + 1 < quads ? min(4, r1 - rB) : 0, n);
      }
    }
  }
}

/**
 * Prefill rows rowStart..rowEnd of a Q2_K (ggml type 10), Q3_K (11) or IQ4_XS (23) matrix w (GGUF layout) against the wide
 * quad tiles of nTokens tokens, chunk by chunk: each chunk's rows repacked into scratch (wideQuadScratchBytes).
 */
export function lowBitQuadsOf(type: i32, out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  if (type == Q2_K) quadsOf(Q2_K, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
  else if (type == Q3_K) quadsOf(Q3_K, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
  else quadsOf(IQ4_XS, out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}
