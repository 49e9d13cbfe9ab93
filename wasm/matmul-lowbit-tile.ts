/**
 * Prefill of the Q2_K, Q3_K and IQ4_XS products for a few tokens (relaxed build, narrow rows: fewer than
 * wideQuadMinTokens; more run on the repacked quads of matmul-lowbit-quads.ts, whose per-chunk repack a short
 * batch would not pay back): super-blocks against a tile of four tokens (activation-tiles.ts kquantTiles), the
 * same integers and float steps as the quads and the one-token decode (matmul-lowbit.ts gives the order), its
 * eight 32-element steps written out so that shifts, masks and offsets are constants (as a loop, V8 kept a
 * counter, tests of it and a stack check per step). Each step's weights are unpacked once for the four tokens.
 * The eight running integer sums (four tokens, lanes A and B) live in the thread's scratch (SUMS): with them, a
 * step's weights and its scales V8 would need more than its sixteen vector registers. Each token adds two
 * steps' sums (Q2_K, which needs only the total: both lane sets too) in registers, then loads, adds and stores
 * its running sum once; those stores also keep V8 from loading a super-block's activations ahead of their use
 * (as in matmul-lowbit-decode.ts).
 * Measured (bench/matmul.ts shapes, 128 tokens, one thread, relaxed; alternated with the loop it replaced):
 * Q2_K 53-54 -> 59, Q3_K 35-36 -> 48-50, IQ4_XS 42-43 -> 49 GFLOP/s. One store per step and token instead
 * was slower than the loop for Q2_K and IQ4_XS.
 */

import { f16Lookup } from "./f16-table";
import { fma4 } from "./ggml-math";
import { hsumAllI32, minSum, reduce4I32, storeLanes } from "./simd";
import { iq4Scales, pairs, q3Scales } from "./matmul-lowbit";
import { field2, lookup, storeTables, ABS_TABLE, SIGN_TABLE } from "./matmul-lowbit-decode";
import { KTILE_BSUMS, KTILE_BYTES, KTILE_D, KTILE_GROUP } from "./activation-tiles";

const Q2_K: i32 = 10, Q3_K: i32 = 11, IQ4_XS: i32 = 23;

/** Scratch offsets (after the f32 lane accumulators at 0..127 and the decode's fields, which prefill does not use). */
const SUMS: usize = 160, SCALES: usize = 288;
/** Bytes of scratch a thread needs: these fields, then IQ4_XS's tables (matmul-lowbit-decode.ts). */
export const TILE_SCRATCH_END: i32 = 352;

/** Lane A's (b = false) or B's operand u of step p (constant): the weights as the 8-bit dot's unsigned side. */
@inline function opU(type: i32, wb: usize, p: i32, b: bool, acc: usize): v128 {
  if (type == IQ4_XS) return lookup(v128.load(acc + ABS_TABLE), nibbles(wb, p, b));
  return field2(v128.load(wb + (type == Q2_K ? 16 : 32) + (<usize>(p >> 2) << 5) + (b ? 16 : 0)), p & 3);
}

/** Step p's second operand v: Q3_K's 4 where the high bit is clear, IQ4_XS's signs; Q2_K's u again (unused). */
@inline function opV(type: i32, wb: usize, p: i32, b: bool, acc: usize, u: v128): v128 {
  if (type == IQ4_XS) return lookup(v128.load(acc + SIGN_TABLE), nibbles(wb, p, b));
  if (type == Q2_K) return u;
  const h = v128.load(wb + (b ? 16 : 0)); // bit p of the hmask bytes, moved to bit 2 (as q3Step in matmul-lowbit-decode.ts)
  return v128.andnot(i8x16.splat(4), p == 2 ? h : p < 2 ? i16x8.shl(h, 2 - p) : i16x8.shr_u(h, p - 2));
}

/** IQ4_XS sub-block p's nibbles: low (lanes A) or high (B). */
@inline function nibbles(wb: usize, p: i32, b: bool): v128 {
  const raw = v128.load(wb + 8 + (<usize>p << 4));
  return v128.and(b ? i16x8.shr_u(raw, 4) : raw, i8x16.splat(15));
}

