/**
 * Prefill of the legacy 32-element types on weight rows repacked four at a time ("quads"), so that a SIMD lane
 * is a weight row: one activation load (four bytes of one token, splat to every lane) feeds four rows, and a
 * block's integer sums come out with one lane per row, no horizontal reduction. The repacking runs per chunk
 * of rows into the thread's scratch, from the GGUF layout or from Q4_0's and Q8_0's x4 layout (matmul-legacy-x4.ts), and
 * is paid once per chunk, then every token tile passes over it.
 * Quads go in pairs (A, B; a last odd quad is paired with itself), one record per block: d_w of A's four rows
 * and of B's as f32 (decoded ahead), m_w likewise (Q4_1/Q5_1), then the quants in groups of 32 bytes, A's 16
 * then B's, so that one pointer with constant offsets reaches both:
 * - narrow types (relaxed build: Q4_0, Q4_1, Q5_0, Q5_1): eight groups, group k holding elements 4k..4k+3 of
 *   the four rows as unsigned bytes, for i16x8.relaxed_dot_i8x16_i7x16_s against a token's four i8
 *   activation quants; the i16 pair sums add up in i16 (Q5: per half block) and widen pairwise to one i32 a row.
 * - wide types (Q8_0, IQ4_NL; every type in the baseline build): sixteen groups, group k holding elements 2k,
 *   2k+1 of the four rows as i16, for i32x4.dot_i16x8_s against a token's two i16 activation quants.
 * The arithmetic is the row kernels' (matmul-legacy.ts tokens4): per row and token the same exact integer sum
 * per block, the same d_w·d_x product, the same f32 (fused, in the relaxed build's narrow path) multiply-adds,
 * block after block in the same order, so the outputs are bitwise those of tokens4.
 */

import { f16ToF32, storeTransposedI32 } from "./simd";
import { isNarrow, NARROW_QUANTS, NARROW_TILE_BYTES, TILE_DX, TILE_OFFSET, TILE_START, TILE_SX, WIDE_QUANTS, WIDE_TILE_BYTES } from "./activation-tiles";
import { blockBytes, half, Q4_1, Q5_1, Q8_0, unpack, unsignedHalf } from "./legacy-blocks";

/** Bytes of a pair's record per block: scales (d_w of A and B, then m_w of A and B: 64), then the quants. */
const SCALES: usize = 64;
@inline function pairRecord(narrow: bool): usize {
  return SCALES + (narrow ? 256 : 512);
}
/** Bytes at the start of the scratch for quadTile's eight f32 running sums (two quads × four tokens). */
const ACC_BYTES: usize = 128;

/** Bytes of scratch quadsOf needs for `quads` quads of `cols` columns of `type` (either layout). */
export function legacyQuadBytes(type: i32, cols: i32, quads: i32): i32 {
  return <i32>ACC_BYTES + ((quads + 1) >> 1) * (cols >> 5) * <i32>pairRecord(isNarrow(type));
}

/**
 * repackQuadBlock for a quad stored in the x4 layout (matmul-legacy-x4.ts): four f16 scales, then groups of
 * four bytes of each row. Q4_0 (narrow build): group k's low nibbles are elements 4k..4k+3 of the four rows
 * (the record's group k), its high nibbles elements 16 + 4k.. (group 4 + k). Q8_0 (wide): group k's quants
 * 4k..4k+3 widened to i16 give the record's groups 2k (elements 4k, 4k+1) and 2k + 1. Scales as the GGUF path.
 */
@inline function repackX4Block(type: i32, src: usize, o: usize, side: usize): void {
  const s = o + (side << 4), q = o + SCALES + (side << 4);
  store<f32>(s, f16ToF32(load<u16>(src))); store<f32>(s, f16ToF32(load<u16>(src, 2)), 4);
  store<f32>(s, f16ToF32(load<u16>(src, 4)), 8); store<f32>(s, f16ToF32(load<u16>(src, 6)), 12);
  if (type == Q8_0) {
    for (let k: usize = 0; k < 8; k++) {
      const g = v128.load(src + 8 + (k << 4));
      const lo = i16x8.extend_low_i8x16_s(g), hi = i16x8.extend_high_i8x16_s(g); // rows 0, 1 | rows 2, 3
      v128.store(q + (k << 6), i32x4.shuffle(lo, hi, 0, 2, 4, 6));
      v128.store(q + (k << 6), i32x4.shuffle(lo, hi, 1, 3, 5, 7), 32);
    }
    return;
  }
  const m = i8x16.splat(15);
  for (let k: usize = 0; k < 4; k++) {
    const g = v128.load(src + 8 + (k << 4));
    v128.store(q + (k << 5), v128.and(g, m));
    v128.store(q + ((k + 4) << 5), v128.and(i16x8.shr_u(g, 4), m));
  }
}

