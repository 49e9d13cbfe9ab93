/**
 * Dequantizers for ggml's 256-element "K-quant" super-blocks: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K.
 * Layouts and formulas: shared/docs/gguf-and-quants.md §5.4. Same signature as the legacy ones
 * (src, srcOffset bytes, out, outOffset, nElems multiple of 256); no allocation per call.
 * Every product below is exact in f64 (or rounds exactly once), so results equal ggml's f32 arithmetic.
 */

import { f16Table } from "../../../tensor/f16.js";

const F16 = f16Table();
const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);
/** Per-block decoded scales and mins (module scratch: the functions are synchronous, so sharing is safe). */
const SC = new Int32Array(16);
const MN = new Int32Array(16);

function h(src: Uint8Array, o: number): number {
  return F16[(src[o] as number) | ((src[o + 1] as number) << 8)] as number;
}

/** 84 bytes: scales[16] (scale | min<<4), qs[64], d, dmin. */
export function dequantizeQ2_K(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 84, p += 256) {
    const d = h(src, o + 80);
    const dmin = h(src, o + 82);
    for (let half = 0; half < 2; half++) {
      const qs = o + 16 + 32 * half;
      for (let j = 0; j < 4; j++) {
        const shift = 2 * j;
        for (let g = 0; g < 2; g++) {
          const sc = src[o + 8 * half + 2 * j + g] as number;
          const dl = d * (sc & 15);
          const ml = dmin * (sc >> 4);
          const base = p + 128 * half + 32 * j + 16 * g;
          for (let l = 0; l < 16; l++) out[base + l] = dl * (((src[qs + 16 * g + l] as number) >> shift) & 3) - ml;
        }
      }
    }
  }
}

/** Unpacks Q3_K's sixteen 6-bit scales (bytes 96..107 of the block) into SC, already minus 32. */
function q3kScales(src: Uint8Array, o: number): void {
  for (let s = 0; s < 16; s++) {
    const low4 = s < 8 ? (src[o + s] as number) & 15 : (src[o + s - 8] as number) >> 4;
    const high2 = ((src[o + 8 + (s & 3)] as number) >> (2 * (s >> 2))) & 3;
    SC[s] = (low4 | (high2 << 4)) - 32;
  }
}

/** 110 bytes: hmask[32], qs[64], scales[12], d. */
export function dequantizeQ3_K(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 110, p += 256) {
    const d = h(src, o + 108);
    q3kScales(src, o + 96);
    for (let half = 0; half < 2; half++) {
      const qs = o + 32 + 32 * half;
      for (let j = 0; j < 4; j++) {
        const shift = 2 * j;
        const hbit = 4 * half + j;
        for (let g = 0; g < 2; g++) {
          const dl = d * (SC[8 * half + 2 * j + g] as number);
          const base = p + 128 * half + 32 * j + 16 * g;
          for (let l = 16 * g; l < 16 * g + 16; l++) {
            const q = ((src[qs + l] as number) >> shift) & 3;
            const hb = ((src[o + l] as number) >> hbit) & 1;
            out[base + l - 16 * g] = dl * (q - (hb === 1 ? 0 : 4));
          }
        }
      }
    }
  }
}

/** Unpacks the 6-bit scale/min pairs shared by Q4_K and Q5_K (12 bytes at o) into SC[0..8) and MN[0..8). */
function kScaleMin(src: Uint8Array, o: number): void {
  for (let s = 0; s < 4; s++) {
    SC[s] = (src[o + s] as number) & 63;
    MN[s] = (src[o + s + 4] as number) & 63;
  }
  for (let s = 4; s < 8; s++) {
    SC[s] = ((src[o + s + 4] as number) & 15) | (((src[o + s - 4] as number) >> 6) << 4);
    MN[s] = ((src[o + s + 4] as number) >> 4) | (((src[o + s] as number) >> 6) << 4);
  }
}

/** 144 bytes: d, dmin, scales[12], qs[128]. */
export function dequantizeQ4_K(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 144, p += 256) {
    const d = h(src, o);
    const dmin = h(src, o + 2);
    kScaleMin(src, o + 4);
    for (let c = 0; c < 4; c++) {
      const qs = o + 16 + 32 * c;
      const d1 = d * (SC[2 * c] as number), m1 = dmin * (MN[2 * c] as number);
      const d2 = d * (SC[2 * c + 1] as number), m2 = dmin * (MN[2 * c + 1] as number);
      const base = p + 64 * c;
      for (let l = 0; l < 32; l++) {
        const v = src[qs + l] as number;
        out[base + l] = d1 * (v & 15) - m1;
        out[base + 32 + l] = d2 * (v >> 4) - m2;
      }
    }
  }
}

/** 176 bytes: d, dmin, scales[12], qh[32], qs[128]. */
export function dequantizeQ5_K(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 176, p += 256) {
    const d = h(src, o);
    const dmin = h(src, o + 2);
    kScaleMin(src, o + 4);
    const qh = o + 16;
    for (let c = 0; c < 4; c++) {
      const qs = o + 48 + 32 * c;
      const s1 = 2 * c, s2 = 2 * c + 1;
      const d1 = d * (SC[s1] as number), m1 = dmin * (MN[s1] as number);
      const d2 = d * (SC[s2] as number), m2 = dmin * (MN[s2] as number);
      const base = p + 64 * c;
      for (let l = 0; l < 32; l++) {
        const v = src[qs + l] as number;
        const hb = src[qh + l] as number;
        out[base + l] = d1 * ((v & 15) + (((hb >> s1) & 1) << 4)) - m1;
        out[base + 32 + l] = d2 * ((v >> 4) + (((hb >> s2) & 1) << 4)) - m2;
      }
    }
  }
}

/** 210 bytes: ql[128], qh[64], scales[16] int8, d. */
export function dequantizeQ6_K(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 210, p += 256) {
    const d = h(src, o + 208);
    for (let half = 0; half < 2; half++) {
      const ql = o + 64 * half;
      const qh = o + 128 + 32 * half;
      const sc = o + 192 + 8 * half;
      const base = p + 128 * half;
      for (let l = 0; l < 32; l++) {
        const g = l >> 4;
        const a = src[ql + l] as number;
        const b = src[ql + 32 + l] as number;
        const hb = src[qh + l] as number;
        out[base + l] = d * (((src[sc + g] as number) << 24) >> 24) * (((a & 15) | ((hb & 3) << 4)) - 32);
        out[base + 32 + l] = d * (((src[sc + 2 + g] as number) << 24) >> 24) * (((b & 15) | (((hb >> 2) & 3) << 4)) - 32);
        out[base + 64 + l] = d * (((src[sc + 4 + g] as number) << 24) >> 24) * (((a >> 4) | (((hb >> 4) & 3) << 4)) - 32);
        out[base + 96 + l] = d * (((src[sc + 6 + g] as number) << 24) >> 24) * (((b >> 4) | (((hb >> 6) & 3) << 4)) - 32);
      }
    }
  }
}

/** 292 bytes: d (f32), qs[256] int8, bsums[16] (unused here). */
export function dequantizeQ8_K(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 292, p += 256) {
    scratchU32[0] = (src[o] as number) | ((src[o + 1] as number) << 8) | ((src[o + 2] as number) << 16) | ((src[o + 3] as number) << 24);
    const d = scratchF32[0] as number;
    for (let j = 0; j < 256; j++) out[p + j] = d * (((src[o + 4 + j] as number) << 24) >> 24);
  }
}
