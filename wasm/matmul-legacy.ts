/**
 * Matrix products with ggml's 32-element legacy blocks, computed on the packed blocks: each weight block's
 * integer quants are unpacked in registers to four i16x8 vectors and dotted (i32x4.dot_i16x8_s) with the
 * activation block's quants (q8_0 rows for Q4_0/Q5_0/Q8_0, q8_1 rows for Q4_1/Q5_1, widened to i16: see
 * activation-rounding.ts). Each block's integer sum is exact; like llama.cpp, it is scaled by the f32 product
 * d_w·d_x and the blocks are summed in f32, blocks with a minimum adding m_w·s_x.
 * Prefill (several tokens): rows are walked in chunks of 16 so a chunk's weights stay in cache while every
 * token tile (four tokens) passes over it. Each chunk is first repacked four rows at a time into the
 * thread's scratch (matmul-legacy-quads.ts: lanes are rows, scales decoded ahead, quants unpacked), which
 * runs 1.2-1.8x faster (relaxed build; 1.7-2.2x baseline) than the one-row tiles below; those (four tokens, one f32
 * lane each, sharing each unpacked weight block) now run only the last rows of a matrix, fewer than four.
 * Both give the same bits.
 * Decode (one token) streams one weight row at a time: interleaving several rows was faster from cache but
 * about half as fast from memory (several concurrent streams 0.4-3 KB apart defeat the prefetcher here).
 * Q4_0 (relaxed build) and Q8_0 matrices with rows a multiple of 4 are repacked at load so that four rows ARE
 * one stream (matmul-legacy-x4.ts: decode ~20-40% faster from memory, one thread); the kernels here then see
 * only the other weights (and every weight when the backend's repackWeights is false).
 * Entry points cover weight rows rowStart..rowEnd so threads can split them. No dequantized copies.
 * Relaxed-SIMD build: Q4_0/Q4_1/Q5_0/Q5_1 keep their quants unsigned (0..15, 0..31) as sixteen bytes per half
 * block and take the 8-bit dot (i16x8.relaxed_dot_i8x16_i7x16_s, the second operand in 0..127) with narrow i8
 * activation rows; the offset of Q4_0/Q5_0 (8, 16) comes off the exact integer sum as offset·Σx. Same integers,
 * same scaling, f32 sums with fused multiply-adds. Q8_0's quants are signed, so it keeps the i16 path, and so
 * does IQ4_NL (ggml id 20), whose nibbles select signed levels (one swizzle of its 16-entry table) against q8_0
 * activations, as ggml's vec_dot_iq4_nl_q8_0 takes them.
 */

import { f16ToF32, f16Lo, hsumF32, hsumI32, storeLanes } from "./simd";
import { q8RowBytes } from "./activation-rounding";
import { isNarrow, NARROW_QUANTS, NARROW_TILE_BYTES, offsetShift, WIDE_QUANTS, WIDE_TILE_BYTES } from "./activation-tiles";
import { legacyQuadBytes, quadsOf } from "./matmul-legacy-quads";
import { blockBytes, half, IQ4_NL, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, unpack, unsignedHalf } from "./legacy-blocks";

/** Weight rows per chunk in prefill: each chunk is multiplied by every token tile before the next. */
const ROW_CHUNK: i32 = 16;

/** Σ w·x of the block at wb with the activation quants at xb, as four i32 partial sums. */
@inline function blockDot(type: i32, wb: usize, xb: usize): v128 {
  const h0 = half(type, wb, 0), h1 = half(type, wb, 1);
  return dot32(unpack(type, wb, 0, h0, h1), unpack(type, wb, 1, h0, h1), unpack(type, wb, 2, h0, h1), unpack(type, wb, 3, h0, h1), xb);
}

/** Σ w·x of one block (weights unpacked in w0..w3, activation quants at xb) as four i32 partial sums. */
@inline function dot32(w0: v128, w1: v128, w2: v128, w3: v128, xb: usize): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(xb)), i32x4.dot_i16x8_s(w1, v128.load(xb, 16))),
    i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(xb, 32)), i32x4.dot_i16x8_s(w3, v128.load(xb, 48))));
}