/** Block b's part of one quad (rows at w0, w0 + rowBytes, ..; side 0: A, 1: B) in the pair record at o. */
@inline function repackQuadBlock(type: i32, w0: usize, rowBytes: usize, off: usize, o: usize, side: usize, x4: bool): void {
  const narrow = isNarrow(type), withMin = type == Q4_1 || type == Q5_1;
  if (x4) { // already four rows a block (Q4_0, Q8_0: matmul-legacy-x4.ts): the same record from the quad block at w0 + 4·off
    repackX4Block(type, w0 + 4 * off, o, side);
    return;
  }
  const b0 = w0 + off, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
  const s = o + (side << 4);
  store<f32>(s, f16ToF32(load<u16>(b0))); store<f32>(s, f16ToF32(load<u16>(b1)), 4);
  store<f32>(s, f16ToF32(load<u16>(b2)), 8); store<f32>(s, f16ToF32(load<u16>(b3)), 12);
  if (withMin) {
    store<f32>(s, f16ToF32(load<u16>(b0, 2)), 32); store<f32>(s, f16ToF32(load<u16>(b1, 2)), 36);
    store<f32>(s, f16ToF32(load<u16>(b2, 2)), 40); store<f32>(s, f16ToF32(load<u16>(b3, 2)), 44);
  }
  const q = o + SCALES + (side << 4);
  if (narrow) {
    for (let u = 0; u < 2; u++) {
      storeTransposedI32(unsignedHalf(type, b0, u == 1), unsignedHalf(type, b1, u == 1), unsignedHalf(type, b2, u == 1),
        unsignedHalf(type, b3, u == 1), q + (<usize>u << 7), 32);
    }
  } else {
    const h00 = half(type, b0, 0), h01 = half(type, b0, 1), h10 = half(type, b1, 0), h11 = half(type, b1, 1);
    const h20 = half(type, b2, 0), h21 = half(type, b2, 1), h30 = half(type, b3, 0), h31 = half(type, b3, 1);
    for (let m = 0; m < 4; m++) {
      storeTransposedI32(unpack(type, b0, m, h00, h01), unpack(type, b1, m, h10, h11), unpack(type, b2, m, h20, h21),
        unpack(type, b3, m, h30, h31), q + (<usize>m << 7), 32);
    }
  }
}

/**
 * Repacks `quads` quads of weight rows from w (GGUF layout, rowBytes a row) into out: pair p's record for
 * block b at out + (p·nb + b)·pairRecord (a last odd quad fills both sides of its pair).
 */
@inline function repackQuads(type: i32, w: usize, quads: i32, rowBytes: usize, nb: i32, out: usize, x4: bool): void {
  const bb = blockBytes(type), rec = pairRecord(isNarrow(type));
  for (let q = 0; q < quads; q += 2) {
    const wA = w + <usize>(4 * q) * rowBytes, wB = w + <usize>(4 * min(q + 1, quads - 1)) * rowBytes;
    for (let b = 0; b < nb; b++) {
      const o = out + (<usize>(q >> 1) * <usize>nb + <usize>b) * rec, off = <usize>b * bb;
      repackQuadBlock(type, wA, rowBytes, off, o, 0, x4);
      repackQuadBlock(type, wB, rowBytes, off, o, 1, x4);
    }
  }
}

/** i16 lanes 2r, 2r+1 of v added into i32 lane r. */
@inline function widen(v: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(v);
}

/**
 * One token's f32 step for both quads: the running sums at acc (A) and acc + 16 (B) plus S·(d_w·d_x)
 * (+ m_w·s_x), with the quads' d_w in dA, dB and m_w in mA, mB (loaded once per block), the token's fields at
 * f (tile: d_x, s_x, and for Q5_1 the offset sum its i16 sums took off, added back to S first). Fused in the
 * narrow path, as tokens4. The sums go back to memory: the stores keep V8 from loading the next token's
 * operands before this token's are used.
 */
