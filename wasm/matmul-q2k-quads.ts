/**
 * Prefill of Q2_K products on 8-bit dots (relaxed build; the baseline build keeps matmul-lowbit-quads.ts's i16
 * dots). Rows are repacked four at a time ("quads", in pairs A, B as there) with every weight already times its
 * 4-bit sub-block scale, q·sc in 0..45: that fits the unsigned 7-bit operand of i16x8.relaxed_dot_i8x16_i7x16_s,
 * which takes four elements of four rows (sixteen bytes) against one token's four i8 activation quants
 * (broadcast) in one op, sixteen multiply-adds where the i16 dot did eight. Its i16 pair sums are at most
 * 2·127·45 = 11430 in magnitude, so two of them add in i16 without overflow (22860 < 2^15) before one
 * i32x4.extadd_pairwise_i16x8_s widens them to the rows' i32 sums: five ops per 32 multiply-adds against the
 * i16 dot's eight. (The x86 lowering, pmaddubsw, saturates pair sums to i16; none comes near.)
 * The integers are matmul-lowbit-quads.ts's, S = Σ sc·q·x per row and token over each half super-block (a whole
 * tile of four tokens) or super-block (a partial tile), exact in any order, and the f32 steps are its q2Step's
 * (acc = fma(S, d_w·d_x, acc), accm = fma(M, dmin_w·d_x, accm), output acc − accm), so the outputs are
 * bitwise those of the i16 kernel and of llama.cpp's repacked Q2_K gemm/gemv (matmul-lowbit.ts).
 * Records (per pair of quads and super-block): d_w, dmin_w and the mins as matmul-lowbit-quads.ts's (R_DMIN,
 * R_MIN; storeMins), then 64 groups of 32 bytes: group k holds elements 4k..4k+3 of A's four rows (u8 q·sc,
 * row r at 4r), then B's. Tiles: kquadTiles' (matmul-kquant-quads.ts), whose groups match: token t's elements
 * 4k..4k+3 at 16k + 4t, then d_x and each token's sixteen 16-element sums, which M needs.
 */

import { f16ToF32, storeRowLanes, storeTransposedI32 } from "./simd";
import { QT_BS16, QT_BYTES, QT_D } from "./matmul-kquant-quads";
import { q2Step, q2Total, R_DMIN, storeMins } from "./matmul-lowbit-quads";

/** Record: offset of the quants (after the mins), bytes per super-block. */
const R_Q: usize = 320, R_BYTES: usize = R_Q + 2048;
/** Scratch: f32 sums (four tokens × two quads: acc, accm), i32 sums S (two sets), then the records. */
const ACC: usize = 0, SUMS: usize = 256, HEAD: usize = 512;
const ROW_CHUNK: i32 = 16;

/** Bytes of per-thread scratch q2kQuadsOf needs for rows of `cols`. */
export function q2kQuadScratchBytes(cols: i32): i32 {
  return <i32>HEAD + (ROW_CHUNK >> 3) * (cols >> 8) * <i32>R_BYTES;
}

/**
 * Elements 16k..16k+15 of the Q2_K super-block at wb times their scale (sub-block k: low nibble of byte k), as
 * u8: element 128h + 32j + l is bits 2j..2j+1 of qs[32h + l]. One i16 multiply scales all sixteen bytes: each
 * lane is lo + 256·hi with lo·sc ≤ 45, so no carry crosses into the high byte, whose product also stays < 256.
 */
@inline function scaled16(wb: usize, k: usize): v128 {
  const q = v128.load(wb + 16 + ((k >> 3) << 5) + ((k & 1) << 4));
  const v = v128.and(i16x8.shr_u(q, <i32>(2 * ((k >> 1) & 3))), i8x16.splat(3));
  return i16x8.mul(v, i16x8.splat(<i16>(load<u8>(wb + k) & 15)));
}

/** Super-block of the quad whose rows are at w0..w3 into side `side` of the pair record at o. */
@inline function repackSuper(w0: usize, w1: usize, w2: usize, w3: usize, o: usize, side: usize): void {
  const s = side << 4;
  store<f32>(o + s, f16ToF32(load<u16>(w0 + 80))); store<f32>(o + s, f16ToF32(load<u16>(w1 + 80)), 4);
  store<f32>(o + s, f16ToF32(load<u16>(w2 + 80)), 8); store<f32>(o + s, f16ToF32(load<u16>(w3 + 80)), 12);
  store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w0 + 82))); store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w1 + 82)), 4);
  store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w2 + 82)), 8); store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w3 + 82)), 12);
  storeMins(w0, o + s, 0); storeMins(w1, o + s, 1); storeMins(w2, o + s, 2); storeMins(w3, o + s, 3);
  for (let k: usize = 0; k < 16; k++) { // groups 4k..4k+3: four elements of each row side by side
    storeTransposedI32(scaled16(w0, k), scaled16(w1, k), scaled16(w2, k), scaled16(w3, k), o + R_Q + s + (k << 7), 32);
  }
}

/** Eight i16 pair sums of a token's four activations u (splat) against four elements of four rows w. */
@inline function dot8(u: v128, w: v128): v128 {
  return i16x8.relaxed_dot_i8x16_i7x16_s(u, w);
}

/** Row sums (i32) of two groups' pair sums, added in i16 first (|·| ≤ 2·11430). */
@inline function wide2(u: v128, w: v128, u2: v128, w2: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(i16x8.add(dot8(u, w), dot8(u2, w2)));
}

/**
 * The groups from w (records, 32 bytes a group) and x (tiles, 16 bytes) up to x = end against both quads and
 * four tokens, two groups a step: eight i32 sums (side s of token t at dst + 32t + 16s) in registers.
 */