/** [Σs0, Σs1, Σs2, Σs3]: four horizontal sums at once (a 4×4 transpose-add). */
@inline function reduce4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const a = i32x4.add(i32x4.shuffle(s0, s1, 0, 1, 4, 5), i32x4.shuffle(s0, s1, 2, 3, 6, 7));
  const b = i32x4.add(i32x4.shuffle(s2, s3, 0, 1, 4, 5), i32x4.shuffle(s2, s3, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
}

/** The f16 values at four addresses, as f32x4. */
@inline function f16At4(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  let h = v128.load16_splat(p0); // i16 lanes 0..3 (one load-and-insert each), then the low four widened
  h = v128.load16_lane(p1, h, 1);
  h = v128.load16_lane(p2, h, 2);
  h = v128.load16_lane(p3, h, 3);
  return f16Lo(h);
}

/** Four outputs as lanes, one per (row, token) pair: acc + S·d + m·s, block by block (S exact, d = d_w·d_x). */
@inline function addBlock(acc: v128, S: v128, d: v128, withMin: bool, m: v128, s: v128): v128 {
  const a = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(S), d));
  return withMin ? f32x4.add(a, f32x4.mul(m, s)) : a;
}

/**
 * Prefill: weight row w against the four tokens of one activation tile (lanes; activation-tiles.ts), the
 * row's weight scales as f32 from dw (convertRowScales). Each unpacked weight block serves the four tokens:
 * narrowBlock for a tile of narrow i8 quants (relaxed build), wideBlock for i16 quants. Returns the four outputs.
 */
@inline function tokens4(type: i32, narrow: bool, w: usize, tile: usize, cols: i32, dw: usize): v128 {
  const bb = blockBytes(type);
  const withMin = type == Q4_1 || type == Q5_1;
  const nb = cols >> 5;
  const mw = dw + (<usize>nb << 2);
  let acc = f32x4.splat(0);
  let wb = w, p = tile;
  for (let b = 0; b < nb; b++, wb += bb, p += narrow ? NARROW_TILE_BYTES : WIDE_TILE_BYTES) {
    const dwb = v128.load32_splat(dw + (<usize>b << 2)), mwb = withMin ? v128.load32_splat(mw + (<usize>b << 2)) : dwb;
    acc = narrow ? narrowBlock(type, acc, wb, p, dwb, mwb) : wideBlock(type, acc, wb, p, dwb, mwb);
  }
  return acc;
}

/** One block of tokens4 against i16 tile quants: acc + S·d (+ m·s), unfused (also the relaxed build's Q8_0). */
@inline function wideBlock(type: i32, acc: v128, wb: usize, p: usize, dw: v128, mw: v128): v128 {
  const withMin = type == Q4_1 || type == Q5_1;
  const h0 = half(type, wb, 0), h1 = half(type, wb, 1);
  const w0 = unpack(type, wb, 0, h0, h1), w1 = unpack(type, wb, 1, h0, h1), w2 = unpack(type, wb, 2, h0, h1), w3 = unpack(type, wb, 3, h0, h1);
  const S = reduce4(dot32(w0, w1, w2, w3, p), dot32(w0, w1, w2, w3, p + 64), dot32(w0, w1, w2, w3, p + 128), dot32(w0, w1, w2, w3, p + 192));
  const d = f32x4.mul(dw, v128.load(p, WIDE_QUANTS));
  return addBlock(acc, S, d, withMin, withMin ? mw : d, withMin ? v128.load(p, WIDE_QUANTS + 16) : d);
}

/**
 * Narrow path: Σ q·x of one block (unsigned quants lo/hi, i8 activation quants at xb) as eight i16 lanes of
 * four products each. Each 8-bit dot gives pair sums ≤ 2·31·128 in i16, so the two halves add without overflow.
 */
@inline function narrowPairs(lo: v128, hi: v128, xb: usize): v128 {
  return i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xb), lo), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xb, 16), hi));
}

