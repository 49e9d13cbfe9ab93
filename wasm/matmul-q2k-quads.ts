/**
 * Prefill of Q2_K products on 8-bit dots (relaxed build; the baseline build keeps matmul-lowbit-quads.ts's i16
 * dots over weights pre-multiplied by their scales). Rows are repacked four at a time ("quads", in pairs A, B as
 * there) with each 2-bit weight as a byte, so that one i16x8.relaxed_dot_i8x16_i7x16_s takes four elements of
 * four rows (sixteen bytes) against one token's four i8 activation quants (broadcast): sixteen multiply-adds
 * where the i16 dot did eight. A 16-element sub-block is four such dots per row and token, whose i16 pair sums
 * add up in i16 (|·| ≤ 4·2·3·127 = 3048), then one i32x4.dot_i16x8_s with the sub-block's scale vector (each
 * row's 4-bit scale in the two lanes of its pair sums) gives the rows' sc·Σ q·x in i32: per 64 multiply-adds
 * four 8-bit dots, three i16 adds, one i16 dot and one i32 add, where the i16 dot over q·sc needed eight dots and
 * eight adds. (Multiplying the scale in at repack, q·sc ≤ 45, also fits the 7-bit operand, but its pair sums
 * allow only two dots per widening, which left the kernel no faster. The x86 lowering, pmaddubsw, saturates pair
 * sums to i16; none comes near.)
 * The integers are matmul-lowbit-quads.ts's, S = Σ sc·q·x per row and token over each half super-block (a whole
 * tile of four tokens) or super-block (a partial tile), exact in any order, and the f32 steps are its q2Step
 * (acc = fma(S, d_w·d_x, acc), accm = fma(M, dmin_w·d_x, accm), output acc − accm), so the outputs are
 * bitwise those of the i16 kernel and of llama.cpp's repacked Q2_K gemm/gemv (matmul-lowbit.ts).
 * Records (per pair of quads and super-block): d_w, dmin_w and the mins as matmul-lowbit-quads.ts's (R_DMIN,
 * R_MIN; storeMins, for q2Step), then sixteen scale vectors (sub-block k: A's at R_SC + 32k, B's 16 bytes on),
 * then 64 groups of 32 bytes: group g holds elements 4g..4g+3 of A's four rows (row r at 4r), then B's. Tiles:
 * kquadTiles' (matmul-kquant-quads.ts), whose groups match: token t's elements 4g..4g+3 at 16g + 4t, then d_x
 * and each token's sixteen 16-element sums, which M needs.
 */

import { f16ToF32, storeRowLanes, storeTransposedI32 } from "./simd";
import { QT_BS16, QT_BYTES, QT_D } from "./matmul-kquant-quads";
import { q2Step, q2Total, R_DMIN, storeMins } from "./matmul-lowbit-quads";

/** Record: offsets of the scale vectors (after the mins) and of the quants, bytes per super-block. */
const R_SC: usize = 320, R_Q: usize = R_SC + 512, R_BYTES: usize = R_Q + 2048;
/** Scratch: f32 sums (four tokens × two quads: acc, accm), i32 sums S (two sets), then the records. */
const ACC: usize = 0, SUMS: usize = 256, HEAD: usize = 512;
const ROW_CHUNK: i32 = 16;

/** Bytes of per-thread scratch q2kQuadsOf needs for rows of `cols`. */
export function q2kQuadScratchBytes(cols: i32): i32 {
  return <i32>HEAD + (ROW_CHUNK >> 3) * (cols >> 8) * <i32>R_BYTES;
}

/**
 * Elements 16k..16k+15 (sub-block k, unsigned 2-bit) of the Q2_K super-block at wb: element 128h + 32j + l is
 * bits 2j..2j+1 of qs[32h + l].
 */
@inline function quants16(wb: usize, k: usize): v128 {
  const q = v128.load(wb + 16 + ((k >> 3) << 5) + ((k & 1) << 4));
  return v128.and(i16x8.shr_u(q, <i32>(2 * ((k >> 1) & 3))), i8x16.splat(3));
}

/** Row wb's sixteen 4-bit scales, each twice (i16 lanes 2i, 2i + 1 of i32 lane i), sub-blocks 4c..4c+3 in vector c. */
@inline function scalePairs(wb: usize, c: i32): v128 {
  const v = v128.and(v128.load(wb), i8x16.splat(15));
  const h = c < 2 ? i16x8.extend_low_i8x16_u(v) : i16x8.extend_high_i8x16_u(v);
  return (c & 1) == 0 ? i8x16.shuffle(h, h, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7)
    : i8x16.shuffle(h, h, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15);
}

