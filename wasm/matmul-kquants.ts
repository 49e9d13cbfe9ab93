/**
 * Matrix products with ggml's 256-element K-quant super-blocks Q4_K, Q5_K and Q6_K against q8_k activation
 * rows (activation-rounding.ts: quants widened to i16, per-16 sums). Per super-block the weight quants are
 * unpacked to i16 lanes already multiplied by their sub-block's integer scale (|q·sc| ≤ 4096), so one
 * i32x4.dot_i16x8_s per eight elements gives the exact integer Σ sc·q·x of the whole super-block; it is then
 * scaled by d_w·d_x in f32, and types with minimums subtract dmin_w·d_x·Σ m·bsum, the terms llama.cpp's
 * vec_dot functions compute (summed over super-blocks in f32, as llama.cpp does).
 * Prefill: a tile of four tokens (one f32 lane each) shares each unpacked weight vector; rows are walked in
 * chunks so a chunk's weights stay in cache. Each output takes the same operations whatever the tile, so
 * prefill and decode give identical values.
 * Relaxed-SIMD build: the quants stay unsigned bytes (Q4_K 0..15, Q5_K 0..31, Q6_K 0..63) and meet narrow
 * (i8) activation rows in the 8-bit dot (i16x8.relaxed_dot_i8x16_i7x16_s, sixteen elements to eight i16 pair
 * sums), then one i32x4.dot_i16x8_s with the sub-block's scale: per sixteen elements for Q6_K, per 32 for
 * Q4_K/Q5_K (the two halves of a sub-block add in i16 first). Q6_K's offset of 32 comes off as
 * 32·Σ sc·bsum. The same exact integers as the baseline path. Prefill reads the activations from tiles
 * (kquantTiles) in which the four tokens' quants of each group of sixteen sit side by side. Those loops live in
 * matmul-kquants-narrow.ts. Q4_K's prefill instead runs on rows repacked four at a time, with one i16 dot per
 * 32-element sub-block and four rows (matmul-kquant-quads.ts, its own activation tiles: kquadTiles).
 * Q2_K, Q3_K and IQ4_XS go through matmul-lowbit.ts. Block layouts: shared/docs/gguf-and-quants.md §5.4 and
 * src/formats/gguf/dequant/k-quants.ts. Entry points cover weight rows rowStart..rowEnd.
 */

import { f16Lookup } from "./f16-table";
import { hsumAllI32, minSum, reduce4I32, storeLanes } from "./simd";
import { kquantQuadsOf } from "./matmul-kquant-quads";
import { q45DecodeNarrow, q45SuperNarrow, q6DecodeNarrow, q6SuperNarrow } from "./matmul-kquants-narrow";
import { narrowActivations, q8kRowBytes } from "./activation-rounding";
import { KTILE_BSUMS, KTILE_BYTES, KTILE_D, KTILE_GROUP } from "./activation-tiles";

// ggml type ids (the JS side passes DTYPES[dtype].ggmlId)
const Q4_K: i32 = 12, Q5_K: i32 = 13, Q6_K: i32 = 14;
const ROW_CHUNK: i32 = 16;

@inline function blockBytes(type: i32): usize {
  return type == Q4_K ? 144 : type == Q5_K ? 176 : 210;
}

/** isum + the dot of eight i16 weights with the eight activation quants at xp. */
@inline function upd(isum: v128, wv: v128, xp: usize): v128 {
  return i32x4.add(isum, i32x4.dot_i16x8_s(wv, v128.load(xp)));
}

/**
 * The 6-bit scales (bytes 0..7 of the result) and minimums (bytes 8..15) of a Q4_K/Q5_K super-block from its
 * 12 packed bytes at p: sub-blocks 0..3 keep 6 bits in bytes 0..3 (scales) and 4..7 (mins); sub-blocks 4..7
 * take their low 4 bits from the nibbles of bytes 8..11 and their top 2 bits from the top of bytes 0..7.
 */