/**
 * [Σv0, Σv1, Σv2, Σv3] of four narrowPairs results, as i32. The first halving stays in i16 (lanes ≤ 4·31·128,
 * two of them fit); for Q4_0/Q4_1 (quants ≤ 15) so does the second, and one widening pairwise add finishes.
 * Fewer multiply-port instructions than widening each vector first, and the same exact integers.
 */
@inline function reduceNarrow4(type: i32, v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  const p = i16x8.add(i32x4.shuffle(v0, v1, 0, 1, 4, 5), i32x4.shuffle(v0, v1, 2, 3, 6, 7));
  const q = i16x8.add(i32x4.shuffle(v2, v3, 0, 1, 4, 5), i32x4.shuffle(v2, v3, 2, 3, 6, 7));
  if (type == Q4_0 || type == Q4_1) {
    return i32x4.extadd_pairwise_i16x8_s(i16x8.add(i32x4.shuffle(p, q, 0, 2, 4, 6), i32x4.shuffle(p, q, 1, 3, 5, 7)));
  }
  const p32 = i32x4.extadd_pairwise_i16x8_s(p), q32 = i32x4.extadd_pairwise_i16x8_s(q);
  return i32x4.add(i32x4.shuffle(p32, q32, 0, 2, 4, 6), i32x4.shuffle(p32, q32, 1, 3, 5, 7));
}

/** acc + S·d (+ m·s), with fused multiply-adds (relaxed build only). */
@inline function addBlockFused(acc: v128, S: v128, d: v128, withMin: bool, m: v128, s: v128): v128 {
  const a = f32x4.relaxed_madd(f32x4.convert_i32x4_s(S), d, acc);
  return withMin ? f32x4.relaxed_madd(m, s, a) : a;
}

/**
 * One block of tokens4 against narrow tile quants (i8; their scales and offset sums after them): the 8-bit
 * dot and fused multiply-adds. Relaxed build only: the baseline build has no narrow rows (narrowActivations).
 */
@inline function narrowBlock(type: i32, acc: v128, wb: usize, p: usize, dw: v128, mw: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const withMin = type == Q4_1 || type == Q5_1;
    const lo = unsignedHalf(type, wb, false), hi = unsignedHalf(type, wb, true);
    let S = reduceNarrow4(type, narrowPairs(lo, hi, p), narrowPairs(lo, hi, p + 32), narrowPairs(lo, hi, p + 64), narrowPairs(lo, hi, p + 96));
    if (offsetShift(type) != 0) S = i32x4.sub(S, v128.load(p, NARROW_QUANTS + 32));
    const d = f32x4.mul(dw, v128.load(p, NARROW_QUANTS));
    return addBlockFused(acc, S, d, withMin, withMin ? mw : d, withMin ? v128.load(p, NARROW_QUANTS + 16) : d);
  }
  return acc;
}

/** The f16 scales d (and, for Q4_1/Q5_1, m) of every block of `n` rows from w, as f32 at out: d[n][nb], then m. */
@inline function convertRowScales(type: i32, w: usize, n: i32, rowBytes: usize, nb: i32, out: usize): void {
  const bb = blockBytes(type);
  const withMin = type == Q4_1 || type == Q5_1;
  for (let r = 0; r < n; r++) {
    const wr = w + <usize>r * rowBytes, o = out + (<usize>r * <usize>nb << 3);
    for (let b = 0; b < nb; b++) {
      const wb = wr + <usize>b * bb;
      store<f32>(o + (<usize>b << 2), f16ToF32(load<u16>(wb)));
      if (withMin) store<f32>(o + (<usize>(nb + b) << 2), f16ToF32(load<u16>(wb, 2)));
    }
  }
}

/** Four f16 fields, `stride` bytes apart from p, as f32x4. */
@inline function f16Fields4(p: usize, stride: usize): v128 {
  return f16At4(p, p + stride, p + 2 * stride, p + 3 * stride);
}

