/**
 * Prefill of the legacy 32-element types on weight rows repacked four at a time ("quads"), so that a SIMD lane
 * is a weight row: one activation load (four bytes of one token, splat to every lane) feeds four rows, and a
 * block's integer sums come out with one lane per row, no horizontal reduction. The repacking runs per chunk
 * of rows into the thread's scratch (the GGUF-layout weights stay as they are: decode streams them, embedding
 * lookups and the inspector read them) and is paid once per chunk, then every token tile passes over it.
 * A quad's record per block: d_w of the four rows as f32 (decoded ahead), m_w likewise (Q4_1/Q5_1), then the
 * quants with the four rows side by side:
 * - narrow types (relaxed build: Q4_0, Q4_1, Q5_0, Q5_1): eight groups of 16 bytes, group k holding elements
 *   4k..4k+3 of rows 0..3 as unsigned bytes, for i16x8.relaxed_dot_i8x16_i7x16_s against a token's four i8
 *   activation quants; the i16 pair sums add up in i16 (Q5: per half block) and widen pairwise to one i32 a row.
 * - wide types (Q8_0, IQ4_NL; every type in the baseline build): sixteen groups of 16 bytes, group k holding
 *   elements 2k, 2k+1 of rows 0..3 as i16, for i32x4.dot_i16x8_s against a token's two i16 activation quants.
 * The arithmetic is the row kernels' (matmul-legacy.ts tokens4): per row and token the same exact integer sum
 * per block, the same d_w·d_x product, the same f32 (fused, in the relaxed build's narrow path) multiply-adds,
 * block after block in the same order, so the outputs are bitwise those of tokens4.
 */

import { f16ToF32 } from "./simd";
import { isNarrow, NARROW_QUANTS, NARROW_TILE_BYTES, offsetShift, WIDE_QUANTS, WIDE_TILE_BYTES } from "./activation-tiles";
import { blockBytes, half, isQ5, Q4_1, Q5_1, unpack, unsignedHalf } from "./legacy-blocks";

/** Bytes of a quad's record per block: scales (d_w, m_w: 32), then the quants. */
const SCALES: usize = 32;
@inline function quadRecord(narrow: bool): usize {
  return SCALES + (narrow ? 128 : 256);
}

/** Bytes of scratch repackQuads needs for `quads` quads of `cols` columns of `type` (either layout). */
export function legacyQuadBytes(type: i32, cols: i32, quads: i32): i32 {
  return quads * (cols >> 5) * <i32>quadRecord(isNarrow(type));
}

/** Writes [a_i, b_i, c_i, d_i] (i32 lane i of each) at out + 16·i, i = 0..3: a 4×4 transpose of 32-bit lanes. */
@inline function storeTransposed(a: v128, b: v128, c: v128, d: v128, out: usize): void {
  const abLo = i32x4.shuffle(a, b, 0, 4, 1, 5), cdLo = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const abHi = i32x4.shuffle(a, b, 2, 6, 3, 7), cdHi = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(out, i32x4.shuffle(abLo, cdLo, 0, 1, 4, 5));
  v128.store(out, i32x4.shuffle(abLo, cdLo, 2, 3, 6, 7), 16);
  v128.store(out, i32x4.shuffle(abHi, cdHi, 0, 1, 4, 5), 32);
  v128.store(out, i32x4.shuffle(abHi, cdHi, 2, 3, 6, 7), 48);
}

/**
 * Repacks `quads` quads of weight rows from w (GGUF layout, rowBytes a row) into out: quad q's record for
 * block b at out + (q·nb + b)·quadRecord.
 */