@inline export function scalesAndMins(p: usize): v128 {
  const v = v128.load(p);
  // reads 16 bytes: the 12 and 4 quant bytes that no lane uses. a: the low fields (lanes 0-3 from bytes 0-3,
  // 4-7 and 12-15 from bytes 8-11, 8-11 from bytes 4-7); b: the top bits of lanes 4-7 (bytes 0-3) and 12-15 (4-7)
  const a = i8x16.shuffle(v, v, 0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11);
  const b = i8x16.shuffle(v, v, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7);
  const low = v128.and(a, i32x4(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0));
  const nib = v128.and(i16x8.shr_u(a, 4), i32x4(0, 0, 0, 0x0f0f0f0f));
  const top = v128.and(i16x8.shr_u(b, 2), i32x4(0, 0x30303030, 0, 0x30303030));
  return v128.or(v128.or(low, nib), top);
}

/** Q6_K: eight quants (low/high nibble `nib`, top bits from hb >> shift) minus 32, times the i8 scale at sc. */
@inline function q6Vec(nib: v128, hb: v128, shift: i32, sc: usize): v128 {
  const top = i16x8.shl(v128.and(i16x8.shr_u(hb, shift), i16x8.splat(3)), 4);
  return i16x8.mul(i16x8.sub(v128.or(nib, top), i16x8.splat(32)), i16x8.splat(<i16>load<i8>(sc)));
}

/** isum + Σ of eight weights wl with the quants at xp and eight wh with those 32 elements further. */
@inline function upd2(isum: v128, wl: v128, wh: v128, xp: usize): v128 {
  return i32x4.add(i32x4.add(isum, i32x4.dot_i16x8_s(wl, v128.load(xp))), i32x4.dot_i16x8_s(wh, v128.load(xp, 64)));
}

/**
 * Q4_K/Q5_K: elements 8m..8m+7 of a 32-element sub-block (high = false: the low nibbles of the 32 bytes at qc,
 * high = true: their high nibbles, the next sub-block), fifth bit from qh >> hsh for Q5_K, times the scale s.
 */
@inline function q45(type: i32, wb: usize, qc: usize, m: i32, hsh: i32, high: bool, s: v128): v128 {
  const q = v128.load8x8_u(qc + <usize>(8 * m));
  let v = high ? i16x8.shr_u(q, 4) : v128.and(q, i16x8.splat(15));
  if (type == Q5_K) {
    const hb = i16x8.shr_u(v128.load8x8_u(wb + 16 + <usize>(8 * m)), hsh + (high ? 1 : 0));
    v = v128.or(v, i16x8.shl(v128.and(hb, i16x8.splat(1)), 4));
  }
  return i16x8.mul(v, s);
}

/**
 * Σ sc·(q − 32)·x of the Q6_K super-block at wb with T = 1 or 4 tokens (q8_k quants at x0..x3 + xo), one
 * exact integer per lane (lanes 1..3 are 0 when T = 1).
 */