/**
 * Decode: weight row w · one token's activation row xq, streaming the row once (one row at a time reads
 * memory fastest). Lanes hold four consecutive blocks (S·d per block, then the lanes are added and the
 * blocks past a multiple of four), so the summation order differs from tokens4's by f32 rounding only.
 */
@inline function rowDot(type: i32, w: usize, xq: usize, cols: i32, sp: usize): f32 {
  const bb = blockBytes(type);
  const withMin = type == Q4_1 || type == Q5_1;
  const nb = cols >> 5;
  const xd = xq + (<usize>cols << 1), xs = xd + (<usize>nb << 2);
  let acc = f32x4.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const wb = w + <usize>b * bb, xb = xq + (<usize>b << 6);
    // each block's partial sums go through the thread's scratch (sp, 64 bytes): the stores order the blocks, so V8
    // computes a block's products before loading the next block's operands instead of loading all four blocks'
    // 32 vectors first and spilling most of them to the stack
    v128.store(sp, blockDot(type, wb, xb));
    v128.store(sp, blockDot(type, wb + bb, xb + 64), 16);
    v128.store(sp, blockDot(type, wb + 2 * bb, xb + 128), 32);
    v128.store(sp, blockDot(type, wb + 3 * bb, xb + 192), 48);
    const S = reduce4(v128.load(sp), v128.load(sp, 16), v128.load(sp, 32), v128.load(sp, 48));
    const d = f32x4.mul(f16Fields4(wb, bb), v128.load(xd + (<usize>b << 2)));
    acc = addBlock(acc, S, d, withMin, withMin ? f16Fields4(wb + 2, bb) : d, withMin ? v128.load(xs + (<usize>b << 2)) : d);
  }
  let v = hsumF32(acc);
  for (; b < nb; b++) {
    const wb = w + <usize>b * bb;
    v += <f32>hsumI32(blockDot(type, wb, xq + (<usize>b << 6))) * (f16ToF32(load<u16>(wb)) * load<f32>(xd + (<usize>b << 2)));
    if (withMin) v += f16ToF32(load<u16>(wb, 2)) * load<f32>(xs + (<usize>b << 2));
  }
  return v;
}

/** Narrow decode: as rowDot, for a narrow activation row. */
@inline function rowDotNarrow(type: i32, w: usize, xq: usize, cols: i32): f32 {
  const bb = blockBytes(type);
  const withMin = type == Q4_1 || type == Q5_1;
  const sh = offsetShift(type);
  const nb = cols >> 5;
  const xd = xq + <usize>cols, xs = xd + (<usize>nb << 2), xsq = xs + (withMin ? <usize>nb << 2 : 0);
  let acc = f32x4.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const wb = w + <usize>b * bb, xb = xq + (<usize>b << 5);
    let S = reduceNarrow4(type,
      narrowPairs(unsignedHalf(type, wb, false), unsignedHalf(type, wb, true), xb),
      narrowPairs(unsignedHalf(type, wb + bb, false), unsignedHalf(type, wb + bb, true), xb + 32),
      narrowPairs(unsignedHalf(type, wb + 2 * bb, false), unsignedHalf(type, wb + 2 * bb, true), xb + 64),
      narrowPairs(unsignedHalf(type, wb + 3 * bb, false), unsignedHalf(type, wb + 3 * bb, true), xb + 96));
    if (sh != 0) S = i32x4.sub(S, i32x4.shl(v128.load(xsq + (<usize>b << 2)), sh));
    const d = f32x4.mul(f16Fields4(wb, bb), v128.load(xd + (<usize>b << 2)));
    acc = addBlockFused(acc, S, d, withMin, withMin ? f16Fields4(wb + 2, bb) : d, withMin ? v128.load(xs + (<usize>b << 2)) : d);
  }
  let v = hsumF32(acc);
  for (; b < nb; b++) {
    const wb = w + <usize>b * bb;
    const S = hsumI32(i32x4.extadd_pairwise_i16x8_s(narrowPairs(unsignedHalf(type, wb, false), unsignedHalf(type, wb, true), xq + (<usize>b << 5)))) - (sh != 0 ? load<i32>(xsq + (<usize>b << 2)) << sh : 0);
    v += <f32>S * (f16ToF32(load<u16>(wb)) * load<f32>(xd + (<usize>b << 2)));
    if (withMin) v += f16ToF32(load<u16>(wb, 2)) * load<f32>(xs + (<usize>b << 2));
  }
  return v;
}

