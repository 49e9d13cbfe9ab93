/**
 * Dequantizers for ggml's non-linear 4-bit types, whose nibbles index a fixed table of 16 signed levels
 * (kvalues_iq4nl, denser near zero, as trained weights are) instead of standing for evenly spaced values:
 * IQ4_NL (32-element blocks, one f16 scale) and IQ4_XS (256-element super-blocks, eight 6-bit sub-block
 * scales). Layouts: shared/docs/gguf-and-quants.md §5.5. Same signature as the other dequantizers; no
 * allocation per call. Products round once, as ggml's f32 arithmetic does.
 */

import { f16Table } from "../../../tensor/f16.js";

const F16 = f16Table();

/** ggml's kvalues_iq4nl: the 16 levels a nibble selects (ggml-quants.c). */
export const IQ4NL_LEVELS: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
const LEVELS = Int8Array.from(IQ4NL_LEVELS);

/** 18 bytes: d (f16), qs[16]: element i in the low nibble of qs[i], element 16 + i in its high nibble. */
export function dequantizeIQ4_NL(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 18, p += 32) {
    const d = F16[(src[o] as number) | ((src[o + 1] as number) << 8)] as number;
    for (let i = 0; i < 16; i++) {
      const q = src[o + 2 + i] as number;
      out[p + i] = d * (LEVELS[q & 15] as number); // 11 × 8 significant bits: exact in f32
      out[p + 16 + i] = d * (LEVELS[q >> 4] as number);
    }
  }
}

/**
 * 136 bytes: d (f16), scales_h (u16: two high bits per sub-block), scales_l[4] (a low nibble per sub-block),
 * qs[128] (sixteen bytes per 32-element sub-block, nibbles as IQ4_NL). Sub-block b's scale is
 * d · (ls − 32) with ls = low nibble | high bits << 4.
 */
export function dequantizeIQ4_XS(src: Uint8Array, srcOffset: number, out: Float32Array, outOffset: number, nElems: number): void {
  for (let o = srcOffset, p = outOffset, end = outOffset + nElems; p < end; o += 136, p += 256) {
    const d = F16[(src[o] as number) | ((src[o + 1] as number) << 8)] as number;
    const scalesH = (src[o + 2] as number) | ((src[o + 3] as number) << 8);
    for (let b = 0; b < 8; b++) {
      const ls = (((src[o + 4 + (b >> 1)] as number) >> (4 * (b & 1))) & 15) | (((scalesH >> (2 * b)) & 3) << 4);
      const dl = d * (ls - 32); // exact in f32 (11 + 6 bits)
      const qs = o + 8 + 16 * b, base = p + 32 * b;
      for (let i = 0; i < 16; i++) {
        const q = src[qs + i] as number;
        out[base + i] = Math.fround(dl * (LEVELS[q & 15] as number)); // up to 25 bits: one f32 rounding
        out[base + 16 + i] = Math.fround(dl * (LEVELS[q >> 4] as number));
      }
    }
  }
}