@inline function q6Super(T: i32, wb: usize, x0: usize, x1: usize, x2: usize, x3: usize, xo: usize): v128 {
  const m4 = i16x8.splat(15);
  let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
  for (let h = 0; h < 2; h++) { // two halves of 128 elements
    const ql = wb + (<usize>h << 6), qh = wb + 128 + (<usize>h << 5), sc = wb + 192 + (<usize>h << 3);
    for (let m = 0; m < 4; m++) {
      const lo = v128.load8x8_u(ql + (<usize>m << 3)), hi = v128.load8x8_u(ql + 32 + (<usize>m << 3));
      const hb = v128.load8x8_u(qh + (<usize>m << 3));
      const s = sc + <usize>(m >> 1);
      const xp = xo + (<usize>h << 8) + (<usize>m << 4); // element 128h + 8m, then +32 per quadrant
      const e0 = q6Vec(v128.and(lo, m4), hb, 0, s), e1 = q6Vec(v128.and(hi, m4), hb, 2, s + 2);
      i0 = upd(upd(i0, e0, x0 + xp), e1, x0 + xp + 64);
      if (T == 4) {
        i1 = upd(upd(i1, e0, x1 + xp), e1, x1 + xp + 64);
        i2 = upd(upd(i2, e0, x2 + xp), e1, x2 + xp + 64);
        i3 = upd(upd(i3, e0, x3 + xp), e1, x3 + xp + 64);
      }
      const e2 = q6Vec(i16x8.shr_u(lo, 4), hb, 4, s + 4), e3 = q6Vec(i16x8.shr_u(hi, 4), hb, 6, s + 6);
      i0 = upd(upd(i0, e2, x0 + xp + 128), e3, x0 + xp + 192);
      if (T == 4) {
        i1 = upd(upd(i1, e2, x1 + xp + 128), e3, x1 + xp + 192);
        i2 = upd(upd(i2, e2, x2 + xp + 128), e3, x2 + xp + 192);
        i3 = upd(upd(i3, e2, x3 + xp + 128), e3, x3 + xp + 192);
      }
    }
  }
  return reduce4I32(i0, i1, i2, i3);
}

/** As q6Super for a Q4_K/Q5_K super-block: Σ sc·q·x, scales and mins unpacked in sm (scalesAndMins). */
@inline function q45Super(type: i32, T: i32, wb: usize, sm: v128, x0: usize, x1: usize, x2: usize, x3: usize, xo: usize): v128 {
  const qs = wb + (type == Q4_K ? 16 : 48);
  let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
  for (let c = 0; c < 4; c++) { // 64 elements: sub-block 2c from the low nibbles, 2c + 1 from the high
    const sc = <u32>(<u64>i64x2.extract_lane(sm, 0) >> (16 * c));
    const sLo = i16x8.splat(<i16>(sc & 0xff)), sHi = i16x8.splat(<i16>((sc >> 8) & 0xff));
    const qc = qs + (<usize>c << 5), xc = xo + (<usize>c << 7), hsh = 2 * c;
    let wl = q45(type, wb, qc, 0, hsh, false, sLo), wh = q45(type, wb, qc, 0, hsh, true, sHi);
    i0 = upd2(i0, wl, wh, x0 + xc);
    if (T == 4) { i1 = upd2(i1, wl, wh, x1 + xc); i2 = upd2(i2, wl, wh, x2 + xc); i3 = upd2(i3, wl, wh, x3 + xc); }
    wl = q45(type, wb, qc, 1, hsh, false, sLo); wh = q45(type, wb, qc, 1, hsh, true, sHi);
    i0 = upd2(i0, wl, wh, x0 + xc + 16);
    if (T == 4) { i1 = upd2(i1, wl, wh, x1 + xc + 16); i2 = upd2(i2, wl, wh, x2 + xc + 16); i3 = upd2(i3, wl, wh, x3 + xc + 16); }
    wl = q45(type, wb, qc, 2, hsh, false, sLo); wh = q45(type, wb, qc, 2, hsh, true, sHi);
    i0 = upd2(i0, wl, wh, x0 + xc + 32);
    if (T == 4) { i1 = upd2(i1, wl, wh, x1 + xc + 32); i2 = upd2(i2, wl, wh, x2 + xc + 32); i3 = upd2(i3, wl, wh, x3 + xc + 32); }
    wl = q45(type, wb, qc, 3, hsh, false, sLo); wh = q45(type, wb, qc, 3, hsh, true, sHi);
    i0 = upd2(i0, wl, wh, x0 + xc + 48);
    if (T == 4) { i1 = upd2(i1, wl, wh, x1 + xc + 48); i2 = upd2(i2, wl, wh, x2 + xc + 48); i3 = upd2(i3, wl, wh, x3 + xc + 48); }
  }
  return reduce4I32(i0, i1, i2, i3);
}

