// AssemblyScript: the best instruction sequence WebAssembly offers for each inner product, in a loop that
// keeps eight independent accumulators busy (so latency hides and only the instruction's throughput counts)
// on operands already in registers (no loads: this is the compute roof, not the memory one). Each function
// returns its accumulators summed, so the optimiser cannot drop the work. Compiled by bench/roofline.ts.

/** f32 fused multiply-add (relaxed SIMD): 4 MACs an instruction. */
export function f32Fma(a0: f32, b0: f32, iters: i32): f32 {
  const a = f32x4.splat(a0), b = f32x4.splat(b0);
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    c0 = f32x4.relaxed_madd(a, b, c0); c1 = f32x4.relaxed_madd(a, b, c1); c2 = f32x4.relaxed_madd(a, b, c2); c3 = f32x4.relaxed_madd(a, b, c3);
    c4 = f32x4.relaxed_madd(a, b, c4); c5 = f32x4.relaxed_madd(a, b, c5); c6 = f32x4.relaxed_madd(a, b, c6); c7 = f32x4.relaxed_madd(a, b, c7);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

/** f32 multiply then add (baseline SIMD): 4 MACs per pair of instructions. */
export function f32MulAdd(a0: f32, b0: f32, iters: i32): f32 {
  const a = f32x4.splat(a0), b = f32x4.splat(b0);
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    c0 = f32x4.add(c0, f32x4.mul(a, b)); c1 = f32x4.add(c1, f32x4.mul(a, b)); c2 = f32x4.add(c2, f32x4.mul(a, b)); c3 = f32x4.add(c3, f32x4.mul(a, b));
    c4 = f32x4.add(c4, f32x4.mul(a, b)); c5 = f32x4.add(c5, f32x4.mul(a, b)); c6 = f32x4.add(c6, f32x4.mul(a, b)); c7 = f32x4.add(c7, f32x4.mul(a, b));
  }
  const s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

/** i16 dot product (baseline SIMD): 8 MACs into i32 lanes, plus an add to accumulate. */
export function i16Dot(a0: i16, b0: i16, iters: i32): i32 {
  const a = i16x8.splat(a0), b = i16x8.splat(b0);
  let c0 = i32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    c0 = i32x4.add(c0, i32x4.dot_i16x8_s(a, b)); c1 = i32x4.add(c1, i32x4.dot_i16x8_s(a, b)); c2 = i32x4.add(c2, i32x4.dot_i16x8_s(a, b)); c3 = i32x4.add(c3, i32x4.dot_i16x8_s(a, b));
    c4 = i32x4.add(c4, i32x4.dot_i16x8_s(a, b)); c5 = i32x4.add(c5, i32x4.dot_i16x8_s(a, b)); c6 = i32x4.add(c6, i32x4.dot_i16x8_s(a, b)); c7 = i32x4.add(c7, i32x4.dot_i16x8_s(a, b));
  }
  const s = i32x4.add(i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)), i32x4.add(i32x4.add(c4, c5), i32x4.add(c6, c7)));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}

/** i8 × i7 dot product accumulated into i32 (relaxed SIMD): 16 MACs an instruction. */
export function i8DotAdd(a0: i8, b0: i8, iters: i32): i32 {
  const a = i8x16.splat(a0), b = i8x16.splat(b0);
  let c0 = i32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    c0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c0); c1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c1);
    c2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c2); c3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c3);
    c4 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c4); c5 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c5);
    c6 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c6); c7 = i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c7);
  }
  const s = i32x4.add(i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)), i32x4.add(i32x4.add(c4, c5), i32x4.add(c6, c7)));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}

/**
 * The pair Peel's 8-bit kernels use: i8 × i7 products summed in pairs to i16 (relaxed), then one i16 dot
 * with the block scales into i32: 16 MACs per two instructions (the second also applies a scale).
 */
export function i8DotI16(a0: i8, b0: i8, iters: i32): i32 {
  const a = i8x16.splat(a0), b = i8x16.splat(b0), one = i16x8.splat(1);
  let c0 = i32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  for (let i = 0; i < iters; i++) {
    c0 = i32x4.add(c0, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, b), one)); c1 = i32x4.add(c1, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, b), one));
    c2 = i32x4.add(c2, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, b), one)); c3 = i32x4.add(c3, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, b), one));
    c4 = i32x4.add(c4, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, b), one)); c5 = i32x4.add(c5, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, b), one));
    c6 = i32x4.add(c6, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, b), one)); c7 = i32x4.add(c7, i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(a, b), one));
  }
  const s = i32x4.add(i32x4.add(i32x4.add(c0, c1), i32x4.add(c2, c3)), i32x4.add(i32x4.add(c4, c5), i32x4.add(c6, c7)));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}