@inline function scaleToken(type: i32, narrow: bool, acc: usize, sA: v128, sB: v128, dA: v128, dB: v128, mA: v128, mB: v128,
  f: usize): void {
  const withMin = type == Q4_1 || type == Q5_1;
  if (narrow && type == Q5_1) { // the offset its i16 sums took off, added back (quadOffset)
    const off = v128.load32_splat(f, TILE_OFFSET);
    sA = i32x4.add(sA, off);
    sB = i32x4.add(sB, off);
  }
  const dx = v128.load32_splat(f, TILE_DX);
  const xA = f32x4.mul(dA, dx), xB = f32x4.mul(dB, dx);
  let a = v128.load(acc), b = v128.load(acc, 16);
  if (ASC_FEATURE_RELAXED_SIMD && narrow) {
    a = f32x4.relaxed_madd(f32x4.convert_i32x4_s(sA), xA, a);
    b = f32x4.relaxed_madd(f32x4.convert_i32x4_s(sB), xB, b);
    if (withMin) {
      const sx = v128.load32_splat(f, TILE_SX);
      a = f32x4.relaxed_madd(mA, sx, a);
      b = f32x4.relaxed_madd(mB, sx, b);
    }
  } else {
    a = f32x4.add(a, f32x4.mul(f32x4.convert_i32x4_s(sA), xA));
    b = f32x4.add(b, f32x4.mul(f32x4.convert_i32x4_s(sB), xB));
    if (withMin) {
      const sx = v128.load32_splat(f, TILE_SX);
      a = f32x4.add(a, f32x4.mul(mA, sx));
      b = f32x4.add(b, f32x4.mul(mB, sx));
    }
  }
  v128.store(acc, a);
  v128.store(acc, b, 16);
}

/** Stores the four rows' outputs at acc of token t at out[t·rows + r ..]. */
@inline function storeRows(out: usize, acc: usize, rows: i32, r: i32, t: i32): void {
  v128.store(out + ((<usize>t * <usize>rows + <usize>r) << 2), v128.load(acc));
}

/**
 * A pair of quads (records from pr; rows rA.., rB..) against the four tokens of one tile (tokens t.. of the
 * product): each weight load feeds four tokens and each activation broadcast two quads, eight running integer
 * sums (lanes: rows) in registers. The inner loop runs over the groups of a block so that V8, which loads
 * every operand of a basic block first, keeps only six operands live; the f32 sums live in scratch at acc.
 * storeB: whether quad B is real (a last odd quad is computed twice and not stored); n: the tile's real
 * tokens (a partial tile repeats its last token in the spare lanes).
 */
