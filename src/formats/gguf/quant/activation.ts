/**
 * The 8-bit quantizers llama.cpp applies to activations before its CPU dot products: Q8_0 (against
 * Q4_0/Q5_0/Q8_0 weights), Q8_1 (against Q4_1/Q5_1) and Q8_K (against the K-quants). They follow ggml's
 * scalar reference rules (shared/docs/gguf-and-quants.md §5.3, §5.4) and write into a caller-supplied
 * buffer: no allocation. (ggml's SIMD paths round Q8_0 ties to even; the reference rounds them away from
 * zero, as here. Differences are at most one step on exact ties.)
 */

import { f32ToF16 } from "../../../tensor/f16.js";

const scratchF32 = new Float32Array(1);
const scratchU8 = new Uint8Array(scratchF32.buffer);
const fr = Math.fround;

/** Round half away from zero (C roundf) of an f32 value. */
export function roundHalfAway(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** Round half to even (ggml's nearest_int) of an f32 value. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // half up
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

export function writeF16(out: Uint8Array, o: number, v: number): void {
  const b = f32ToF16(v);
  out[o] = b & 255;
  out[o + 1] = b >> 8;
}

function amaxOf(x: Float32Array, start: number, n: number): number {
  let amax = 0;
  for (let j = start; j < start + n; j++) amax = Math.max(amax, Math.abs(x[j] as number));
  return amax;
}

/**
 * One 32-value block of Q8_0/Q8_1: d = amax/127 as f16 at out[o], the 32 rounded quants x·(1/d) at
 * out[qs..qs+31]; returns d (f32) and Σq, which Q8_1 stores as s = d·Σq.
 */
function quantizeBlock8(out: Uint8Array, x: Float32Array, xs: number, o: number, qs: number): [number, number] {
  const d = fr(amaxOf(x, xs, 32) / 127);
  const id = d === 0 ? 0 : fr(1 / d);
  writeF16(out, o, d);
  let sum = 0;
  for (let j = 0; j < 32; j++) {
    const q = roundHalfAway(fr((x[xs + j] as number) * id));
    out[qs + j] = q & 255;
    sum += q;
  }
  return [d, sum];
}

/** out (n/32 blocks × 34 bytes) = Q8_0 of x[xOffset .. xOffset+n); n a multiple of 32. */
export function quantizeQ8_0(out: Uint8Array, x: Float32Array, n: number, xOffset = 0, outOffset = 0): void {
  for (let b = 0; b < n / 32; b++) {
    const o = outOffset + 34 * b;
    quantizeBlock8(out, x, xOffset + 32 * b, o, o + 2);
  }
}

/** out (n/32 blocks × 36 bytes) = Q8_1 of x: like Q8_0 plus s = d·Σq (f16). */
export function quantizeQ8_1(out: Uint8Array, x: Float32Array, n: number, xOffset = 0, outOffset = 0): void {
  for (let b = 0; b < n / 32; b++) {
    const o = outOffset + 36 * b;
    const [d, sum] = quantizeBlock8(out, x, xOffset + 32 * b, o, o + 4);
    writeF16(out, o + 2, fr(sum * d));
  }
}

/** out (n/256 blocks × 292 bytes) = Q8_K of x: f32 d, 256 int8, 16 int16 group sums; n a multiple of 256. */
export function quantizeQ8_K(out: Uint8Array, x: Float32Array, n: number, xOffset = 0, outOffset = 0): void {
  for (let b = 0; b < n / 256; b++) {
    const xs = xOffset + 256 * b;
    const o = outOffset + 292 * b;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 256; j++) {
      const v = x[xs + j] as number;
      if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
    }
    if (amax === 0) {
      out.fill(0, o, o + 292);
      continue;
    }
    const iscale = fr(-127 / max);
    for (let g = 0; g < 16; g++) {
      let sum = 0;
      for (let j = 16 * g; j < 16 * g + 16; j++) {
        const q = Math.min(127, roundHalfEven(fr(iscale * (x[xs + j] as number))));
        out[o + 4 + j] = q & 255;
        sum += q;
      }
      out[o + 260 + 2 * g] = sum & 255;
      out[o + 261 + 2 * g] = (sum >> 8) & 255;
    }
    scratchF32[0] = 1 / iscale;
    out.set(scratchU8, o);
  }
}
