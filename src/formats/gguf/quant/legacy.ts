/**
 * File quantizers for the 32-element legacy blocks Q4_0, Q4_1, Q5_0, Q5_1, reproducing gguf-py's
 * reference `quantize` bit for bit (shared/docs/gguf-and-quants.md §5.1–5.3): f32 arithmetic via
 * Math.fround, except Q4_0/Q5_0's scaled value, which gguf-py forms in f64 (as an FMA would) before
 * rounding to f32. Output into a caller-supplied buffer. No importance matrices, no K-quants.
 */

import { writeF16 } from "./activation.js";

const fr = Math.fround;

/** The element with the largest magnitude, keeping its sign (the first one on ties). */
function signedAbsMax(x: Float32Array, start: number): number {
  let amax = 0;
  let max = 0;
  for (let j = start; j < start + 32; j++) {
    const v = x[j] as number;
    if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
  }
  return max;
}

function minMax(x: Float32Array, start: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let j = start; j < start + 32; j++) {
    const v = x[j] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Packs 32 quants (0..15 in the low bits) as ggml nibbles: element j low, element j+16 high. */
function packNibbles(out: Uint8Array, o: number, q: Uint8Array): void {
  for (let j = 0; j < 16; j++) out[o + j] = ((q[j] as number) & 15) | (((q[j + 16] as number) & 15) << 4);
}

/** The 5th bits of 32 quants as a little-endian u32. */
function packHighBits(out: Uint8Array, o: number, q: Uint8Array): void {
  let qh = 0;
  for (let j = 0; j < 32; j++) qh |= (((q[j] as number) >> 4) & 1) << j;
  out[o] = qh & 255;
  out[o + 1] = (qh >>> 8) & 255;
  out[o + 2] = (qh >>> 16) & 255;
  out[o + 3] = (qh >>> 24) & 255;
}

const Q = new Uint8Array(32);

/** Symmetric: d = (signed abs-max)/divisor, q = trunc(f32(x·id + offset)) clipped to 0..qmax; fills Q. */
function symmetric(x: Float32Array, xs: number, divisor: number, offset: number, qmax: number): number {
  const d = fr(signedAbsMax(x, xs) / divisor);
  const id = d === 0 ? 0 : fr(1 / d);
  for (let j = 0; j < 32; j++) Q[j] = Math.min(qmax, Math.max(0, Math.trunc(fr((x[xs + j] as number) * id + offset))));
  return d;
}

/** Asymmetric: d = (max−min)/levels, q = trunc(f32((x−min)·id + 0.5)) clipped; fills Q, returns [d, min]. */
function asymmetric(x: Float32Array, xs: number, levels: number): [number, number] {
  const [min, max] = minMax(x, xs);
  const d = fr(fr(max - min) / levels);
  const id = d === 0 ? 0 : fr(1 / d);
  for (let j = 0; j < 32; j++) Q[j] = Math.min(levels, Math.max(0, Math.trunc(fr(fr(fr((x[xs + j] as number) - min) * id) + 0.5))));
  return [d, min];
}

export function quantizeQ4_0(out: Uint8Array, x: Float32Array, n: number): void {
  for (let b = 0, o = 0; b < n; b += 32, o += 18) {
    writeF16(out, o, symmetric(x, b, -8, 8.5, 15));
    packNibbles(out, o + 2, Q);
  }
}

export function quantizeQ4_1(out: Uint8Array, x: Float32Array, n: number): void {
  for (let b = 0, o = 0; b < n; b += 32, o += 20) {
    const [d, min] = asymmetric(x, b, 15);
    writeF16(out, o, d);
    writeF16(out, o + 2, min);
    packNibbles(out, o + 4, Q);
  }
}

export function quantizeQ5_0(out: Uint8Array, x: Float32Array, n: number): void {
  for (let b = 0, o = 0; b < n; b += 32, o += 22) {
    writeF16(out, o, symmetric(x, b, -16, 16.5, 31));
    packHighBits(out, o + 2, Q);
    packNibbles(out, o + 6, Q);
  }
}

export function quantizeQ5_1(out: Uint8Array, x: Float32Array, n: number): void {
  for (let b = 0, o = 0; b < n; b += 32, o += 24) {
    const [d, min] = asymmetric(x, b, 31);
    writeF16(out, o, d);
    writeF16(out, o + 2, min);
    packHighBits(out, o + 4, Q);
    packNibbles(out, o + 8, Q);
  }
}