@inline function repackQuads(type: i32, w: usize, quads: i32, rowBytes: usize, nb: i32, out: usize): void {
  const bb = blockBytes(type), narrow = isNarrow(type), withMin = type == Q4_1 || type == Q5_1;
  const rec = quadRecord(narrow);
  for (let q = 0; q < quads; q++) {
    const w0 = w + <usize>(4 * q) * rowBytes, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    for (let b = 0; b < nb; b++) {
      const o = out + (<usize>q * <usize>nb + <usize>b) * rec, off = <usize>b * bb;
      const b0 = w0 + off, b1 = w1 + off, b2 = w2 + off, b3 = w3 + off;
      store<f32>(o, f16ToF32(load<u16>(b0))); store<f32>(o, f16ToF32(load<u16>(b1)), 4);
      store<f32>(o, f16ToF32(load<u16>(b2)), 8); store<f32>(o, f16ToF32(load<u16>(b3)), 12);
      if (withMin) {
        store<f32>(o, f16ToF32(load<u16>(b0, 2)), 16); store<f32>(o, f16ToF32(load<u16>(b1, 2)), 20);
        store<f32>(o, f16ToF32(load<u16>(b2, 2)), 24); store<f32>(o, f16ToF32(load<u16>(b3, 2)), 28);
      }
      if (narrow) {
        for (let u = 0; u < 2; u++) {
          storeTransposed(unsignedHalf(type, b0, u == 1), unsignedHalf(type, b1, u == 1), unsignedHalf(type, b2, u == 1),
            unsignedHalf(type, b3, u == 1), o + SCALES + (<usize>u << 6));
        }
      } else {
        const h00 = half(type, b0, 0), h01 = half(type, b0, 1), h10 = half(type, b1, 0), h11 = half(type, b1, 1);
        const h20 = half(type, b2, 0), h21 = half(type, b2, 1), h30 = half(type, b3, 0), h31 = half(type, b3, 1);
        for (let m = 0; m < 4; m++) {
          storeTransposed(unpack(type, b0, m, h00, h01), unpack(type, b1, m, h10, h11), unpack(type, b2, m, h20, h21),
            unpack(type, b3, m, h30, h31), o + SCALES + (<usize>m << 6));
        }
      }
    }
  }
}

/** i16 lanes 2r, 2r+1 of v added into i32 lane r. */
@inline function widen(v: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(v);
}

/** acc + S·(d_w·d_x) (+ m_w·s_x) for the token whose fields sit at f (d_x; s_x at f + 16): fused in the narrow path, as tokens4. */
@inline function addQuadBlock(type: i32, narrow: bool, acc: v128, S: v128, o: usize, f: usize): v128 {
  const withMin = type == Q4_1 || type == Q5_1;
  const d = f32x4.mul(v128.load(o), v128.load32_splat(f));
  if (ASC_FEATURE_RELAXED_SIMD) {
    if (narrow) {
      const a = f32x4.relaxed_madd(f32x4.convert_i32x4_s(S), d, acc);
      return withMin ? f32x4.relaxed_madd(v128.load(o, 16), v128.load32_splat(f + 16), a) : a;
    }
  }
  const a = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(S), d));
  return withMin ? f32x4.add(a, f32x4.mul(v128.load(o, 16), v128.load32_splat(f + 16))) : a;
}

/** Stores the four rows' outputs v of token t at out[t·rows + r ..]. */
@inline function storeRows(out: usize, v: v128, rows: i32, r: i32, t: i32): void {
  v128.store(out + ((<usize>t * <usize>rows + <usize>r) << 2), v);
}

/**
 * Two quads (records oA, oB; rows rA.., rB..) against tokens j, j + 1 of one tile (tokens t.. of the product):
 * each weight load feeds two tokens and each activation load two quads, four running sums (lanes: rows) in
 * registers. The inner loop runs over the groups of a block so that V8, which loads every operand of a basic
 * block first, keeps only four operands live. storeB / storeT1: whether quad B and token j + 1 are real (a
 * last odd quad or token is computed twice, or from the tile's repeated lane, and not stored).
 */