@inline function rowsOf(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32,
  meta: usize, scratch: usize): void {
  const nb = cols >> 5;
  const narrow = isNarrow(type);
  const rowBytes = <usize>nb * blockBytes(type);
  if (nTokens == 1) {
    for (let r = rowStart; r < rowEnd; r++) {
      const wr = w + <usize>r * rowBytes;
      let v: f32 = 0;
      if (ASC_FEATURE_RELAXED_SIMD) v = narrow ? rowDotNarrow(type, wr, x, cols) : rowDot(type, wr, x, cols, scratch);
      else v = rowDot(type, wr, x, cols, scratch);
      store<f32>(out + (<usize>r << 2), v);
    }
    return;
  }
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd), quads = (r1 - r0) >> 2;
    if (quads > 0) quadsOf(type, out, w, rows, cols, nTokens, r0, quads, rowBytes, meta, scratch, false);
    const rt = r0 + 4 * quads; // the last rows of the matrix, fewer than four, take the one-row tiles
    if (rt == r1) continue;
    convertRowScales(type, w + <usize>rt * rowBytes, r1 - rt, rowBytes, nb, scratch);
    for (let t = 0; t < nTokens; t += 4) {
      const n = min(4, nTokens - t);
      const tile = meta + <usize>(t >> 2) * <usize>nb * (narrow ? NARROW_TILE_BYTES : WIDE_TILE_BYTES);
      for (let r = rt; r < r1; r++) {
        const wr = w + <usize>r * rowBytes, dw = scratch + (<usize>(r - rt) * <usize>nb << 3);
        storeLanes(out, tokens4(type, narrow, wr, tile, cols, dw), rows, r, t, n);
      }
    }
  }
}

/** Bytes of per-thread scratch matmulLegacy needs with several tokens: one chunk of rows repacked (matmul-legacy-quads.ts). */
export function legacyScratchBytes(type: i32, cols: i32): i32 {
  return max(legacyQuadBytes(type, cols, ROW_CHUNK >> 2), cols << 3);
}

/**
 * out (nTokens, rows) = x · wᵀ for weight rows rowStart..rowEnd of a legacy-quant matrix (ggml type id
 * `type`); x is the packed q8_0 (or, for Q4_1/Q5_1, q8_1) activation rows from quantizeQ8. With several
 * tokens, meta is x's legacyTileMeta and scratch holds legacyScratchBytes for this thread (one chunk of rows
 * repacked, or the last rows' weight scales as f32); for one token meta is unused and scratch holds the 64 bytes
 * of rowDot's block sums.
 * One specialised loop per type (the type tests inside are resolved at compile time after inlining).
 */
export function matmulLegacy(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32,
  meta: usize, scratch: usize): void {
  if (type == Q4_0) rowsOf(Q4_0, out, w, x, rows, cols, nTokens, rowStart, rowEnd, meta, scratch);
  else if (type == Q8_0) rowsOf(Q8_0, out, w, x, rows, cols, nTokens, rowStart, rowEnd, meta, scratch);
  else if (type == Q5_0) rowsOf(Q5_0, out, w, x, rows, cols, nTokens, rowStart, rowEnd, meta, scratch);
  else if (type == Q4_1) rowsOf(Q4_1, out, w, x, rows, cols, nTokens, rowStart, rowEnd, meta, scratch);
  else if (type == IQ4_NL) rowsOf(IQ4_NL, out, w, x, rows, cols, nTokens, rowStart, rowEnd, meta, scratch);
  else rowsOf(Q5_1, out, w, x, rows, cols, nTokens, rowStart, rowEnd, meta, scratch);
}
