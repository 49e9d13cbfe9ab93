/**
 * ggml's 32-element legacy blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) unpacked in registers: the pieces
 * both the row kernels (matmul-legacy.ts) and the prefill repacking (matmul-legacy-quads.ts) read blocks with,
 * so the two see the same integers. Pure register math on the block at a pointer.
 */

/** ggml type ids select the block format (the JS side passes DTYPES[dtype].ggmlId). */
export const Q4_0: i32 = 2, Q4_1: i32 = 3, Q5_0: i32 = 6, Q5_1: i32 = 7, Q8_0: i32 = 8, IQ4_NL: i32 = 20;

@inline export function blockBytes(type: i32): usize {
  return type == Q4_0 || type == IQ4_NL ? 18 : type == Q4_1 ? 20 : type == Q5_0 ? 22 : type == Q5_1 ? 24 : 34;
}

/** Bits 0..15 (upper: 16..31) of qh spread to sixteen byte lanes: 16 where the bit is set, else 0. */
@inline export function highBits(qh: u32, upper: bool): v128 {
  const sel = upper ? i8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3) : i8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const bits = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  return v128.and(i8x16.eq(v128.and(i8x16.swizzle(i32x4.splat(qh), sel), bits), bits), i8x16.splat(16));
}

/** Q5_0/Q5_1: elements 16·half .. 16·half + 15 of the block at wb as sixteen i8 quants (offset removed). */
@inline export function q5Half(type: i32, wb: usize, half: i32): v128 {
  const q = v128.load(wb + (type == Q5_0 ? 6 : 8));
  const nib = v128.and(half == 0 ? q : i16x8.shr_u(q, 4), i8x16.splat(15));
  const v = v128.or(nib, highBits(load<u32>(wb + (type == Q5_0 ? 2 : 4)), half == 1));
  return type == Q5_0 ? i8x16.sub(v, i8x16.splat(16)) : v;
}

/**
 * IQ4_NL: elements 16·half .. 16·half + 15 of the block at wb as sixteen i8 weights: ggml's kvalues_iq4nl levels
 * the nibbles select (low nibbles first half, high nibbles second), one swizzle for sixteen lookups.
 */
@inline export function iq4Half(wb: usize, half: i32): v128 {
  const q = v128.load(wb + 2);
  const nib = half == 0 ? v128.and(q, i8x16.splat(15)) : i8x16.shr_u(q, 4);
  return i8x16.swizzle(i8x16(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113), nib);
}

/** Whether a type's block is unpacked into two sixteen-element halves first (Q5's high bits, IQ4_NL's levels). */
@inline export function hasHalves(type: i32): bool {
  return type == Q5_0 || type == Q5_1 || type == IQ4_NL;
}

/** The block's two halves as i8 (hasHalves types), computed once per block. */
@inline export function half(type: i32, wb: usize, h: i32): v128 {
  if (!hasHalves(type)) return i32x4.splat(0);
  return type == IQ4_NL ? iq4Half(wb, h) : q5Half(type, wb, h);
}

/**
 * Elements 8k..8k+7 (k = 0..3) of the block at wb as i16x8 integer quants (offset removed). Q5 types and
 * IQ4_NL take them from h0/h1, their two halves from half() (computed once per block by the caller).
 */
@inline export function unpack(type: i32, wb: usize, k: i32, h0: v128, h1: v128): v128 {
  if (type == Q8_0) return v128.load8x8_s(wb + 2 + <usize>(8 * k));
  if (hasHalves(type)) {
    const h = k < 2 ? h0 : h1;
    return (k & 1) == 0 ? i16x8.extend_low_i8x16_s(h) : i16x8.extend_high_i8x16_s(h);
  }
  const q = v128.load8x8_u(wb + (type == Q4_0 ? 2 : 4) + <usize>(8 * (k & 1)));
  const v = k < 2 ? v128.and(q, i16x8.splat(15)) : i16x8.shr_u(q, 4);
  return type == Q4_0 ? i16x8.sub(v, i16x8.splat(8)) : v;
}

@inline export function isQ5(type: i32): bool {
  return type == Q5_0 || type == Q5_1;
}

/** Narrow path: elements 0..15 (upper: 16..31) of the block at wb as sixteen unsigned quants (0..15 or 0..31). */
@inline export function unsignedHalf(type: i32, wb: usize, upper: bool): v128 {
  const q = v128.load(wb + (type == Q4_0 ? 2 : type == Q4_1 ? 4 : type == Q5_0 ? 6 : 8));
  const nib = v128.and(upper ? i16x8.shr_u(q, 4) : q, i8x16.splat(15)); // a 16-bit shift: one mask for both halves
  return isQ5(type) ? v128.or(nib, highBits(load<u32>(wb + (type == Q5_0 ? 2 : 4)), upper)) : nib;
}