@inline function quadTile(type: i32, pr: usize, tile: usize, nb: i32, acc: usize, out: usize, rows: i32,
  rA: i32, rB: i32, t: i32, storeB: bool, n: i32): void {
  const narrow = isNarrow(type);
  const rec = pairRecord(narrow), tb = narrow ? NARROW_TILE_BYTES : WIDE_TILE_BYTES;
  const fOff: usize = narrow ? NARROW_QUANTS : WIDE_QUANTS; // the four tokens' d_x in a tile block
  const z = i32x4.splat(0);
  for (let i: usize = 0; i < ACC_BYTES; i += 16) v128.store(acc + i, z);
  let o = pr, p = tile;
  for (let b = 0; b < nb; b++, o += rec, p += tb) {
    let sA0 = z, sA1 = z, sA2 = z, sA3 = z, sB0 = z, sB1 = z, sB2 = z, sB3 = z;
    if (narrow) {
      if (ASC_FEATURE_RELAXED_SIMD) {
        // the i16 sums start at −offset·Σx (quadStart), so that each lane ends at Σ (q − offset)·x over its 16
        // elements, within i16 for every narrow type (quadOffset): one i16 sum per block
        const st = p + NARROW_QUANTS + TILE_START;
        let hA0 = v128.load32_splat(st), hA1 = v128.load32_splat(st, 4), hA2 = v128.load32_splat(st, 8), hA3 = v128.load32_splat(st, 12);
        let hB0 = hA0, hB1 = hA1, hB2 = hA2, hB3 = hA3;
        let w = o + SCALES, x = p;
        for (const end = p + 32; x < end; w += 32, x += 4) {
          const wA = v128.load(w), wB = v128.load(w, 16);
          const u0 = v128.load32_splat(x), u1 = v128.load32_splat(x, 32), u2 = v128.load32_splat(x, 64), u3 = v128.load32_splat(x, 96);
          hA0 = i16x8.add(hA0, i16x8.relaxed_dot_i8x16_i7x16_s(u0, wA)); hB0 = i16x8.add(hB0, i16x8.relaxed_dot_i8x16_i7x16_s(u0, wB));
          hA1 = i16x8.add(hA1, i16x8.relaxed_dot_i8x16_i7x16_s(u1, wA)); hB1 = i16x8.add(hB1, i16x8.relaxed_dot_i8x16_i7x16_s(u1, wB));
          hA2 = i16x8.add(hA2, i16x8.relaxed_dot_i8x16_i7x16_s(u2, wA)); hB2 = i16x8.add(hB2, i16x8.relaxed_dot_i8x16_i7x16_s(u2, wB));
          hA3 = i16x8.add(hA3, i16x8.relaxed_dot_i8x16_i7x16_s(u3, wA)); hB3 = i16x8.add(hB3, i16x8.relaxed_dot_i8x16_i7x16_s(u3, wB));
        }
        sA0 = widen(hA0); sA1 = widen(hA1); sA2 = widen(hA2); sA3 = widen(hA3);
        sB0 = widen(hB0); sB1 = widen(hB1); sB2 = widen(hB2); sB3 = widen(hB3);
      }
    } else {
      let w = o + SCALES, x = p;
      for (const end = p + 64; x < end; w += 32, x += 4) {
        const wA = v128.load(w), wB = v128.load(w, 16);
        const u0 = v128.load32_splat(x), u1 = v128.load32_splat(x, 64), u2 = v128.load32_splat(x, 128), u3 = v128.load32_splat(x, 192);
        sA0 = i32x4.add(sA0, i32x4.dot_i16x8_s(wA, u0)); sB0 = i32x4.add(sB0, i32x4.dot_i16x8_s(wB, u0));
        sA1 = i32x4.add(sA1, i32x4.dot_i16x8_s(wA, u1)); sB1 = i32x4.add(sB1, i32x4.dot_i16x8_s(wB, u1));
        sA2 = i32x4.add(sA2, i32x4.dot_i16x8_s(wA, u2)); sB2 = i32x4.add(sB2, i32x4.dot_i16x8_s(wB, u2));
        sA3 = i32x4.add(sA3, i32x4.dot_i16x8_s(wA, u3)); sB3 = i32x4.add(sB3, i32x4.dot_i16x8_s(wB, u3));
      }
    }
    const f = p + fOff, withMin = type == Q4_1 || type == Q5_1;
    const dA = v128.load(o), dB = v128.load(o, 16), mA = withMin ? v128.load(o, 32) : dA, mB = withMin ? v128.load(o, 48) : dB;
    scaleToken(type, narrow, acc, sA0, sB0, dA, dB, mA, mB, f);
    scaleToken(type, narrow, acc + 32, sA1, sB1, dA, dB, mA, mB, f + 4);
    scaleToken(type, narrow, acc + 64, sA2, sB2, dA, dB, mA, mB, f + 8);
    scaleToken(type, narrow, acc + 96, sA3, sB3, dA, dB, mA, mB, f + 12);
  }
  for (let j = 0; j < n; j++) {
    storeRows(out, acc + (<usize>j << 5), rows, rA, t + j);
    if (storeB) storeRows(out, acc + (<usize>j << 5) + 16, rows, rB, t + j);
  }
}

/**
 * Prefill rows r0..r0 + 4·quads of a legacy-quant matrix (w: GGUF layout, rowBytes a row; or, x4, Q4_0/Q8_0 in the
 * x4 layout of matmul-legacy-x4.ts, where quad q also starts at w + 4q·rowBytes) against every token tile of
 * meta (legacyTileMeta): repacks them into scratch (legacyQuadBytes), then runs each pair of quads over each tile.
 */
@inline export function quadsOf(type: i32, out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, r0: i32, quads: i32,
  rowBytes: usize, meta: usize, scratch: usize, x4: bool): void {
  const nb = cols >> 5;
  const narrow = isNarrow(type);
  const recs = scratch + ACC_BYTES;
  repackQuads(type, w + <usize>r0 * rowBytes, quads, rowBytes, nb, recs, x4);
  const pBytes = <usize>nb * pairRecord(narrow), tBytes = <usize>nb * (narrow ? NARROW_TILE_BYTES : WIDE_TILE_BYTES);
  for (let t = 0; t < nTokens; t += 4) {
    const n = min(4, nTokens - t), tile = meta + <usize>(t >> 2) * tBytes;
    for (let q = 0; q < quads; q += 2) {
      const qB = min(q + 1, quads - 1);
      quadTile(type, recs + <usize>(q >> 1) * pBytes, tile, nb, scratch, out, rows, r0 + 4 * q, r0 + 4 * qB, t, qB != q, n);
    }
  }
}