/** Step p's scale for lane set b. */
@inline function opS(type: i32, p: i32, b: bool, acc: usize): v128 {
  return v128.load16_splat(acc + SCALES + <usize>(type == IQ4_XS ? 2 * p : 4 * p + (b ? 2 : 0)));
}

/** Token t's scaled pair sums of one lane set at step p (operands u, v, s), its quants of group 2p (+1 for B). */
@inline function part(type: i32, tile: usize, t: i32, p: i32, b: bool, u: v128, v: v128, s: v128): v128 {
  const z = i32x4.splat(0);
  return i32x4.dot_i16x8_s(pairs(type, true, u, v, z, z, tile + <usize>((2 * p + (b ? 1 : 0)) * KTILE_GROUP + 16 * t)), s);
}

/**
 * Steps p and p + 1 (p even) of lane set b for the four tokens: each token's sums of the two steps are added
 * in registers, then once to its running sum in scratch.
 */
@inline function stepPair(type: i32, wb: usize, tile: usize, p: i32, b: bool, acc: usize): void {
  const u0 = opU(type, wb, p, b, acc), v0 = opV(type, wb, p, b, acc, u0), s0 = opS(type, p, b, acc);
  const u1 = opU(type, wb, p + 1, b, acc), v1 = opV(type, wb, p + 1, b, acc, u1), s1 = opS(type, p + 1, b, acc);
  tokenPair(type, tile, 0, p, b, u0, v0, s0, u1, v1, s1, acc);
  tokenPair(type, tile, 1, p, b, u0, v0, s0, u1, v1, s1, acc);
  tokenPair(type, tile, 2, p, b, u0, v0, s0, u1, v1, s1, acc);
  tokenPair(type, tile, 3, p, b, u0, v0, s0, u1, v1, s1, acc);
}

/** Token t's part of stepPair. */
@inline function tokenPair(type: i32, tile: usize, t: i32, p: i32, b: bool, u0: v128, v0: v128, s0: v128, u1: v128, v1: v128, s1: v128, acc: usize): void {
  const sp = acc + SUMS + <usize>(32 * t + (b ? 16 : 0));
  v128.store(sp, i32x4.add(v128.load(sp), i32x4.add(part(type, tile, t, p, b, u0, v0, s0), part(type, tile, t, p + 1, b, u1, v1, s1))));
}

/** Q2_K: steps p and p + 1, both lane sets, into one running sum per token (Q2_K needs only the total). */
@inline function q2Quad(wb: usize, tile: usize, p: i32, acc: usize): void {
  const a0 = opU(Q2_K, wb, p, false, acc), b0 = opU(Q2_K, wb, p, true, acc), a1 = opU(Q2_K, wb, p + 1, false, acc), b1 = opU(Q2_K, wb, p + 1, true, acc);
  const sa0 = opS(Q2_K, p, false, acc), sb0 = opS(Q2_K, p, true, acc), sa1 = opS(Q2_K, p + 1, false, acc), sb1 = opS(Q2_K, p + 1, true, acc);
  q2Token(tile, 0, p, a0, b0, a1, b1, sa0, sb0, sa1, sb1, acc);
  q2Token(tile, 1, p, a0, b0, a1, b1, sa0, sb0, sa1, sb1, acc);
  q2Token(tile, 2, p, a0, b0, a1, b1, sa0, sb0, sa1, sb1, acc);
  q2Token(tile, 3, p, a0, b0, a1, b1, sa0, sb0, sa1, sb1, acc);
}

/** Token t's part of q2Quad (its lane-A slot holds the total; the B slot stays 0). */
@inline function q2Token(tile: usize, t: i32, p: i32, a0: v128, b0: v128, a1: v128, b1: v128, sa0: v128, sb0: v128, sa1: v128, sb1: v128, acc: usize): void {
  const sp = acc + SUMS + <usize>(32 * t);
  const s0 = i32x4.add(part(Q2_K, tile, t, p, false, a0, a0, sa0), part(Q2_K, tile, t, p, true, b0, b0, sb0));
  const s1 = i32x4.add(part(Q2_K, tile, t, p + 1, false, a1, a1, sa1), part(Q2_K, tile, t, p + 1, true, b1, b1, sb1));
  v128.store(sp, i32x4.add(v128.load(sp), i32x4.add(s0, s1)));
}