@inline function dotPass(w: usize, x: usize, end: usize, dst: usize): void {
  const z = i32x4.splat(0);
  let sA0 = z, sA1 = z, sA2 = z, sA3 = z, sB0 = z, sB1 = z, sB2 = z, sB3 = z;
  for (; x < end; x += 32, w += 64) {
    const wA = v128.load(w), wB = v128.load(w, 16), wA2 = v128.load(w, 32), wB2 = v128.load(w, 48);
    let u = v128.load32_splat(x), u2 = v128.load32_splat(x, 16);
    sA0 = i32x4.add(sA0, wide2(u, wA, u2, wA2)); sB0 = i32x4.add(sB0, wide2(u, wB, u2, wB2));
    u = v128.load32_splat(x, 4); u2 = v128.load32_splat(x, 20);
    sA1 = i32x4.add(sA1, wide2(u, wA, u2, wA2)); sB1 = i32x4.add(sB1, wide2(u, wB, u2, wB2));
    u = v128.load32_splat(x, 8); u2 = v128.load32_splat(x, 24);
    sA2 = i32x4.add(sA2, wide2(u, wA, u2, wA2)); sB2 = i32x4.add(sB2, wide2(u, wB, u2, wB2));
    u = v128.load32_splat(x, 12); u2 = v128.load32_splat(x, 28);
    sA3 = i32x4.add(sA3, wide2(u, wA, u2, wA2)); sB3 = i32x4.add(sB3, wide2(u, wB, u2, wB2));
  }
  v128.store(dst, sA0); v128.store(dst, sB0, 16); v128.store(dst, sA1, 32); v128.store(dst, sB1, 48);
  v128.store(dst, sA2, 64); v128.store(dst, sB2, 80); v128.store(dst, sA3, 96); v128.store(dst, sB3, 112);
}

/**
 * A pair of quads against one quad tile of n tokens: S per half super-block for a whole tile (n = 4, as
 * llama.cpp's gemm), else per super-block (its gemv), then q2Step.
 */
@inline function pairTile(pr: usize, tile: usize, nb: i32, sc: usize, n: i32): void {
  const z = i32x4.splat(0), acc = sc + ACC, sums = sc + SUMS;
  for (let i: usize = 0; i < 256; i += 16) v128.store(acc + i, z);
  let o = pr, p = tile;
  for (let b = 0; b < nb; b++, o += R_BYTES, p += QT_BYTES) {
    const w = o + R_Q;
    dotPass(w, p, p + 512, sums);
    if (n == 4) {
      q2Step(o, p, acc, sums, QT_D, QT_BS16, 0, 4);
      dotPass(w + 1024, p + 512, p + 1024, sums);
      q2Step(o, p, acc, sums, QT_D, QT_BS16, 4, 8);
    } else {
      dotPass(w + 1024, p + 512, p + 1024, sums + 128);
      for (let i: usize = 0; i < 128; i += 16) v128.store(sums + i, i32x4.add(v128.load(sums + i), v128.load(sums + 128 + i)));
      q2Step(o, p, acc, sums, QT_D, QT_BS16, 0, 8);
    }
  }
}

/**
 * Prefill rows rowStart..rowEnd of a Q2_K matrix w (GGUF layout) against the quad tiles (kquadTiles) of
 * nTokens tokens, chunk by chunk: each chunk's rows repacked into scratch (q2kQuadScratchBytes), then each pair
 * of its quads over each tile. A last odd quad is paired with itself and a last partial quad repeats its last row.
 */
export function q2kQuadsOf(out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, scratch: usize): void {
  const nb = cols >> 8, rowBytes = <usize>nb * 84, recs = scratch + HEAD, pairBytes = <usize>nb * R_BYTES;
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd), quads = (r1 - r0 + 3) >> 2;
    for (let q = 0; q < quads; q++) { // quad q into side q & 1 of pair q >> 1
      const ra = r0 + 4 * q, last = r1 - 1;
      const w0 = w + <usize>ra * rowBytes, w1 = w + <usize>min(ra + 1, last) * rowBytes;
      const w2 = w + <usize>min(ra + 2, last) * rowBytes, w3 = w + <usize>min(ra + 3, last) * rowBytes;
      const o = recs + <usize>(q >> 1) * pairBytes;
      for (let b: usize = 0; b < <usize>nb; b++) {
        const wb = b * 84, ob = o + b * R_BYTES;
        repackSuper(w0 + wb, w1 + wb, w2 + wb, w3 + wb, ob, <usize>(q & 1));
        if (q == quads - 1 && (q & 1) == 0) repackSuper(w0 + wb, w1 + wb, w2 + wb, w3 + wb, ob, 1);
      }
    }
    for (let t = 0; t < nTokens; t += 4) {
      const n = min(4, nTokens - t), tile = tiles + <usize>(t >> 2) * <usize>nb * QT_BYTES;
      for (let q = 0; q < quads; q += 2) {
        const rA = r0 + 4 * q, rB = rA + 4, nA = min(4, r1 - rA), nB = q + 1 < quads ? min(4, r1 - rB) : 0;
        pairTile(recs + <usize>(q >> 1) * pairBytes, tile, nb, scratch, n);
        for (let j = 0; j < n; j++) {
          storeRowLanes(out, q2Total(scratch + ACC, j, 0), rows, rA, t + j, nA);
          if (nB > 0) storeRowLanes(out, q2Total(scratch + ACC, j, 1), rows, rB, t + j, nB);
        }
      }
    }
  }
}