/** Σ m_j·(Σ of sub-block j's activation quants) per token lane, from the per-16 sums at b0..b3. */
@inline function minSuper(T: i32, sm: v128, b0: usize, b1: usize, b2: usize, b3: usize): v128 {
  // each min twice, as i16, matching the per-16 activation sums
  const mins = i16x8.extend_high_i8x16_u(sm);
  const mA = i16x8.shuffle(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3), mB = i16x8.shuffle(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7);
  if (T == 1) return hsumAllI32(minSum(mA, mB, b0));
  return reduce4I32(minSum(mA, mB, b0), minSum(mA, mB, b1), minSum(mA, mB, b2), minSum(mA, mB, b3));
}

/** The f32 values at four addresses. */
@inline function f32At4(p0: usize, p1: usize, p2: usize, p3: usize): v128 {
  let v = f32x4.splat(load<f32>(p0));
  v = f32x4.replace_lane(v, 1, load<f32>(p1));
  v = f32x4.replace_lane(v, 2, load<f32>(p2));
  return f32x4.replace_lane(v, 3, load<f32>(p3));
}

/** acc + S·d·dx (− M·dmin·dx for Q4_K/Q5_K), one super-block's contribution to each token lane. */
@inline function addSuper(type: i32, acc: v128, S: v128, M: v128, wb: usize, dxv: v128): v128 {
  if (type == Q6_K) return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(S), f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb, 208))), dxv)));
  const a = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(S), f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb))), dxv)));
  return f32x4.sub(a, f32x4.mul(f32x4.convert_i32x4_s(M), f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb, 2))), dxv)));
}

/**
 * Outputs for weight row w and T tokens (T = 1 or 4, a constant after inlining) whose q8_k rows start at x,
 * xRow bytes apart, one per lane: each super-block adds S·d_w·d_x (and subtracts M·dmin_w·d_x).
 * Stores out[(t + j)·rows + r] for the first n lanes.
 */
@inline function kRow(type: i32, T: i32, out: usize, w: usize, x: usize, xRow: usize, cols: i32, rows: i32, r: i32, t: i32, n: i32, narrow: bool, sp: usize): void {
  const nb = cols >> 8;
  const x0 = x, x1 = x + (n > 1 ? xRow : 0), x2 = x + <usize>min(2, n - 1) * xRow, x3 = x + <usize>min(3, n - 1) * xRow;
  const dOff = narrow ? <usize>cols : <usize>cols << 1, bsOff = dOff + (<usize>nb << 2);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const wb = w + <usize>b * blockBytes(type);
    const xo = <usize>b << (narrow ? 8 : 9), dx = dOff + (<usize>b << 2), bo = bsOff + (<usize>b << 5);
    const dxv = T == 4 ? f32At4(x0 + dx, x1 + dx, x2 + dx, x3 + dx) : f32x4.splat(load<f32>(x0 + dx));
    let S = i32x4.splat(0), M = S;
    if (type == Q6_K) {
      // narrow rows reach kRow for one token only (rowsOf: several go through kRowTile)
      if (ASC_FEATURE_RELAXED_SIMD) S = narrow ? q6DecodeNarrow(wb, x0 + xo, x0 + bo, sp) : q6Super(T, wb, x0, x1, x2, x3, xo);
      else S = q6Super(T, wb, x0, x1, x2, x3, xo);
    } else {
      const sm = scalesAndMins(wb + 4);
      // narrow rows reach kRow for one token only (rowsOf: several go through kRowTile)
      if (ASC_FEATURE_RELAXED_SIMD && narrow) S = q45DecodeNarrow(type, wb, sm, x0 + xo, sp);
      else S = q45Super(type, T, wb, sm, x0, x1, x2, x3, xo);
      M = minSuper(T, sm, x0 + bo, x1 + bo, x2 + bo, x3 + bo);
    }
    acc = addSuper(type, acc, S, M, wb, dxv);
  }
  storeLanes(out, acc, rows, r, t, n);
}