/** Steps p..p + 3 (p = 0 or 4) of both lane sets. */
@inline function steps4(type: i32, wb: usize, tile: usize, p: i32, acc: usize): void {
  if (type == Q2_K) {
    q2Quad(wb, tile, p, acc); q2Quad(wb, tile, p + 2, acc);
    return;
  }
  stepPair(type, wb, tile, p, false, acc); stepPair(type, wb, tile, p, true, acc);
  stepPair(type, wb, tile, p + 2, false, acc); stepPair(type, wb, tile, p + 2, true, acc);
}

/** Zeroes the eight running sums. */
@inline function clearSums(acc: usize): void {
  const z = i32x4.splat(0);
  for (let i: usize = 0; i < 128; i += 16) v128.store(acc + SUMS + i, z);
}

/** Token t's A + B sums (Q2_K needs the total). */
@inline function total(acc: usize, t: i32): v128 {
  return i32x4.add(v128.load(acc + SUMS + <usize>(32 * t)), v128.load(acc + SUMS + <usize>(32 * t + 16)));
}

/** Q2_K's accumulate of the sums so far (part as q2Accumulate's: 0 the first half, 2 the second, 1 all). */
@inline function q2Sums(wb: usize, tile: usize, part: i32, acc: usize): void {
  const bs = tile + KTILE_BSUMS;
  q2Accumulate(wb, total(acc, 0), total(acc, 1), total(acc, 2), total(acc, 3), bs, bs + 32, bs + 64, bs + 96, part, v128.load(tile + KTILE_D), acc);
}

/**
 * One super-block (weights at wb) for the tile record at tile: adds into the f32 accumulators at acc as
 * superBlock(type, 4, true, ...) does; halves: a full tile (Q2_K adds per half, as llama.cpp's gemm).
 */
@inline function tileSuper(type: i32, wb: usize, tile: usize, acc: usize, halves: bool): void {
  if (type == Q2_K) {
    const s4 = v128.and(v128.load(wb), i8x16.splat(15));
    v128.store(acc + SCALES, i16x8.extend_low_i8x16_u(s4));
    v128.store(acc + SCALES, i16x8.extend_high_i8x16_u(s4), 16);
  } else if (type == Q3_K) {
    v128.store(acc + SCALES, q3Scales(wb + 96, false));
    v128.store(acc + SCALES, q3Scales(wb + 96, true), 16);
  } else {
    v128.store(acc + SCALES, iq4Scales(wb));
  }
  clearSums(acc);
  steps4(type, wb, tile, 0, acc);
  if (type == Q2_K && halves) {
    q2Sums(wb, tile, 0, acc);
    clearSums(acc);
  }
  steps4(type, wb, tile, 4, acc);
  if (type == Q2_K) {
    q2Sums(wb, tile, halves ? 2 : 1, acc);
    return;
  }
  const dxv = v128.load(tile + KTILE_D);
  const dv = f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb + (type == Q3_K ? 108 : 0)))), dxv);
  const s = acc + SUMS;
  laneFma(acc, v128.load(s), v128.load(s, 16), i32x4.shuffle(dv, dv, 0, 0, 0, 0));
  laneFma(acc + 32, v128.load(s, 32), v128.load(s, 48), i32x4.shuffle(dv, dv, 1, 1, 1, 1));
  laneFma(acc + 64, v128.load(s, 64), v128.load(s, 80), i32x4.shuffle(dv, dv, 2, 2, 2, 2));
  laneFma(acc + 96, v128.load(s, 96), v128.load(s, 112), i32x4.shuffle(dv, dv, 3, 3, 3, 3));
}

/**
 * Q2_K: acc = fma(S, d_w·d_x, acc) and accm = fma(M, dmin_w·d_x, accm) per token lane, S from the sums a0..a3
 * and M = Σ m·bsum over the groups `part` names: 0 the first 128 elements, 2 the last 128, 1 all 256.
 */
