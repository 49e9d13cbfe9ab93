/**
 * f16 → f32 by table, for the K-quant super-block scales (d, dmin) that products convert once per 256
 * weights: one load instead of f16ToF32's masks, shifts and branches, which cost about 4% of a one-token
 * Q4_K product. The table holds the 65536 f32 values f16ToF32 gives (so it is exact for every pattern,
 * subnormals, infinities and NaNs included) and sits just above the module's static data: heapBase() starts
 * the JS allocator after it, the main thread fills it once (initF16Table) before any product, and every
 * instance on the shared memory (the pool's workers) reads the same bytes.
 */

import { f16ToF32 } from "./simd";

const F16_TABLE_BYTES: usize = 65536 << 2;

@inline function f16Table(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

/** First byte past the module's static data and the table: the JS allocator starts above it. */
export function heapBase(): usize {
  return f16Table() + F16_TABLE_BYTES;
}

/** Fills the table (the memory must reach heapBase()). */
export function initF16Table(): void {
  const t = f16Table();
  for (let h: u32 = 0; h < 65536; h++) store<f32>(t + (<usize>h << 2), f16ToF32(h));
}

/** The f32 value of the f16 bits h, as f16ToF32(h). */
@inline export function f16Lookup(h: u32): f32 {
  return load<f32>(f16Table() + (<usize>h << 2));
}