/**
 * Prefill with narrow activations: outputs for weight row w and the four tokens of one tile (kquantTiles).
 * The same operations as kRow with T = 4, the activation fields read from the tile at fixed offsets.
 */
@inline function kRowTile(type: i32, out: usize, w: usize, tile: usize, cols: i32, rows: i32, r: i32, t: i32, n: i32, sp: usize): void {
  const nb = cols >> 8;
  let acc = f32x4.splat(0);
  let wb = w, p = tile;
  for (let b = 0; b < nb; b++, wb += blockBytes(type), p += KTILE_BYTES) {
    const dxv = v128.load(p + KTILE_D), bs = p + KTILE_BSUMS;
    let S = i32x4.splat(0), M = S;
    if (type == Q6_K) {
      S = q6SuperNarrow(wb, p, p + 16, p + 32, p + 48, KTILE_GROUP, bs, bs + 32, bs + 64, bs + 96, sp);
    } else {
      const sm = scalesAndMins(wb + 4);
      S = q45SuperNarrow(type, wb, sm, p, p + 16, p + 32, p + 48, sp);
      M = minSuper(4, sm, bs, bs + 32, bs + 64, bs + 96);
    }
    acc = addSuper(type, acc, S, M, wb, dxv);
  }
  storeLanes(out, acc, rows, r, t, n);
}

@inline function rowsOf(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, sp: usize): void {
  const narrow = narrowActivations(type) != 0; // the layout the quantizer wrote for this type
  const xRow = <usize>q8kRowBytes(cols, narrow);
  const rowBytes = <usize>(cols >> 8) * blockBytes(type);
  if (nTokens == 1) {
    for (let r = rowStart; r < rowEnd; r++) kRow(type, 1, out, w + <usize>r * rowBytes, x, xRow, cols, rows, r, 0, 1, narrow, sp);
    return;
  }
  if (ASC_FEATURE_RELAXED_SIMD && narrow && type == Q4_K) { // repacked quads (quad tiles: prepareMatmul)
    kquantQuadsOf(out, w, rows, cols, nTokens, rowStart, rowEnd, tiles, sp);
    return;
  }
  const tileStride = <usize>(cols >> 8) * KTILE_BYTES;
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_CHUNK) {
    const r1 = min(r0 + ROW_CHUNK, rowEnd);
    for (let t = 0; t < nTokens; t += 4) { // a last tile of fewer tokens repeats its last token in the spare lanes
      const n = min(4, nTokens - t);
      for (let r = r0; r < r1; r++) {
        if (ASC_FEATURE_RELAXED_SIMD && narrow) kRowTile(type, out, w + <usize>r * rowBytes, tiles + <usize>(t >> 2) * tileStride, cols, rows, r, t, n, sp);
        else kRow(type, 4, out, w + <usize>r * rowBytes, x + <usize>t * xRow, xRow, cols, rows, r, t, n, narrow, sp);
      }
    }
  }
}

/**
 * out (nTokens, rows) = x · wᵀ for weight rows rowStart..rowEnd of a Q4_K, Q5_K or Q6_K matrix; x is q8_k rows,
 * and with several tokens and narrow rows, tiles is their kquantTiles (else unused); scratch is 48 bytes of this
 * thread's own (prefill tiles' per-token sums; decode's scales and running sum in the relaxed build).
 */
export function matmulKQuant(type: i32, out: usize, w: usize, x: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize,
  scratch: usize): void {
  if (type == Q4_K) rowsOf(Q4_K, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
  else if (type == Q6_K) rowsOf(Q6_K, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
  else rowsOf(Q5_K, out, w, x, rows, cols, nTokens, rowStart, rowEnd, tiles, scratch);
}