@inline function q2Accumulate(wb: usize, a0: v128, a1: v128, a2: v128, a3: v128, bs0: usize, bs1: usize, bs2: usize, bs3: usize,
  part: i32, dxv: v128, acc: usize): void {
  const mins = i16x8.shr_u(v128.and(v128.load(wb), i8x16.splat(-16)), 4); // the high nibbles (mins), still bytes
  const mLo = part == 2 ? i16x8.splat(0) : i16x8.extend_low_i8x16_u(mins), mHi = part == 0 ? i16x8.splat(0) : i16x8.extend_high_i8x16_u(mins);
  const S = reduce4I32(a0, a1, a2, a3);
  const M = reduce4I32(minSum(mLo, mHi, bs0), minSum(mLo, mHi, bs1), minSum(mLo, mHi, bs2), minSum(mLo, mHi, bs3));
  const dd = f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb, 80))), dxv), dm = f32x4.mul(f32x4.splat(f16Lookup(load<u16>(wb, 82))), dxv);
  v128.store(acc, fma4(f32x4.convert_i32x4_s(S), dd, v128.load(acc)));
  v128.store(acc, fma4(f32x4.convert_i32x4_s(M), dm, v128.load(acc, 16)), 16);
}

/** One token's eight lane accumulators at p: A = fma(a, d, A), B = fma(b, d, B). */
@inline function laneFma(p: usize, a: v128, b: v128, d: v128): void {
  v128.store(p, fma4(f32x4.convert_i32x4_s(a), d, v128.load(p)));
  v128.store(p, fma4(f32x4.convert_i32x4_s(b), d, v128.load(p, 16)), 16);
}

/**
 * The outputs of four tokens from the accumulators at acc, as token lanes: Q2_K acc − accm; else llama.cpp's
 * hsum_float_8 of each token's lanes: R = B + A, then (R0 + R2) + (R1 + R3).
 */
@inline function finish(type: i32, acc: usize): v128 {
  if (type == Q2_K) return f32x4.sub(v128.load(acc), v128.load(acc, 16));
  const r0 = f32x4.add(v128.load(acc, 16), v128.load(acc)), r1 = f32x4.add(v128.load(acc, 48), v128.load(acc, 32));
  const r2 = f32x4.add(v128.load(acc, 80), v128.load(acc, 64)), r3 = f32x4.add(v128.load(acc, 112), v128.load(acc, 96));
  const u01 = f32x4.add(i32x4.shuffle(r0, r1, 0, 1, 4, 5), i32x4.shuffle(r0, r1, 2, 3, 6, 7)); // [r0₀+r0₂, r0₁+r0₃, r1₀+r1₂, r1₁+r1₃]
  const u23 = f32x4.add(i32x4.shuffle(r2, r3, 0, 1, 4, 5), i32x4.shuffle(r2, r3, 2, 3, 6, 7));
  return f32x4.add(i32x4.shuffle(u01, u23, 0, 2, 4, 6), i32x4.shuffle(u01, u23, 1, 3, 5, 7));
}

@inline function blockBytes(type: i32): usize {
  return type == Q2_K ? 84 : type == Q3_K ? 110 : 136;
}

/**
 * Outputs rowStart..rowEnd of type's product for nTokens tokens (the tiles of kquantTiles), a row at a time for
 * each tile, rows in chunks of sixteen so a chunk stays in cache across the tiles; acc: TILE_SCRATCH_END bytes.
 */
@inline export function tileRows(type: i32, out: usize, w: usize, rows: i32, cols: i32, nTokens: i32, rowStart: i32, rowEnd: i32, tiles: usize, acc: usize): void {
  const nb = cols >> 8, rowBytes = <usize>nb * blockBytes(type), tileStride = <usize>nb * KTILE_BYTES;
  if (type == IQ4_XS) storeTables(acc);
  for (let r0 = rowStart; r0 < rowEnd; r0 += 16) {
    const r1 = min(r0 + 16, rowEnd);
    for (let t = 0; t < nTokens; t += 4) { // a last tile of fewer tokens repeats its last token in the spare lanes
      const n = min(4, nTokens - t), tile = tiles + <usize>(t >> 2) * tileStride;
      for (let r = r0; r < r1; r++) {
        memory.fill(acc, 0, 128);
        let wb = w + <usize>r * rowBytes, p = tile;
        for (let b = 0; b < nb; b++, wb += blockBytes(type), p += KTILE_BYTES) tileSuper(type, wb, p, acc, n == 4);
        storeLanes(out, finish(type, acc), rows, r, t, n);
      }
    }
  }
}
