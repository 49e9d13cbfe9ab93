// AssemblyScript: the best instruction sequence WebAssembly offers for each inner product, in a loop that
// keeps eight independent accumulators busy (so latency hides and only the instructions' throughput counts).
// Each step takes one operand from a register and loads the other from a 256-byte buffer (always in L1), as
// a kernel loads its weights: every step is distinct work. (An earlier version multiplied the same two
// registers in all eight steps; V8 computed such a product once per iteration, so the integer "roofs" it
// printed were the rate of the adds alone, 1.6–3× too high.) Each function returns its accumulators summed,
// so the optimiser cannot drop the work. Compiled by bench/roofline.ts; buf is the buffer's offset.

@inline function ld(p: usize, k: usize): v128 {
  return v128.load(p + (k << 4));
}

/** f32 fused multiply-add (relaxed SIMD): 4 MACs an instruction. */
export function f32Fma(buf: usize, iters: i32): f32 {
  const a = v128.load(buf + 128), a2 = v128.load(buf + 144);
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    const p = buf + (<usize>(i & 7) << 4);
    c0 = f32x4.relaxed_madd(a, ld(p, 0), c0); c1 = f32x4.relaxed_madd(a, ld(p, 1), c1); c2 = f32x4.relaxed_madd(a, ld(p, 2), c2); c3 = f32x4.relaxed_madd(a, ld(p, 3), c3);
    c4 = f32x4.relaxed_madd(a2, ld(p, 0), c4); c5 = f32x4.relaxed_madd(a2, ld(p, 1), c5); c6 = f32x4.relaxed_madd(a2, ld(p, 2), c6); c7 = f32x4.relaxed_madd(a2, ld(p, 3), c7);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

/** f32 multiply then add (baseline SIMD): 4 MACs per pair of instructions. */
export function f32MulAdd(buf: usize, iters: i32): f32 {
  const a = v128.load(buf + 128), a2 = v128.load(buf + 144);
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    const p = buf + (<usize>(i & 7) << 4);
    c0 = f32x4.add(c0, f32x4.mul(a, ld(p, 0))); c1 = f32x4.add(c1, f32x4.mul(a, ld(p, 1))); c2 = f32x4.add(c2, f32x4.mul(a, ld(p, 2))); c3 = f32x4.add(c3, f32x4.mul(a, ld(p, 3)));
    c4 = f32x4.add(c4, f32x4.mul(a2, ld(p, 0))); c5 = f32x4.add(c5, f32x4.mul(a2, ld(p, 1))); c6 = f32x4.add(c6, f32x4.mul(a2, ld(p, 2))); c7 = f32x4.add(c7, f32x4.mul(a2, ld(p, 3)));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

/** i16 dot product (baseline SIMD): 8 MACs into i32 lanes, plus an add to accumulate. */
export function i16Dot(buf: usize, iters: i32): i32 {
  const a = v128.load(buf + 128), a2 = v128.load(buf + 144);
  let c0 = i32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    const p = buf + (<usize>(i & 7) << 4);
    c0 = i32x4.add(c0, i32x4.dot_i16x8_s(a, ld(p, 0))); c1 = i32x4.add(c1, i32x4.dot_i16x8_s(a, ld(p, 1)));
    c2 = i32x4.add(c2, i32x4.dot_i16x8_s(a, ld(p, 2))); c3 = i32x4.add(c3, i32x4.dot_i16x8_s(a, ld(p, 3)));
    c4 = i32x4.add(c4, i32x4.dot_i16x8_s(a2, ld(p, 0))); c5 = i32x4.add(c5, i32x4.dot_i16x8_s(a2, ld(p, 1)));
    c6 = i32x4.add(c6, i32x4.dot_i16x8_s(a2, ld(p, 2))); c7 = i32x4.add(c7, i32x4.dot_i16x8_s(a2, ld(p, 3)));
  }
  const s = i32x4.add(i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)), i32x4.add(i32x4.add(c4, c5), i32x4.add(c6, c7)));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}

/** i8 × i7 dot product accumulated into i32 (relaxed SIMD): 16 MACs an instruction. */
export function i8DotAdd(buf: usize, iters: i32): i32 {
  const a = v128.load(buf + 128), a2 = v128.load(buf + 144);
  let c0 = i32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    const p = buf + (<usize>(i & 7) << 4);
    c0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(ld(p, 0), a, c0); c1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(ld(p, 1), a, c1);
    c2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(ld(p, 2), a, c2); c3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(ld(p, 3), a, c3);
    c4 = i32x4.relaxed_dot_i8x16_i7x16_add_s(ld(p, 0), a2, c4); c5 = i32x4.relaxed_dot_i8x16_i7x16_add_s(ld(p, 1), a2, c5);
    c6 = i32x4.relaxed_dot_i8x16_i7x16_add_s(ld(p, 2), a2, c6); c7 = i32x4.relaxed_dot_i8x16_i7x16_add_s(ld(p, 3), a2, c7);
  }
  const s = i32x4.add(i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)), i32x4.add(i32x4.add(c4, c5), i32x4.add(c6, c7)));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}

/** i8 × i7 products summed in pairs to i16 (relaxed), then one i16 dot into i32: 16 MACs per two instructions and an add. */
export function i8DotI16(buf: usize, iters: i32): i32 {
  const a = v128.load(buf + 128), a2 = v128.load(buf + 144), one = i16x8.splat(1);
  let c0 = i32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    const p = buf + (<usize>(i & 7) << 4);
    c0 = i32x4.add(c0, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 0), a), one)); c1 = i32x4.add(c1, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 1), a), one));
    c2 = i32x4.add(c2, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 2), a), one)); c3 = i32x4.add(c3, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 3), a), one));
    c4 = i32x4.add(c4, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 0), a2), one)); c5 = i32x4.add(c5, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 1), a2), one));
    c6 = i32x4.add(c6, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 2), a2), one)); c7 = i32x4.add(c7, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 3), a2), one));
  }
  const s = i32x4.add(i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)), i32x4.add(i32x4.add(c4, c5), i32x4.add(c6, c7)));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}

/**
 * i8 × i7 products summed in pairs to i16 and accumulated in i16 (relaxed): 16 MACs per instruction and an add.
 * What the 4-bit kernels do inside a block (the sums fit i16 for a 32-element block), widening once per block.
 */
export function i8DotAddI16(buf: usize, iters: i32): i32 {
  const a = v128.load(buf + 128), a2 = v128.load(buf + 144);
  let c0 = i16x8.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    const p = buf + (<usize>(i & 7) << 4);
    c0 = i16x8.add(c0, i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 0), a)); c1 = i16x8.add(c1, i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 1), a));
    c2 = i16x8.add(c2, i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 2), a)); c3 = i16x8.add(c3, i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 3), a));
    c4 = i16x8.add(c4, i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 0), a2)); c5 = i16x8.add(c5, i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 1), a2));
    c6 = i16x8.add(c6, i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 2), a2)); c7 = i16x8.add(c7, i16x8.relaxed_dot_i8x16_i7x16_s(ld(p, 3), a2));
  }
  const s = i16x8.add(i16x8.add(i16x8.add(c0, c1), i16x8.add(c2, c3)), i16x8.add(i16x8.add(c4, c5), i16x8.add(c6, c7)));
  return i16x8.extract_lane_s(s, 0) + i16x8.extract_lane_s(s, 1);
}
