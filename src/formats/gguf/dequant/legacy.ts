/**
 * Dequantizers for ggml's 32-element "legacy" blocks: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
 * Layouts and formulas: shared/docs/gguf-and-quants.md §5.1–5.3. Each function takes
 * (src, srcOffset bytes at a block boundary, out, outOffset, nElems multiple of 32) and allocates nothing.
 * Products are exact in f64 before the single rounding to f32, so results equal ggml's f32 arithmetic.
 */

import { f16Table } from "../../../tensor/f16.js";

const F16 = f16Table();

function h(src: Uint8Array, o: number): number {
  return F16[(src[o] as number) | ((src[o + 1] as number) << 8)] as number;
}

function u32(src: Uint8Array, o: number): number {
  return ((src[o] as number) | ((src[o + 1] as number) << 8) | ((src[o + 2] as number) << 16) | ((src[o + 3] as number) << 24)) >>> 0;
}

/** 18 bytes: d, qs[16]; x = d·(q−8). */
export function dequantizeQ4_0(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 18, p += 32) {
    const d = h(src, o);
    for (let j = 0; j < 16; j++) {
      const v = src[o + 2 + j] as number;
      out[p + j] = d * ((v & 15) - 8);
      out[p + j + 16] = d * ((v >> 4) - 8);
    }
  }
}

/** 20 bytes: d, m, qs[16]; x = d·q + m. */
export function dequantizeQ4_1(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 20, p += 32) {
    const d = h(src, o);
    const m = h(src, o + 2);
    for (let j = 0; j < 16; j++) {
      const v = src[o + 4 + j] as number;
      out[p + j] = d * (v & 15) + m;
      out[p + j + 16] = d * (v >> 4) + m;
    }
  }
}

/** 22 bytes: d, qh (u32), qs[16]; x = d·(q−16) with the 5th bit from qh. */
export function dequantizeQ5_0(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 22, p += 32) {
    const d = h(src, o);
    const qh = u32(src, o + 2);
    for (let j = 0; j < 16; j++) {
      const v = src[o + 6 + j] as number;
      out[p + j] = d * (((v & 15) | (((qh >>> j) & 1) << 4)) - 16);
      out[p + j + 16] = d * (((v >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16);
    }
  }
}

/** 24 bytes: d, m, qh (u32), qs[16]; x = d·q + m. */
export function dequantizeQ5_1(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 24, p += 32) {
    const d = h(src, o);
    const m = h(src, o + 2);
    const qh = u32(src, o + 4);
    for (let j = 0; j < 16; j++) {
      const v = src[o + 8 + j] as number;
      out[p + j] = d * ((v & 15) | (((qh >>> j) & 1) << 4)) + m;
      out[p + j + 16] = d * ((v >> 4) | (((qh >>> (j + 16)) & 1) << 4)) + m;
    }
  }
}

function dequantizeQ8(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number, blockBytes: number, qsAt: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += blockBytes, p += 32) {
    const d = h(src, o);
    const q = o + qsAt;
    for (let j = 0; j < 32; j++) out[p + j] = d * (((src[q + j] as number) << 24) >> 24);
  }
}

/** 34 bytes: d, qs[32] int8; x = d·q. */
export function dequantizeQ8_0(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  dequantizeQ8(src, srcOffset, out, outOffset, nElems, 34, 2);
}

/** 36 bytes: d, s (= d·Σq, unused here), qs[32] int8; x = d·q. */
export function dequantizeQ8_1(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  dequantizeQ8(src, srcOffset, out, outOffset, nElems, 36, 4);
}