@inline function quadPair(type: i32, oA: usize, oB: usize, tile: usize, nb: i32, j: usize, out: usize, rows: i32,
  rA: i32, rB: i32, t: i32, storeB: bool, storeT1: bool): void {
  const narrow = isNarrow(type);
  const rec = quadRecord(narrow), tb = narrow ? NARROW_TILE_BYTES : WIDE_TILE_BYTES;
  const fOff: usize = (narrow ? NARROW_QUANTS : WIDE_QUANTS) + (j << 2); // token j's d_x in a tile block
  const z = i32x4.splat(0);
  let fA0 = z, fA1 = z, fB0 = z, fB1 = z;
  let a = oA, c = oB, p = tile;
  for (let b = 0; b < nb; b++, a += rec, c += rec, p += tb) {
    let sA0 = z, sA1 = z, sB0 = z, sB1 = z;
    if (narrow) {
      if (ASC_FEATURE_RELAXED_SIMD) {
        const x0 = p + (j << 5);
        // a lane of one 8-bit dot is ≤ 2·15·128 (Q4) or 2·31·128 (Q5): eight Q4 dots fit i16, four Q5 ones do
        const halves = isQ5(type) ? 2 : 1, per: usize = isQ5(type) ? 4 : 8;
        for (let h: usize = 0; h < <usize>halves; h++) {
          let hA0 = z, hA1 = z, hB0 = z, hB1 = z;
          // pointers bumped per group: V8 computed each address from k in four instructions
          let wa = a + SCALES + (h * per << 4), wc = c + SCALES + (h * per << 4), xa = x0 + (h * per << 2);
          for (const end = xa + (per << 2); xa < end; wa += 16, wc += 16, xa += 4) {
            const wA = v128.load(wa), wB = v128.load(wc);
            const u0 = v128.load32_splat(xa), u1 = v128.load32_splat(xa + 32);
            hA0 = i16x8.add(hA0, i16x8.relaxed_dot_i8x16_i7x16_s(u0, wA));
            hA1 = i16x8.add(hA1, i16x8.relaxed_dot_i8x16_i7x16_s(u1, wA));
            hB0 = i16x8.add(hB0, i16x8.relaxed_dot_i8x16_i7x16_s(u0, wB));
            hB1 = i16x8.add(hB1, i16x8.relaxed_dot_i8x16_i7x16_s(u1, wB));
          }
          sA0 = i32x4.add(sA0, widen(hA0)); sA1 = i32x4.add(sA1, widen(hA1));
          sB0 = i32x4.add(sB0, widen(hB0)); sB1 = i32x4.add(sB1, widen(hB1));
        }
        if (offsetShift(type) != 0) {
          const off0 = v128.load32_splat(p + NARROW_QUANTS + 32 + (j << 2)), off1 = v128.load32_splat(p + NARROW_QUANTS + 36 + (j << 2));
          sA0 = i32x4.sub(sA0, off0); sA1 = i32x4.sub(sA1, off1); sB0 = i32x4.sub(sB0, off0); sB1 = i32x4.sub(sB1, off1);
        }
      }
    } else {
      const x0 = p + (j << 6);
      let wa = a + SCALES, wc = c + SCALES, xa = x0;
      for (const end = x0 + 64; xa < end; wa += 16, wc += 16, xa += 4) {
        const wA = v128.load(wa), wB = v128.load(wc);
        const u0 = v128.load32_splat(xa), u1 = v128.load32_splat(xa + 64);
        sA0 = i32x4.add(sA0, i32x4.dot_i16x8_s(wA, u0));
        sA1 = i32x4.add(sA1, i32x4.dot_i16x8_s(wA, u1));
        sB0 = i32x4.add(sB0, i32x4.dot_i16x8_s(wB, u0));
        sB1 = i32x4.add(sB1, i32x4.dot_i16x8_s(wB, u1));
      }
    }
    fA0 = addQuadBlock(type, narrow, fA0, sA0, a, p + fOff);
    fA1 = addQuadBlock(type, narrow, fA1, sA1, a, p + fOff + 4);
    fB0 = addQuadBlock(type, narrow, fB0, sB0, c, p + fOff);
    fB1 = addQuadBlock(type, narrow, fB1, sB1, c, p + fOff + 4);
  }
  storeRows(out, fA0, rows, rA, t + <i32>j);
  if (storeT1) storeRows(out, fA1, rows, rA, t + <i32>j + 1);
  if (storeB) {
    storeRows(out, fB0, rows, rB, t + <i32>j);
    if (storeT1) storeRows(out, fB1, rows, rB, t + <i32>j + 1);
  }
}

/**
 * Prefill rows r0..r0 + 4·quads of a legacy-quant matrix (w: GGUF layout, rowBytes a row) against every
 * token tile of meta (legacyTileMeta): repacks them into scratch (legacyQuadBytes), then runs each quad
 * over each tile.
 */
@inline export function quadsOf(type: i32, out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, r0: i32, quads: i32,
  rowBytes: usize, meta: usize, scratch: usize): void {
  const nb = cols >> 5;
  const narrow = isNarrow(type);
  repackQuads(type, w + <usize>r0 * rowBytes, quads, rowBytes, nb, scratch);
  const qBytes = <usize>nb * quadRecord(narrow), tBytes = <usize>nb * (narrow ? NARROW_TILE_BYTES : WIDE_TILE_BYTES);
  for (let t = 0; t < nTokens; t += 4) {
    const n = min(4, nTokens - t), tile = meta + <usize>(t >> 2) * tBytes;
    for (let q = 0; q < quads; q += 2) {
      const qB = min(q + 1, quads - 1);
      for (let j = 0; j < n; j += 2) {
        quadPair(type, scratch + <usize>q * qBytes, scratch + <usize>qB * qBytes, tile, nb, <usize>j, out, rows,
          r0 + 4 * q, r0 + 4 * qB, t, qB != q, j + 1 < n);
      }
    }
  }
}