/** Super-block of the quad whose rows are at w0..w3 into side `side` of the pair record at o. */
@inline function repackSuper(w0: usize, w1: usize, w2: usize, w3: usize, o: usize, side: usize): void {
  const s = side << 4;
  store<f32>(o + s, f16ToF32(load<u16>(w0 + 80))); store<f32>(o + s, f16ToF32(load<u16>(w1 + 80)), 4);
  store<f32>(o + s, f16ToF32(load<u16>(w2 + 80)), 8); store<f32>(o + s, f16ToF32(load<u16>(w3 + 80)), 12);
  store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w0 + 82))); store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w1 + 82)), 4);
  store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w2 + 82)), 8); store<f32>(o + R_DMIN + s, f16ToF32(load<u16>(w3 + 82)), 12);
  storeMins(w0, w1, w2, w3, o + s);
  for (let c = 0; c < 4; c++) { // scale vectors of sub-blocks 4c..4c+3: the four rows' scales, each in two lanes
    storeTransposedI32(scalePairs(w0, c), scalePairs(w1, c), scalePairs(w2, c), scalePairs(w3, c), o + R_SC + s + (<usize>c << 7), 32);
  }
  for (let k: usize = 0; k < 16; k++) { // groups 4k..4k+3: four elements of each row side by side
    storeTransposedI32(quants16(w0, k), quants16(w1, k), quants16(w2, k), quants16(w3, k), o + R_Q + s + (k << 7), 32);
  }
}

/** Eight i16 pair sums of a token's four activations u (splat) against four elements of four rows w. */
@inline function dot8(u: v128, w: v128): v128 {
  return i16x8.relaxed_dot_i8x16_i7x16_s(u, w);
}

/**
 * A token's sums at d (A) and d + 16 (B) plus both quads' sub-block (weights a1..a4, b1..b4; scale vectors at sv)
 * against its activations at x.
 */
@inline function pairToken(d: usize, x: usize, a1: v128, a2: v128, a3: v128, a4: v128, b1: v128, b2: v128, b3: v128, b4: v128, sv: usize, first: bool): void {
  const u1 = v128.load32_splat(x), u2 = v128.load32_splat(x, 16), u3 = v128.load32_splat(x, 32), u4 = v128.load32_splat(x, 48);
  const hA = i16x8.add(i16x8.add(dot8(u1, a1), dot8(u2, a2)), i16x8.add(dot8(u3, a3), dot8(u4, a4)));
  const hB = i16x8.add(i16x8.add(dot8(u1, b1), dot8(u2, b2)), i16x8.add(dot8(u3, b3), dot8(u4, b4)));
  const sA = i32x4.dot_i16x8_s(hA, v128.load(sv)), sB = i32x4.dot_i16x8_s(hB, v128.load(sv, 16));
  v128.store(d, first ? sA : i32x4.add(v128.load(d), sA));
  v128.store(d, first ? sB : i32x4.add(v128.load(d, 16), sB), 16);
}

/** One sub-block of both quads (groups from w, scale vectors at sv) against the four tokens at x: sums at dst, set (first) or added to. */
@inline function pairStep(w: usize, sv: usize, x: usize, dst: usize, first: bool): void {
  const a1 = v128.load(w), a2 = v128.load(w, 32), a3 = v128.load(w, 64), a4 = v128.load(w, 96);
  const b1 = v128.load(w, 16), b2 = v128.load(w, 48), b3 = v128.load(w, 80), b4 = v128.load(w, 112);
  pairToken(dst, x, a1, a2, a3, a4, b1, b2, b3, b4, sv, first); pairToken(dst + 32, x + 4, a1, a2, a3, a4, b1, b2, b3, b4, sv, first);
  pairToken(dst + 64, x + 8, a1, a2, a3, a4, b1, b2, b3, b4, sv, first); pairToken(dst + 96, x + 12, a1, a2, a3, a4, b1, b2, b3, b4, sv, first);
}

/**
 * Both quads' sums over half h of the super-block record o and tile p into dst (side s of token t at dst + 32t
 * + 16s), a sub-block a step (pairStep). The sums go through memory token by token: the stores keep V8 from
 * hoisting all sixteen splat loads of a step ahead of the first dot, which with the sums in registers spilled
 * them to the stack (kernel alone, 128 tokens, q2Step still looped: both quads this way 86 GFLOP/s; in
 * registers, one quad a pass, 62; through memory, one quad a pass, 81).
 */
@inline function pairPass(o: usize, p: usize, h: usize, dst: usize): void {
  let w = o + R_Q + (h << 10), sv = o + R_SC + (h << 8), x = p + (h << 9);
  pairStep(w, sv, x, dst, true); // the first sets the sums (no zeroing pass)
  for (const end = x + 512; x + 64 < end;) {
    w += 128; sv += 32; x += 64;
    pairStep(w, sv, x, dst, false);
  }
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
    pairPass(o, p, 0, sums);
    if (n == 4) {
      q2Step(o, p, acc, sums, QT_D, QT_BS16, 0, 4);
      pairPass(o, p, 1, sums);
      q2Step(o, p, acc, sums, QT_D, QT_BS16, 4, 8);
    } else {
      pairPass(o, p, 1, sums + 128);
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
