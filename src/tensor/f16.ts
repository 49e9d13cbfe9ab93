/**
 * Scalar conversions between f32 and the 16-bit float formats (IEEE binary16 and bfloat16).
 * f16→f32 uses a 65536-entry table built once; f32→f16 rounds to nearest even like the C conversion in ggml.
 */

const F16_TABLE = buildF16Table();

function buildF16Table(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = f16BitsToF32Slow(h);
  return table;
}

function f16BitsToF32Slow(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // subnormal: 2^-14 * m/1024
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** The exact f32 value of an f16 bit pattern. */
export function f16ToF32(bits: number): number {
  return F16_TABLE[bits & 0xffff] as number;
}

/** The f16 table itself, for hot loops that want to index it directly. */
export function f16Table(): Float32Array {
  return F16_TABLE;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Rounds an f32 to the nearest f16 (ties to even), returning the 16-bit pattern. Overflow → ±Inf. */
export function f32ToF16(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Inf / NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero
    mant |= 0x800000; // implicit leading one
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rest > half || (rest === half && (r & 1) === 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) r++; // may carry into the exponent: correct
  return sign | r;
}

/** Rounds an f32 through f16 and back: the value llama.cpp sees after an f16 conversion. */
export function roundToF16(value: number): number {
  return f16ToF32(f32ToF16(value));
}

/** The exact f32 value of a bfloat16 bit pattern (the top half of an f32). */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0] as number;
}

/** Rounds an f32 to bfloat16 (nearest even; NaN stays a quiet NaN), returning the 16-bit pattern. */
export function f32ToBf16(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0] as number;
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + (0x7fff + ((x >>> 16) & 1))) >>> 16) & 0xffff;
}
